#!/usr/bin/env node
// The benchmark suite: fullduplex beside ws, uWebSockets.js, Bun and two raw node:net floors (one
// that frames, one that echoes bytes), in one run, implementations interleaved, each scenario repeated; medians and ratios to ws and
// uWS go to bench/results/*.json, and the README table is made from that JSON. The channel
// scenario compares the real-time layer (fullduplex/realtime) with plain topics and socket.io,
// each speaking its own protocol, with ratios to those two. The presence storms have N members
// join one channel of the real-time layer and report what it cost against a broadcast per join.
//
//   node bench/run.mjs [--smoke] [--prepare] [--rounds N] [--only fullduplex,ws]
//                      [--scenarios echo-text-32,...] [--out FILE] [--no-readme]
//                      [--cpu-prof DIR]
//
// --prepare installs bench/ dependencies when any is missing and builds dist/ first.
// --smoke runs every scenario once, small and short, writes bench/results/smoke.tmp.json
// and leaves the README alone. --cpu-prof writes V8 CPU profiles of the Node servers and the
// load generators into DIR (open them in Chrome DevTools).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cpuOf, freePort, kernelCpuOf, hasTaskset, machineBusySeconds, startGenerator, startServer } from './lib/processes.mjs';
import { FULL_TIMING, SMOKE_TIMING, scenarioList } from './lib/scenarios.mjs';
import { mergeLatency, ratios, round, summarizeRounds } from './lib/summary.mjs';
import { updateReadme } from './table.mjs';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const rootDir = join(benchDir, '..');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function parseArgs(argv) {
  const options = { smoke: false, prepare: false, readme: true, rounds: null, only: null, scenarios: null, out: null, cpuProf: null };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--smoke') options.smoke = true;
    else if (arg === '--prepare') options.prepare = true;
    else if (arg === '--no-readme') options.readme = false;
    else if (arg === '--rounds') options.rounds = Number(argv[++i]);
    else if (arg === '--only') options.only = argv[++i].split(',');
    else if (arg === '--scenarios') options.scenarios = argv[++i].split(',');
    else if (arg === '--out') options.out = argv[++i];
    else if (arg === '--cpu-prof') options.cpuProf = argv[++i];
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal})`);
}

/** Installs bench/ from its lock file when any of its packages is missing (a new one was added). */
function prepare() {
  const wanted = Object.keys(JSON.parse(readFileSync(join(benchDir, 'package.json'), 'utf8')).devDependencies ?? {});
  if (wanted.some((name) => packageVersion(name) === null)) run('npm', ['ci', '--no-audit', '--no-fund'], benchDir);
  run('npm', ['run', 'build', '--silent'], rootDir);
}

const bunPath = join(benchDir, 'node_modules', '.bin', 'bun');

// group: which scenarios an implementation runs (a scenario names its group; the default is
// 'websocket'). only: the load kinds it runs, when not all of them (a byte echo runs the echo
// scenarios). maskedReplies: it sends the client's masked frames back, so the load generator
// counts them without reporting a protocol error. wire: the protocol the load generator speaks
// to it in the channel scenario (src/loadgen/wires.ts).
const IMPLEMENTATIONS = [
  { id: 'fullduplex', label: 'fullduplex', command: process.execPath, args: ['--expose-gc', 'servers/fullduplex.mjs'], multi: 'cluster', deflate: true },
  { id: 'ws', label: 'ws', command: process.execPath, args: ['--expose-gc', 'servers/ws.mjs'], multi: 'cluster', deflate: true },
  { id: 'uws', label: 'uWebSockets.js', command: process.execPath, args: ['--expose-gc', 'servers/uws.mjs'], multi: 'reuseport', reusePortArgs: [], deflate: true },
  { id: 'bun', label: 'Bun', command: bunPath, args: ['servers/bun.mjs'], multi: 'reuseport', reusePortArgs: ['--reuse-port'], deflate: true },
  { id: 'raw', label: 'node:net floor', command: process.execPath, args: ['--expose-gc', 'servers/raw.mjs'], multi: 'cluster', deflate: false },
  { id: 'raw-bytes', label: 'node:net byte echo', only: ['echo'], maskedReplies: true, command: process.execPath, args: ['--expose-gc', 'servers/raw-bytes.mjs'], multi: 'cluster', deflate: false },
  { id: 'realtime', label: 'fullduplex/realtime', group: 'channel', wire: 'fdx', command: process.execPath, args: ['--expose-gc', 'servers/realtime.mjs'], multi: 'cluster', deflate: false },
  { id: 'topics', label: 'fullduplex topics', group: 'channel', wire: 'topics', command: process.execPath, args: ['--expose-gc', 'servers/fullduplex.mjs'], multi: 'cluster', deflate: false },
  { id: 'presence', label: 'fullduplex/realtime presence', group: 'presence', command: process.execPath, args: ['--expose-gc', 'servers/realtime.mjs'], multi: 'cluster', deflate: false },
  { id: 'socketio', label: 'socket.io', group: 'channel', wire: 'socketio', command: process.execPath, args: ['--expose-gc', 'servers/socketio.mjs'], multi: 'cluster', deflate: false },
];
const groupOf = (item) => item.group ?? 'websocket';
/** Whether `impl` runs `scenario`: its group, and its load kind where the implementation names some. */
const runs = (impl, scenario) => groupOf(impl) === groupOf(scenario) && (!impl.only || impl.only.includes(scenario.load?.kind));

const requireBench = createRequire(join(benchDir, 'package.json'));

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(benchDir, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** Why an implementation cannot run here, or null. */
function unavailable(impl) {
  if ((impl.id === 'fullduplex' || impl.id === 'topics') && !existsSync(join(rootDir, 'dist', 'index.js'))) return 'dist/ is not built (npm run build)';
  if ((impl.id === 'realtime' || impl.id === 'presence') && !existsSync(join(rootDir, 'dist', 'realtime.js'))) return 'dist/ is not built (npm run build)';
  if (impl.id === 'socketio' && packageVersion('socket.io') === null) return 'socket.io is not installed in bench/';
  if (impl.id === 'bun') {
    const probe = spawnSync(bunPath, ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) return `the bun binary does not run (${(probe.stderr || probe.error?.message || '').trim()})`;
  }
  if (impl.id === 'uws') {
    const binary = `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
    const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(binary)})`], { cwd: benchDir, encoding: 'utf8' });
    if (probe.status !== 0) return `no native uWS binary for this Node (${binary})`;
  }
  if (impl.id === 'ws' && packageVersion('ws') === null) return 'ws is not installed in bench/';
  return null;
}

function git(...args) {
  const result = spawnSync('git', args, { cwd: rootDir, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

function machine(pinning) {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    bun: spawnSync(bunPath, ['--version'], { encoding: 'utf8' }).stdout?.trim() || null,
    maxOpenFiles: Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim()) || null,
    pinning,
    loadAverageAtStart: os.loadavg().map((v) => Number(v.toFixed(2))),
  };
}

function versions() {
  const own = JSON.parse(readFileSync(join(rootDir, 'package.json'), 'utf8')).version;
  const commit = git('rev-parse', '--short', 'HEAD');
  const dirty = (git('status', '--porcelain', '--', 'src') ?? '').length > 0;
  let wsAddons = [];
  try {
    requireBench.resolve('bufferutil', { paths: [join(benchDir, 'node_modules', 'ws')] });
    wsAddons = ['bufferutil'];
  } catch {}
  return {
    fullduplex: `${own}${commit ? ` (${commit}${dirty ? ', src modified' : ''})` : ''}`,
    ws: packageVersion('ws'),
    wsNativeAddons: wsAddons,
    uws: packageVersion('@trufflesuite/uws-js-unofficial'),
    bun: packageVersion('bun'),
    socketIo: packageVersion('socket.io'),
  };
}

function commandLine() {
  const event = process.env.npm_lifecycle_event;
  const args = process.argv.slice(2);
  if (event === 'bench' || event === 'bench:smoke') {
    const scripted = (process.env.npm_lifecycle_script ?? '').split(/\s+/);
    const extra = args.filter((a) => !scripted.includes(a));
    return `npm run ${event}${extra.length ? ` -- ${extra.join(' ')}` : ''}`;
  }
  return `node bench/run.mjs${args.length ? ` ${args.join(' ')}` : ''}`;
}

function split(total, parts) {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

let runCounter = 0;

/** One implementation, one scenario, one round: a fresh server and fresh generators. */
async function runOnce(scenario, impl, timing, cpus, nodeFlags) {
  runCounter += 1;
  const port = await freePort();
  const server = await startServer(impl.command === process.execPath ? { ...impl, args: [...nodeFlags, ...impl.args] } : impl, {
    port,
    mode: scenario.mode,
    deflate: scenario.deflate,
    processes: scenario.serverProcesses ?? 1,
    cpu: cpus.server,
  });
  const generators = [];
  try {
    const base = scenario.kind === 'idle' ? await server.stats() : null;
    const count = scenario.generators ?? 1;
    for (let g = 0; g < count; g += 1) generators.push(startGenerator(cpus.generator, nodeFlags));
    const genPids = generators.map((g) => g.pid);
    const snapshot = () => ({
      t: performance.now(),
      server: cpuOf(server.pids),
      serverKernel: kernelCpuOf(server.pids),
      generator: cpuOf(genPids),
      machine: machineBusySeconds(),
    });
    const cpuShare = (a, b) => {
      const seconds = (b.t - a.t) / 1000;
      const serverCpu = (b.server - a.server) / seconds;
      const generatorCpu = (b.generator - a.generator) / seconds;
      const otherCpu = Math.max(0, (b.machine - a.machine) / seconds - serverCpu - generatorCpu);
      const serverSeconds = b.server - a.server;
      // The share of the server's CPU time spent in the kernel (system calls: socket reads and writes).
      const serverKernelShare = serverSeconds > 0 ? round((b.serverKernel - a.serverKernel) / serverSeconds) : null;
      return { serverCpu: round(serverCpu), serverKernelShare, generatorCpu: round(generatorCpu), otherCpu: round(otherCpu) };
    };

    // Fresh source addresses for every run: no port of an earlier run is still in use.
    const net = (runCounter % 250) + 1;
    if (scenario.kind === 'storm') return await runStorm(scenario, generators[0], port, net, snapshot, cpuShare, server);
    const shares = split(scenario.connections, count);
    const concurrency = Math.ceil((scenario.concurrency ?? 64) / count);
    const connectTimeout = 60_000 + scenario.connections * 10;
    const before = snapshot();
    const connected = await Promise.all(
      generators.map((gen, g) =>
        gen.call(
          {
            type: 'connect',
            host: '127.0.0.1',
            port,
            count: shares[g],
            concurrency,
            localAddresses: [`127.${net}.${g + 1}.1`, `127.${net}.${g + 1}.2`],
            deflate: scenario.deflate,
            ...(impl.maskedReplies ? { maskedReplies: true } : {}),
            // The channel scenario: the server's protocol; the first generator's first connection publishes.
            ...(impl.wire ? { wire: impl.wire, channel: scenario.load.channel, publisher: g === 0 } : {}),
          },
          connectTimeout,
        ),
      ),
    );
    const afterConnect = snapshot();
    const opened = connected.reduce((s, c) => s + c.opened, 0);
    const failed = connected.reduce((s, c) => s + c.failed, 0);
    const connectMs = Math.max(...connected.map((c) => c.elapsedMs));
    let result;

    if (scenario.kind === 'idle') {
      await sleep(timing.settleMs);
      const stats = await server.stats();
      const verified = await Promise.all(generators.map((gen) => gen.call({ type: 'verify', timeoutMs: 20_000 + scenario.connections }, 120_000)));
      const held = verified.reduce((s, v) => s + v.answered, 0);
      result = {
        opened,
        failed,
        held,
        serverConnections: stats.connections,
        handshakesPerSec: round(opened / (connectMs / 1000)),
        acceptMs: round(connectMs),
        rssPerConnKiB: opened > 0 ? round((stats.rss - base.rss) / 1024 / opened) : null,
        heapPerConnKiB: opened > 0 ? round((stats.heapUsed - base.heapUsed) / 1024 / opened) : null,
        serverRssMiB: round(stats.rss / 2 ** 20),
        ...cpuShare(before, afterConnect),
      };
      result.serverCpuUs = opened > 0 ? round((result.serverCpu * connectMs * 1000) / opened) : null;
    } else {
      if (failed > 0) throw new Error(`${failed} of ${scenario.connections} connections failed`);
      await Promise.all(generators.map((gen) => gen.call({ type: 'start', load: scenario.load })));
      await sleep(timing.warmupMs);
      await Promise.all(generators.map((gen) => gen.call({ type: 'measure' })));
      const start = snapshot();
      await sleep(timing.measureMs);
      const reports = await Promise.all(
        generators.map((gen) =>
          gen.call({ type: 'report', minCompleted: scenario.minCompleted ?? 0, maxWaitMs: scenario.maxWaitMs ?? 20_000 }, 180_000),
        ),
      );
      const end = snapshot();
      const seconds = Math.max(...reports.map((r) => r.elapsedMs)) / 1000;
      const messages = reports.reduce((s, r) => s + r.messages, 0);
      const deliveries = reports.reduce((s, r) => s + r.deliveries, 0);
      const fanout = scenario.load.kind === 'fanout' || scenario.load.kind === 'channel';
      const received = fanout ? deliveries : messages;
      const compressed = reports.reduce((s, r) => s + r.compressedMessages, 0);
      const latency = mergeLatency(reports.map((r) => r.histogram));
      result = {
        ...(fanout
          ? {
              deliveriesPerSec: round(deliveries / seconds),
              publicationsPerSec: round(reports.reduce((s, r) => s + r.completed, 0) / seconds),
            }
          : { msgsPerSec: round(messages / seconds) }),
        ...(scenario.load.payload.type === 'binary' ? { mibPerSec: round((messages * scenario.load.payload.size) / seconds / 2 ** 20) } : {}),
        p50Us: latency.p50Us,
        p99Us: latency.p99Us,
        p999Us: latency.p999Us,
        maxUs: latency.maxUs,
        samples: latency.samples,
        ...(scenario.deflate
          ? {
              compressedShare: round(received > 0 ? compressed / received : 0),
              wireBytesPerMsg: received > 0 ? round(reports.reduce((s, r) => s + r.payloadBytes, 0) / received) : null,
            }
          : {}),
        protocolErrors: reports.reduce((s, r) => s + r.protocolErrors, 0),
        ...cpuShare(start, end),
      };
      const rate = result.deliveriesPerSec ?? result.msgsPerSec;
      result.serverCpuUs = rate > 0 ? round((result.serverCpu * 1e6) / rate) : null;
    }
    const closed = await Promise.all(generators.map((gen) => gen.call({ type: 'close' })));
    const exits = server.exited();
    result.errors = closed.reduce((s, c) => s + c.errors, 0) + exits.length + (result.protocolErrors ?? 0);
    const samples = [...closed.flatMap((c) => c.errorSamples), ...exits];
    if (samples.length > 0) result.errorSamples = samples.slice(0, 8);
    return result;
  } finally {
    await Promise.all(generators.map((g) => g.stop()));
    await server.stop();
  }
}

/**
 * A presence storm: one generator joins scenario.connections members to one channel over the
 * load's window; the result is what every member received, the server's CPU over the whole
 * storm, and what a broadcast of every join to every member would have cost (N²).
 */
async function runStorm(scenario, generator, port, net, snapshot, cpuShare, server) {
  const n = scenario.connections;
  const before = snapshot();
  const storm = await generator.call(
    {
      type: 'storm',
      host: '127.0.0.1',
      port,
      count: n,
      total: n,
      windowMs: scenario.load.windowMs,
      channel: scenario.load.channel,
      localAddresses: [`127.${net}.1.1`, `127.${net}.1.2`],
      timeoutMs: 240_000,
    },
    600_000,
  );
  const after = snapshot();
  const closed = await generator.call({ type: 'close' });
  const exits = server.exited();
  const result = {
    members: storm.opened,
    // Not `failed`: that names a round that failed as a whole.
    failedJoins: storm.failed,
    incomplete: storm.incomplete,
    presenceMessages: storm.messages,
    messagesPerMember: round(storm.messages / Math.max(1, storm.opened)),
    perJoinMessages: n * n,
    deliveredMiB: round(storm.bytes / 2 ** 20),
    lastJoinMs: round(storm.lastJoinMs),
    completeMs: round(storm.completeMs),
    ...cpuShare(before, after),
  };
  result.serverCpuS = round(after.server - before.server);
  result.errors = closed.errors + exits.length + storm.failed + storm.incomplete;
  const samples = [...closed.errorSamples, ...exits, ...(storm.incomplete ? [`${storm.incomplete} views incomplete`] : [])];
  if (samples.length > 0) result.errorSamples = samples.slice(0, 8);
  return result;
}

function describe(scenario, result) {
  if (result.failed) return `FAILED: ${result.error}`;
  const kernel = result.serverKernelShare == null ? '' : ` (${Math.round(result.serverKernelShare * 100)}% in the kernel)`;
  const cpu = `cpu server ${Math.round(result.serverCpu * 100)}%${kernel} generator ${Math.round(result.generatorCpu * 100)}% other ${Math.round(result.otherCpu * 100)}%`;
  const errors = result.errors ? `, ${result.errors} errors: ${(result.errorSamples ?? []).join('; ')}` : '';
  if (scenario.kind === 'storm') {
    return `${result.members} members, ${result.presenceMessages} presence messages (per-join broadcast: ${result.perJoinMessages}), ${result.deliveredMiB} MiB, server CPU ${result.serverCpuS} s, last join ${result.lastJoinMs} ms, all views complete ${result.completeMs} ms (${cpu})${errors}`;
  }
  if (scenario.kind === 'idle') {
    return `${result.held}/${scenario.connections} held, ${result.rssPerConnKiB} KiB RSS/conn, ${result.handshakesPerSec} handshakes/s, all open in ${result.acceptMs} ms (${cpu})${errors}`;
  }
  const rate = result.deliveriesPerSec !== undefined ? `${result.deliveriesPerSec} deliveries/s` : `${result.msgsPerSec} msg/s`;
  return `${rate}, p50 ${result.p50Us} µs, p99 ${result.p99Us} µs, p99.9 ${result.p999Us} µs (${cpu})${errors}`;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.prepare) prepare();
  const timing = { ...(options.smoke ? SMOKE_TIMING : FULL_TIMING) };
  if (options.rounds) {
    timing.rounds = options.rounds;
    timing.capacityRounds = Math.min(timing.capacityRounds, options.rounds);
  }
  const pinning = os.cpus().length >= 2 && hasTaskset();
  const cpus = pinning ? { server: 0, generator: 1 } : { server: null, generator: null };
  // The runner itself stays off the server's core too.
  if (pinning) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });

  const skipped = {};
  const impls = IMPLEMENTATIONS.filter((impl) => {
    if (options.only && !options.only.includes(impl.id)) return false;
    const reason = unavailable(impl);
    if (reason) {
      skipped[impl.id] = reason;
      console.log(`skipping ${impl.label}: ${reason}`);
    }
    return reason === null;
  });
  const nodeFlags = options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProf}`] : [];
  const scenarios = scenarioList({ smoke: options.smoke }).filter((s) => !options.scenarios || options.scenarios.includes(s.id));

  const startedAt = new Date();
  const output = {
    schema: 1,
    command: commandLine(),
    profile: options.smoke ? 'smoke' : 'full',
    startedAt: startedAt.toISOString(),
    machine: machine(pinning ? { server: 'core 0', generators: 'core 1' } : null),
    versions: versions(),
    timing,
    implementations: Object.fromEntries(IMPLEMENTATIONS.map((i) => [i.id, i.label])),
    skipped,
    scenarios: [],
  };
  const t0 = performance.now();
  for (const scenario of scenarios) {
    const rounds = scenario.capacity ? timing.capacityRounds : timing.rounds;
    const eligible = impls.filter((impl) => runs(impl, scenario) && (!scenario.deflate || impl.deflate));
    if (eligible.length === 0) {
      console.log(`\n${scenario.title}: not run (none of its implementations is selected or available)`);
      continue;
    }
    const perImpl = Object.fromEntries(eligible.map((impl) => [impl.id, []]));
    console.log(`\n${scenario.title}: ${scenario.what}`);
    for (let r = 0; r < rounds; r += 1) {
      // Interleaved, and each round starts with a different implementation.
      const order = eligible.map((_, i) => eligible[(i + r) % eligible.length]);
      for (const impl of order) {
        let result;
        try {
          result = await runOnce(scenario, impl, timing, cpus, nodeFlags);
        } catch (error) {
          result = { failed: true, error: String(error?.message ?? error).slice(0, 500) };
        }
        perImpl[impl.id].push(result);
        console.log(`  [${r + 1}/${rounds}] ${impl.label}: ${describe(scenario, result)}`);
      }
    }
    const results = {};
    for (const [id, rounds_] of Object.entries(perImpl)) results[id] = { median: summarizeRounds(rounds_), rounds: rounds_ };
    ratios(results, scenario.metrics, scenario.references);
    const { load, metrics, references, ...rest } = scenario;
    output.scenarios.push({
      ...rest,
      load: load ?? null,
      metrics,
      ...(references ? { references } : {}),
      excluded: scenario.deflate
        ? impls.filter((i) => runs(i, scenario) && !i.deflate).map((i) => ({ id: i.id, reason: 'no permessage-deflate' }))
        : [],
      results,
    });
  }
  output.durationS = Math.round((performance.now() - t0) / 1000);
  output.machine.loadAverageAtEnd = os.loadavg().map((v) => Number(v.toFixed(2)));

  const resultsDir = join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = `${JSON.stringify(output, null, 2)}\n`;
  const files = [];
  if (options.out) files.push(options.out);
  else if (options.smoke) files.push(join(resultsDir, 'smoke.tmp.json'));
  else files.push(join(resultsDir, 'latest.json'), join(resultsDir, `${startedAt.toISOString().slice(0, 19).replace(/:/g, '-')}Z.json`));
  for (const file of files) writeFileSync(file, json);
  console.log(`\nwrote ${files.join(', ')} in ${output.durationS} s`);
  if (!options.smoke && !options.out && options.readme) {
    updateReadme(join(rootDir, 'README.md'), output);
    console.log('updated the benchmark table in README.md');
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
