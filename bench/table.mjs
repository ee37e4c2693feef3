#!/usr/bin/env node
// Makes the README's benchmark section from a results file, between the markers
// <!-- bench:start --> and <!-- bench:end -->.
//   node bench/table.mjs [results.json] [--print]   (default: bench/results/latest.json;
//   --print writes the section to stdout instead of README.md)
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REFERENCES } from './lib/summary.mjs';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const rootDir = join(benchDir, '..');
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';
const ORDER = ['fullduplex', 'ws', 'uws', 'bun', 'raw', 'raw-bytes', 'realtime', 'topics', 'socketio'];

function number(value) {
  if (value === null || value === undefined) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return String(value);
}

function ratio(value) {
  return value === null || value === undefined ? '—' : `${value.toFixed(2)}×`;
}

function percent(value) {
  return value === null || value === undefined ? '—' : `${Math.round(value * 100)}%`;
}

function scenarioTable(scenario, names) {
  const references = scenario.references ?? REFERENCES;
  const head = ['server'];
  for (const metric of scenario.metrics) {
    head.push(metric.label);
    if (metric.compare) head.push(...references.map((r) => r.label));
  }
  head.push('CPU server / generator / other', 'errors');
  const align = head.map((_, i) => (i === 0 ? '---' : '---:'));
  const rows = [];
  const ids = Object.keys(scenario.results).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  for (const id of ids) {
    const { median, ratios } = scenario.results[id];
    const okRounds = median.rounds - median.failedRounds;
    if (okRounds === 0) {
      const error = scenario.results[id].rounds.find((r) => r.failed)?.error ?? 'failed';
      rows.push([names[id], `failed: ${error.replace(/\|/g, '/').slice(0, 120)}`, ...head.slice(2).map(() => '')]);
      continue;
    }
    const row = [names[id]];
    for (const metric of scenario.metrics) {
      row.push(number(median[metric.key]));
      if (metric.compare) row.push(...references.map((r) => ratio(ratios?.[r.key]?.[metric.key])));
    }
    const kernel = median.serverKernelShare == null ? '' : ` (${percent(median.serverKernelShare)} kernel)`;
    row.push(`${percent(median.serverCpu)}${kernel} / ${percent(median.generatorCpu)} / ${percent(median.otherCpu)}`, String(median.errors ?? 0));
    rows.push(row);
  }
  const lines = [head, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`);
  const notes = (scenario.excluded ?? []).map((e) => `${names[e.id]}: not run (${e.reason}).`);
  return [`**${scenario.title}** — ${scenario.what}`, '', ...lines, ...(notes.length ? ['', notes.join(' ')] : [])].join('\n');
}

export function renderSection(results, resultsPath = 'bench/results/latest.json') {
  const { machine: m, versions: v, timing } = results;
  const names = results.implementations;
  const date = results.startedAt.slice(0, 10);
  const pinning = m.pinning ? `server processes on ${m.pinning.server}, load generators on ${m.pinning.generators}` : 'no CPU pinning';
  const lines = [
    `Measured by \`${results.command}\` on ${date}: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, Bun ${m.bun ?? '—'}; ${pinning}; load average ${m.loadAverageAtStart.join(' ')} at the start.`,
    `Versions: fullduplex ${v.fullduplex}, ws ${v.ws}${v.wsNativeAddons.length ? ` (with ${v.wsNativeAddons.join(', ')})` : ''}, uWebSockets.js ${v.uws} (native), Bun ${v.bun}${v.socketIo ? `, socket.io ${v.socketIo}` : ''}. ${timing.rounds === 1 ? 'One round' : `Median of ${timing.rounds} rounds`} (capacity scenarios: ${timing.capacityRounds === 1 ? 'one round' : `${timing.capacityRounds} rounds`}), implementations interleaved; ${timing.warmupMs} ms warm-up, ${timing.measureMs} ms measured.`,
    `"× ws" and "× uWS" divide by ws's and uWebSockets.js's median in the same run${results.scenarios.some((s) => s.references) ? ' ("× topics" and "× socket.io", in the channel scenario, by those of plain topics and socket.io)' : ''}. CPU is the share of one core used by the server processes, by the load generators, and by everything else on the machine during the measured window (for idle connections: while connecting), with the share of the server's CPU time spent in the kernel (system time: socket reads and writes); a generator near 100% means the number shows the generator's limit, not the server's, and "other" above a few percent means the machine was not quiet.`,
    `Data: \`${resultsPath}\`; this section is made from it by \`node bench/table.mjs\`.`,
    '',
  ];
  if (Object.keys(results.skipped ?? {}).length) {
    lines.push(`Not run: ${Object.entries(results.skipped).map(([id, why]) => `${names[id]} (${why})`).join('; ')}.`, '');
  }
  for (const scenario of results.scenarios) lines.push(scenarioTable(scenario, names), '');
  lines.push(
    'Capacity: the Node servers (fullduplex, ws, the node:net floors) run several processes with the cluster module; uWebSockets.js and Bun run separate processes on one port with SO_REUSEPORT.',
  );
  return lines.join('\n');
}

export function updateReadme(readmePath, results, resultsPath) {
  const readme = readFileSync(readmePath, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${readmePath} has no ${START} ... ${END} section`);
  const section = renderSection(results, resultsPath);
  writeFileSync(readmePath, `${readme.slice(0, start + START.length)}\n${section}\n${readme.slice(end)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const print = args.includes('--print');
  const file = args.find((a) => !a.startsWith('--')) ?? join(benchDir, 'results', 'latest.json');
  const results = JSON.parse(readFileSync(file, 'utf8'));
  if (print) console.log(renderSection(results, relative(rootDir, file)));
  else {
    updateReadme(join(rootDir, 'README.md'), results, relative(rootDir, file));
    console.log(`README.md: benchmark section made from ${relative(rootDir, file)}`);
  }
}
