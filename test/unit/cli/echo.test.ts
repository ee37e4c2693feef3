/**
 * `fdx echo` as a user runs it: a child process started through bin/fdx.js, driven over
 * loopback with our own client, stopped with signals.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from '../../../src/index.js';

const BIN = fileURLToPath(new URL('../../../bin/fdx.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Upper bound for a child to start or stop: generous, as tsx compiles the CLI on a shared machine. */
const STEP_LIMIT_MS = 30_000;

const children = new Set<ChildProcessWithoutNullStreams>();
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Fdx {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function fdx(args: string[]): Fdx {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Resolves with the first whole stdout line; rejects if the process exits or the limit passes first. */
function firstLine(run: Fdx): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no output within ${STEP_LIMIT_MS} ms; stderr: ${run.stderr()}`)), STEP_LIMIT_MS);
    const onData = (): void => {
      const out = run.stdout();
      if (out.includes('\n')) finish(null, out.slice(0, out.indexOf('\n')));
    };
    const onExit = (code: number | null): void => finish(new Error(`exited with ${code} before printing; stderr: ${run.stderr()}`));
    function finish(error: Error | null, line?: string): void {
      clearTimeout(timer);
      run.child.stdout.removeListener('data', onData);
      run.child.removeListener('exit', onExit);
      if (error) reject(error);
      else resolve(line!);
    }
    run.child.stdout.on('data', onData);
    run.child.once('exit', onExit);
    onData();
  });
}

async function startEcho(extra: string[] = []): Promise<{ run: Fdx; url: string }> {
  const run = fdx(['echo', '--port', '0', '--host', '127.0.0.1', ...extra]);
  const line = await firstLine(run);
  const match = /^listening on (wss?:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
  assert.ok(match, `unexpected first line: ${JSON.stringify(line)}`);
  assert.notEqual(Number(match[2]), 0, 'prints the bound port, not 0');
  return { run, url: match[1]! };
}

async function stop(run: Fdx, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill(signal);
  return withLimit(run.exited, 'exit');
}

function withLimit<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${STEP_LIMIT_MS} ms`)), STEP_LIMIT_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

async function open(url: string, options: object = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, options);
  await withLimit(once(ws, 'open'), 'open');
  return ws;
}

async function roundTrip(ws: WebSocket, data: string | Buffer): Promise<{ data: Buffer; isBinary: boolean }> {
  const reply = once(ws, 'message');
  ws.send(data);
  const [received, isBinary] = await withLimit(reply, 'echo');
  return { data: received as Buffer, isBinary: isBinary as boolean };
}

async function closeClient(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = once(ws, 'close');
  ws.close();
  await withLimit(closed, 'client close');
}

