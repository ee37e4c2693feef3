// Server instructions per opening handshake, counted by valgrind's callgrind (deterministic, so
// it works on a loaded machine where wall-clock numbers do not). The server of servers/ runs
// under callgrind; the load generator (../dist/loadgen-worker.js, the one of the bench suite)
// opens W connections to warm it up (V8 optimizes code called once per handshake only after a
// few thousand calls), then the counters are zeroed (callgrind_control -z), N1 more are opened
// and the counts dumped, N2 more and dumped again. (I2 - I1) / (N2 - N1) is what one handshake
// costs, from the accepted TCP connection to the 'connection' event, with whatever each dump
// window costs besides (the dump itself, idle timers) subtracted. Connections stay open until
// the server is stopped: closing them is not a handshake's cost. The share of the event loop
// (the main thread) is printed beside it: V8's background threads (concurrent marking above
// all) do work whose share of a window depends on timing, so the total varies between runs by
// more than the event loop's part does.
//
//   node bench/callgrind-handshake.mjs [--server fullduplex] [--mode echo|echo-topic]
//        [--warmup 3000] [--n1 500] [--n2 1500] [--concurrency 64] [--keep DIR]
//        [--node-arg --perf-basic-prof]... [--plain]
//
// With --keep DIR the callgrind files stay in DIR (callgrind_annotate DIR/out.2 is the N2
// window); with --node-arg --perf-basic-prof, /tmp/perf-<pid>.map names the JIT frames for
// it. --plain runs the server without valgrind (no counts: for --node-arg --cpu-prof and the
// like).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, startServer } from './lib/callgrind.mjs';
import { freePort, startGenerator } from './lib/processes.mjs';

function parse(argv) {
  const o = parseFlags(argv, { server: 'fullduplex', mode: 'echo', warmup: 3000, n1: 500, n2: 1500, concurrency: 64, keep: '', nodeArg: [], plain: false });
  if (!(o.n2 > o.n1)) throw new Error('--n2 must be larger than --n1');
  return o;
}

/** The instructions of the newest dump in `dir` whose name starts with `prefix`, once it is there. */
async function dumped(dir, prefix, seen) {
  for (let i = 0; i < 600; i += 1) {
    const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && !seen.has(f));
    for (const file of files) {
      const match = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, file), 'latin1'));
      if (match) {
        seen.add(file);
        return { file, instructions: Number(match[1]) };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no callgrind dump in ${dir}`);
}

/**
 * The instructions of the event loop (libuv's uv_run, inclusive) in a dump: the main thread's
 * work, without the work V8's background threads (concurrent marking, sweeping, optimizing)
 * do, whose share of a window depends on timing and varies between runs.
 */
function eventLoop(file) {
  const result = spawnSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], { encoding: 'latin1', maxBuffer: 1 << 28 });
  const line = result.stdout.split('\n').find((l) => /:uv_run\b/.test(l));
  return line ? Number(line.trim().split(/\s+/)[0].replace(/,/g, '')) : NaN;
}

/** callgrind_control on the server (the valgrind process runs node under its own pid). */
function control(pid, flag) {
  const result = spawnSync('callgrind_control', [flag, String(pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`callgrind_control ${flag}: ${result.stderr || result.stdout}`);
}

const o = parse(process.argv.slice(2));
const dir = o.keep || mkdtempSync(join(tmpdir(), 'callgrind-handshake-'));
mkdirSync(dir, { recursive: true });
const port = await freePort();
const script = fileURLToPath(new URL(`servers/${o.server}.mjs`, import.meta.url));
// No heartbeat in fullduplex (ws has none): under valgrind a window outlasts its interval, and
// pinging every open connection is no handshake's cost.
const serverArgs = [...o.nodeArg, script, '--port', String(port), '--mode', o.mode, ...(o.server === 'fullduplex' ? ['--ping-interval-ms', '0'] : [])];
const outFile = join(dir, 'out');
const { child, exited } = await startServer(serverArgs, outFile, o.plain);
const generator = startGenerator(null);
const addresses = ['127.201.0.1', '127.201.0.2', '127.201.0.3'];
let failed = 0;
/** Opens `count` more connections; resolves with how many are open in all. */
async function open(count) {
  const reply = await generator.call({ type: 'connect', host: '127.0.0.1', port, count, concurrency: o.concurrency, localAddresses: addresses, timeoutMs: 120_000 }, 900_000);
  // A handshake that failed (a SYN dropped by a full backlog under valgrind's slowness) is not
  // counted, though what it cost is: the report says so.
  if (reply.failed > 0) {
    failed += reply.failed;
    console.error(`${reply.failed} of ${count} handshakes failed: ${JSON.stringify(reply.errorsByKind ?? {})}`);
  }
  return reply.opened;
}
let result;
try {
  const seen = new Set();
  const warm = await open(o.warmup);
  if (!o.plain) control(child.pid, '-z');
  const first = (await open(o.n1)) - warm;
  if (!o.plain) control(child.pid, '-d');
  const a = o.plain ? { instructions: 0 } : await dumped(dir, 'out.', seen);
  const second = (await open(o.n2)) - warm - first;
  if (!o.plain) control(child.pid, '-d');
  const b = o.plain ? { instructions: 0 } : await dumped(dir, 'out.', seen);
  result = { first, second, a: a.instructions, b: b.instructions, loopA: o.plain ? 0 : eventLoop(join(dir, a.file)), loopB: o.plain ? 0 : eventLoop(join(dir, b.file)) };
  // The server stops with its connections open: their closing is not a handshake's cost.
  child.stdin.end();
  await exited;
  await generator.call({ type: 'close' });
} finally {
  await generator.stop();
  if (child.exitCode === null) child.kill('SIGKILL');
}
const perHandshake = (result.b - result.a) / (result.second - result.first);
console.log(
  `${o.server} ${o.mode}, ${o.warmup} to warm up, ${o.concurrency} at a time: ${result.first} handshakes ${result.a} Ir, ` +
    `${result.second} handshakes ${result.b} Ir -> ${Math.round(perHandshake)} Ir/handshake, ` +
    `${Math.round((result.loopB - result.loopA) / (result.second - result.first))} of them in the event loop` +
    (failed > 0 ? ` (${failed} failed)` : ''),
);
if (!o.keep) rmSync(dir, { recursive: true });
