/**
 * How a `fdx bench` result reads to a person: the live progress line (rate, p50/p99, errors,
 * elapsed/remaining) and the final table (HDR percentiles p50 to p99.99 and max, throughput,
 * errors by kind, the generator's own CPU with a warning when it was the bottleneck).
 * Must not: write anywhere (the command prints what these return), or compute results.
 */
import { SATURATED_CPU, type BenchResult, type Progress } from './bench-run.js';
import { PERCENTILES, type LatencySummary } from './latency-histogram.js';

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Microseconds as milliseconds with three decimals, or '-' when there is no value. */
export function ms(us: number | null | undefined): string {
  return us === null || us === undefined ? '-' : (us / 1000).toFixed(3);
}

const percent = (share: number): string => `${Math.round(share * 100)}%`;

/** One line, rewritten in place on a terminal while the run goes. */
export function progressLine(scenario: string, { phase, point, elapsedS, totalS }: Progress): string {
  const clock = `${elapsedS.toFixed(0)}/${totalS.toFixed(0)} s`;
  if (phase === 'connecting' || point === null) return `[${scenario}] connecting...`;
  const label = phase === 'warmup' ? 'warm-up' : 'measuring';
  return [
    `[${scenario}] ${label} ${clock} (${Math.max(0, totalS - elapsedS).toFixed(0)} s left)`,
    `${count(point.messagesPerSec)}/s`,
    `p50 ${ms(point.p50Us)} ms`,
    `p99 ${ms(point.p99Us)} ms`,
    `errors ${point.errors}`,
    `open ${count(point.open)}`,
    `cpu ${percent(point.cpu)}`,
  ].join('  ');
}

function latencyRows(summary: LatencySummary): string[] {
  const rows = PERCENTILES.map(({ key, label }) => [label, ms(summary[key])]);
  rows.push(['max', ms(summary.maxUs)], ['mean', ms(summary.meanUs)]);
  return rows.map(([label, value]) => `  ${label!.padEnd(8)} ${value!.padStart(12)} ms`);
}

/** The final report as text. */
export function resultTable(result: BenchResult): string {
  const { options: o, connections: c, throughput: t } = result;
  const lines = [
    `fdx bench ${result.scenario} ${result.url}`,
    `  ${count(o.connections)} connections, ${result.measuredS.toFixed(1)} s measured after ${o.warmupS} s warm-up, ${o.workers} worker${o.workers === 1 ? '' : 's'}` +
      (o.sourceAddresses.length > 0 ? `, from ${o.sourceAddresses.join(', ')}` : ''),
    '',
    result.scenario === 'connect'
      ? `Connections: ${count(o.connections)} loops opened and closed ${count(result.latency.samples)} in the measured window`
      : `Connections: ${count(c.opened)} opened, ${count(c.failed)} failed` +
        (c.handshakesPerSec !== null ? `, ${count(c.handshakesPerSec)} handshakes/s, handshake p50 ${ms(c.handshake.p50Us)} ms p99 ${ms(c.handshake.p99Us)} ms` : ''),
  ];
  if (result.held !== undefined) lines.push(`Held: ${count(result.held)} of ${count(c.opened)} answered a ping at the end`);
  if (result.scenario === 'connect') lines.push(`Throughput: ${count(t.messagesPerSec)} connections/s (opened and closed)`);
  else if (t.publicationsPerSec !== undefined) {
    lines.push(`Throughput: ${count(t.publicationsPerSec)} publications/s, ${count(t.messagesPerSec)} deliveries/s (${t.deliveriesPerPublication ?? '-'} per publication)`);
  } else if (result.scenario !== 'hold') lines.push(`Throughput: ${count(t.messagesPerSec)} messages/s received, ${count(t.sentPerSec)}/s sent`);
  lines.push('', `Latency from ${result.latencyFrom}: ${count(result.latency.samples)} samples (HDR histogram, 3 significant digits)`);
  if (result.uncorrectedLatency) {
    const u = result.uncorrectedLatency;
    lines.push(`  ${''.padEnd(8)} ${'corrected'.padStart(12)}    ${'from actual send'.padStart(16)}`);
    const corrected = latencyRows(result.latency);
    const raw = latencyRows(u).map((row) => row.slice(10).trim());
    lines.push(...corrected.map((row, i) => `${row} ${raw[i]!.padStart(16)}`));
  } else {
    lines.push(...latencyRows(result.latency));
  }
  lines.push('');
  const kinds = Object.entries(result.errors.byKind);
  if (result.errors.total === 0) lines.push('Errors: none');
  else {
    lines.push(`Errors: ${count(result.errors.total)} (${kinds.map(([k, n]) => `${k} ${count(n)}`).join(', ')})`);
    for (const sample of result.errors.samples) lines.push(`  ${sample}`);
  }
  const g = result.generator;
  lines.push(
    `Generator CPU: ${g.cpuPerWorker.map(percent).join(', ')} of a core (${g.workers} worker${g.workers === 1 ? '' : 's'}, ${percent(g.cpuTotal)} in all)`,
  );
  if (g.saturated) lines.push(`  A worker was above ${percent(SATURATED_CPU)}: the generator, not the server, may be the limit; add --workers.`);
  return lines.join('\n');
}