describe('fdx echo', () => {
  test('prints the bound address and echoes text back as text', async () => {
    const { run, url } = await startEcho();
    try {
      const ws = await open(url);
      const reply = await roundTrip(ws, 'hello, fdx ✓');
      assert.equal(reply.isBinary, false);
      assert.equal(reply.data.toString('utf8'), 'hello, fdx ✓');
      await closeClient(ws);
    } finally {
      await stop(run);
    }
  });

  test('echoes binary back as binary, byte for byte', async () => {
    const { run, url } = await startEcho();
    try {
      const ws = await open(url);
      const bytes = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]);
      const reply = await roundTrip(ws, bytes);
      assert.equal(reply.isBinary, true);
      assert.deepEqual(Buffer.from(reply.data), bytes);
      await closeClient(ws);
    } finally {
      await stop(run);
    }
  });

  test('closes with 1009 a message bigger than --max-payload and still echoes one at the limit', async () => {
    const { run, url } = await startEcho(['--max-payload', '16']);
    try {
      const ws = await open(url);
      const atLimit = await roundTrip(ws, 'x'.repeat(16));
      assert.equal(atLimit.data.toString(), 'x'.repeat(16));
      const closed = once(ws, 'close');
      ws.on('error', () => {});
      ws.send('x'.repeat(17));
      const [code] = await withLimit(closed, 'close');
      assert.equal(code, 1009);
    } finally {
      await stop(run);
    }
  });

  test('starts and echoes with --deflate', async () => {
    const { run, url } = await startEcho(['--deflate']);
    try {
      const ws = await open(url);
      const reply = await roundTrip(ws, 'compressed or not');
      assert.equal(reply.data.toString(), 'compressed or not');
      await closeClient(ws);
    } finally {
      await stop(run);
    }
  });

  test('with --http2 takes HTTP/1.1 upgrades and h2c extended CONNECT on one port', async () => {
    const { run, url } = await startEcho(['--http2']);
    try {
      const over1 = await open(url);
      const over2 = await open(url, { http2: true });
      assert.ok('session' in over2.socket!, 'the second one runs over an HTTP/2 stream');
      assert.equal((await roundTrip(over1, 'one')).data.toString(), 'one');
      assert.equal((await roundTrip(over2, 'two')).data.toString(), 'two');
      await closeClient(over1);
      await closeClient(over2);
    } finally {
      await stop(run);
    }
  });

  test('with --http2 --cert --key serves TLS: ALPN h2 and http/1.1, and closes HTTP/2 clients with 1001 on SIGTERM', async () => {
    const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
    const { run, url } = await startEcho(['--http2', '--cert', fixture('cert.pem'), '--key', fixture('key.pem')]);
    assert.match(url, /^wss:/);
    const over1 = await open(url, { rejectUnauthorized: false });
    const over2 = await open(url, { http2: true, rejectUnauthorized: false });
    assert.equal((await roundTrip(over1, 'one')).data.toString(), 'one');
    assert.equal((await roundTrip(over2, 'two')).data.toString(), 'two');
    const closed = once(over2, 'close');
    over1.on('error', () => {});
    const exit = await stop(run, 'SIGTERM');
    const [code] = await withLimit(closed, 'client close');
    assert.equal(code, 1001);
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test('on SIGTERM sends 1001 to connected clients and exits 0', async () => {
    const { run, url } = await startEcho();
    const ws = await open(url);
    const closed = once(ws, 'close');
    const exit = await stop(run, 'SIGTERM');
    const [code] = await withLimit(closed, 'client close');
    assert.equal(code, 1001);
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test('on SIGINT closes and exits 0', async () => {
    const { run } = await startEcho();
    const exit = await stop(run, 'SIGINT');
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test('exits 1 with a message when the port is taken', async () => {
    const { run, url } = await startEcho();
    try {
      const port = new URL(url).port;
      const second = fdx(['echo', '--port', port, '--host', '127.0.0.1']);
      const exit = await withLimit(second.exited, 'exit');
      assert.deepEqual(exit, { code: 1, signal: null });
      assert.match(second.stderr(), /EADDRINUSE/);
      assert.equal(second.stdout(), '');
    } finally {
      await stop(run);
    }
  });
});

describe('fdx usage', () => {
  const mistakes: Array<{ args: string[]; stderr: RegExp }> = [
    { args: [], stderr: /missing command/ },
    { args: ['frobnicate'], stderr: /unknown command 'frobnicate'/ },
    { args: ['--verbose'], stderr: /unknown option '--verbose'/ },
    { args: ['echo', '--bogus'], stderr: /unknown option '--bogus'/ },
    { args: ['echo', 'extra'], stderr: /unexpected argument 'extra'/ },
    { args: ['echo', '--port'], stderr: /'--port' needs a value/ },
    { args: ['echo', '--cert', 'a.pem'], stderr: /--cert and --key go together/ },
    { args: ['echo', '--cert', 'a.pem', '--key', 'b.pem'], stderr: /--cert and --key need --http2/ },
    { args: ['echo', '--port', 'abc'], stderr: /--port must be a whole number, got 'abc'/ },
    { args: ['echo', '--port', '-1'], stderr: /option '--port' argument is ambiguous/ },
    { args: ['echo', '--port=-1'], stderr: /--port must be a whole number, got '-1'/ },
    { args: ['echo', '--port', '65536'], stderr: /--port must be between 0 and 65535/ },
    { args: ['echo', '--max-payload', '1.5'], stderr: /--max-payload must be a whole number/ },
    { args: ['echo', '--deflate=yes'], stderr: /'--deflate' does not take an argument/ },
  ];
  for (const { args, stderr } of mistakes) {
    test(`exits 2 with a clear error for: fdx ${args.join(' ') || '(nothing)'}`, async () => {
      const run = fdx(args);
      const exit = await withLimit(run.exited, 'exit');
      assert.deepEqual(exit, { code: 2, signal: null });
      assert.match(run.stderr(), stderr);
      assert.match(run.stderr(), /^fdx: /);
      assert.equal(run.stdout(), '', 'nothing on stdout');
    });
  }

  test('--help prints the commands and exits 0', async () => {
    const run = fdx(['--help']);
    assert.deepEqual(await withLimit(run.exited, 'exit'), { code: 0, signal: null });
    assert.match(run.stdout(), /^Usage: fdx <command>/);
    assert.match(run.stdout(), /echo\s+Run a WebSocket echo server/);
    assert.equal(run.stderr(), '');
  });

  test('echo --help prints the options of echo and exits 0 without listening', async () => {
    const run = fdx(['echo', '--help', '--port', '0']);
    assert.deepEqual(await withLimit(run.exited, 'exit'), { code: 0, signal: null });
    assert.match(run.stdout(), /^Usage: fdx echo/);
    for (const flag of ['--port', '--host', '--max-payload', '--deflate']) assert.ok(run.stdout().includes(flag), flag);
    assert.doesNotMatch(run.stdout(), /^listening on/m);
  });
});
