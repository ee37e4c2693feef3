/**
 * `fdx connect` in scripted mode: the real binary with stdin and stdout as pipes, against a
 * `ws` server and against ours, over TCP, TLS and a Unix socket; every exit code.
 */
import { once } from 'node:events';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer } from '../../src/index.js';
import { ROOT, exitOf, fdx, waitFor, withLimit } from './fdx-process.js';

/** What the tests use of a server-side socket, ws's or ours. */
interface AnySocket {
  on(event: string, listener: (...args: any[]) => void): unknown;
  send(data: Buffer | string, options?: { binary?: boolean }): unknown;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

interface Peer {
  url: string;
  /** Requests of accepted connections, in order. */
  requests: IncomingMessage[];
  /** Messages received, in order, with their kind. */
  received: Array<{ data: Buffer; isBinary: boolean }>;
  /** Close code and reason of each connection, as the server saw them. */
  closes: Array<{ code: number; reason: string }>;
  close(): Promise<void>;
}

const servers: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of servers) await close();
});

/**
 * A WebSocket server (ws's or ours) that records what it sees and runs `onConnection` for each
 * connection; by default it echoes.
 */
async function peer(kind: 'ws' | 'fullduplex', onConnection?: (socket: AnySocket, index: number) => void, listen: { server?: Server; path?: string } = {}): Promise<Peer> {
  const http = listen.server ?? createHttpServer();
  const wss = kind === 'ws' ? new WsServer({ server: http }) : new WebSocketServer({ server: http });
  const state: Peer = { url: '', requests: [], received: [], closes: [], close: async () => {} };
  (wss as WsServer).on('connection', (socket: AnySocket, request: IncomingMessage) => {
    const index = state.requests.push(request) - 1;
    socket.on('error', () => {});
    socket.on('message', (data: Buffer, isBinary: boolean) => state.received.push({ data: Buffer.from(data), isBinary }));
    socket.on('close', (code: number, reason: Buffer) => state.closes.push({ code, reason: reason.toString() }));
    if (onConnection) onConnection(socket, index);
    else socket.on('message', (data: Buffer, isBinary: boolean) => socket.send(data, { binary: isBinary }));
  });
  if (!listen.server) {
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
  }
  const address = http.address();
  state.url = typeof address === 'string' ? '' : `ws://127.0.0.1:${(address as AddressInfo).port}`;
  state.close = async () => {
    for (const client of wss.clients) (client as AnySocket).terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
  servers.push(state.close);
  return state;
}

for (const kind of ['ws', 'fullduplex'] as const) {
  describe(`fdx connect against a ${kind} server`, () => {
    test('sends each input line as a text message, prints the replies, and exits 0 after the close handshake', async () => {
      const server = await peer(kind);
      const run = fdx(['connect', server.url], { input: 'hello\nwörld ✓\n' });
      assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
      assert.equal(run.stdout(), 'hello\nwörld ✓\n');
      assert.deepEqual(server.received.map((m) => [m.data.toString(), m.isBinary]), [['hello', false], ['wörld ✓', false]]);
      assert.deepEqual(server.closes, [{ code: 1000, reason: '' }]);
      assert.match(run.stderr(), /connected to ws:\/\/127\.0\.0\.1:\d+/);
    });

    test('--binary hex sends bytes and prints binary replies as hex', async () => {
      const server = await peer(kind);
      const run = fdx(['connect', server.url, '--binary', 'hex'], { input: '00ff10\nzz\n7f 80\n' });
      assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
      assert.equal(run.stdout(), '00ff10\n7f80\n');
      assert.deepEqual(server.received.map((m) => [m.data.toString('hex'), m.isBinary]), [['00ff10', true], ['7f80', true]]);
      assert.match(run.stderr(), /not hex, not sent: zz/);
    });

    test('--binary base64 sends bytes and prints binary replies as base64', async () => {
      const server = await peer(kind);
      const run = fdx(['connect', server.url, '--binary', 'base64'], { input: 'AP8Q\n' });
      assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
      assert.equal(run.stdout(), 'AP8Q\n');
      assert.deepEqual(server.received.map((m) => [m.data.toString('hex'), m.isBinary]), [['00ff10', true]]);
    });
  });
}

describe('fdx connect: what reaches the server', () => {
  test('-H headers, --origin and -s subprotocols reach the server; the chosen subprotocol is reported', async () => {
    const server = await peer('ws');
    const run = fdx(['connect', server.url, '-H', 'X-Token: abc', '-H', 'X-Trace:  t-1 ', '--origin', 'https://example.test', '-s', 'chat.v2', '-s', 'chat.v1'], { input: '' });
    assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
    const headers = server.requests[0]!.headers;
    assert.equal(headers['x-token'], 'abc');
    assert.equal(headers['x-trace'], 't-1');
    assert.equal(headers.origin, 'https://example.test');
    assert.deepEqual(String(headers['sec-websocket-protocol']).split(',').map((p) => p.trim()), ['chat.v2', 'chat.v1']);
    assert.match(run.stderr(), /subprotocol chat\.v2/);
  });

  test('offers permessage-deflate by default and not with --no-deflate', async () => {
    const server = await peer('ws');
    const on = fdx(['connect', server.url], { input: '' });
    assert.equal((await exitOf(on)).code, 0);
    const off = fdx(['connect', server.url, '--no-deflate'], { input: '' });
    assert.equal((await exitOf(off)).code, 0);
    assert.match(String(server.requests[0]!.headers['sec-websocket-extensions']), /permessage-deflate/);
    assert.equal(server.requests[1]!.headers['sec-websocket-extensions'], undefined);
  });

  test('/close CODE REASON closes with that code and reason and exits 0', async () => {
    const server = await peer('fullduplex');
    const run = fdx(['connect', server.url], { input: 'first\n/close 4001 done for today\nnot sent\n' });
    assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
    assert.deepEqual(server.received.map((m) => m.data.toString()), ['first']);
    assert.deepEqual(server.closes, [{ code: 4001, reason: 'done for today' }]);
  });

  test('"//" sends a line that starts with "/"; an unknown command is an error, not a message', async () => {
    const server = await peer('ws');
    const run = fdx(['connect', server.url], { input: '//etc/hosts\n/frobnicate\n' });
    assert.deepEqual(await exitOf(run), { code: 0, signal: null });
    assert.deepEqual(server.received.map((m) => m.data.toString()), ['/etc/hosts']);
    assert.match(run.stderr(), /unknown command \/frobnicate/);
  });

  test('/ping prints the round-trip time of its pong', async () => {
    const server = await peer('ws');
    const run = fdx(['connect', server.url, '--wait', '500'], { input: '/ping\n/ping hello\n' });
    assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
    assert.match(run.stderr(), /pong "1" in \d+\.\d{3} ms/);
    assert.match(run.stderr(), /pong "hello" in \d+\.\d{3} ms/);
    assert.equal(run.stdout(), '');
  });

  test('--json pretty-prints JSON messages and leaves other text alone', async () => {
    const server = await peer('ws');
    const run = fdx(['connect', server.url, '--json'], { input: '{"a":[1,2]}\nplain\n' });
    assert.deepEqual(await exitOf(run), { code: 0, signal: null });
    assert.equal(run.stdout(), '{\n  "a": [\n    1,\n    2\n  ]\n}\nplain\n');
  });

  test('prints binary messages as hex without --binary', async () => {
    const server = await peer('ws', (socket) => socket.send(Buffer.from([1, 2, 254])));
    const run = fdx(['connect', server.url, '--exit-after', '1']);
    assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
    assert.equal(run.stdout(), '0102fe\n');
  });

  test('--exit-after N prints N messages, closes, and exits 0 while stdin is still open', async () => {
    const server = await peer('ws', (socket) => {
      for (const text of ['one', 'two', 'three']) socket.send(text);
    });
    const run = fdx(['connect', server.url, '--exit-after', '2']);
    assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
    assert.equal(run.stdout(), 'one\ntwo\n');
    assert.equal(server.closes[0]?.code, 1000);
  });

  test('--wait MS keeps the connection open after the input ends, for late replies', async () => {
    const server = await peer('ws', (socket) => {
      socket.on('message', (data: Buffer) => setTimeout(() => socket.send(`late ${data}`), 300));
    });
    const run = fdx(['connect', server.url, '--wait', '2000'], { input: 'x\n' });
    assert.deepEqual(await exitOf(run), { code: 0, signal: null });
    assert.equal(run.stdout(), 'late x\n');
  });

  test('--reconnect dials again after the server closes, and sends what is typed then', async () => {
    const server = await peer('fullduplex', (socket, index) => {
      if (index === 0) socket.close(1001, 'restarting');
      else socket.on('message', (data: Buffer) => socket.send(`again ${data}`));
    });
    const run = fdx(['connect', server.url, '--reconnect']);
    await waitFor(run, 'stderr', (text) => /reconnecting in \d+ ms/.test(text), 'the reconnection notice');
    await waitFor(run, 'stderr', (text) => (text.match(/connected to/g) ?? []).length === 2, 'the second connection');
    run.child.stdin.end('hi\n');
    assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
    assert.equal(run.stdout(), 'again hi\n');
    assert.equal(server.requests.length, 2);
  });
  test('closes cleanly, without a crash, when the reader of its output goes away', async () => {
    const server = await peer('ws', (socket) => {
      let n = 0;
      const timer = setInterval(() => {
        for (let i = 0; i < 50; i++) socket.send(`line ${n++}`);
      }, 5);
      socket.on('close', () => clearInterval(timer));
    });
    const run = fdx(['connect', server.url]);
    await waitFor(run, 'stdout', (text) => text.includes('line 0'), 'the first lines');
    run.child.stdout.destroy();
    assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
    assert.match(run.stderr(), /the output was closed; closing/);
    assert.doesNotMatch(run.stderr(), /Error|EPIPE/);
    assert.equal(server.closes[0]?.code, 1000);
  });
});

describe('fdx connect: transports', () => {
  test('speaks over a Unix socket with a ws+unix: URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdx-cli-'));
    const path = join(dir, 's.sock');
    const http = createHttpServer();
    http.listen(path);
    await once(http, 'listening');
    const server = await peer('fullduplex', undefined, { server: http });
    try {
      const run = fdx(['connect', `ws+unix://${path}:/chat?room=1`], { input: 'over unix\n' });
      assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
      assert.equal(run.stdout(), 'over unix\n');
      assert.equal(server.requests[0]!.url, '/chat?room=1');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('TLS (test/fixtures/cert.pem, for localhost and 127.0.0.1)', () => {
    const fixtures = join(ROOT, 'test/fixtures');
    let url = '';
    test('starts a wss:// server', async () => {
      const https = createHttpsServer({ cert: readFileSync(join(fixtures, 'cert.pem')), key: readFileSync(join(fixtures, 'key.pem')) });
      https.listen(0, '127.0.0.1');
      await once(https, 'listening');
      await peer('ws', undefined, { server: https });
      url = `wss://127.0.0.1:${(https.address() as AddressInfo).port}`;
    });

    test('trusts the certificate given with --ca', async () => {
      const run = fdx(['connect', url, '--ca', join(fixtures, 'cert.pem')], { input: 'secret\n' });
      assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
      assert.equal(run.stdout(), 'secret\n');
    });

    test('refuses an unknown certificate and exits 1', async () => {
      const run = fdx(['connect', url], { input: 'secret\n' });
      assert.deepEqual(await exitOf(run), { code: 1, signal: null });
      assert.match(run.stderr(), /cannot connect to wss:.*certificate/i);
      assert.equal(run.stdout(), '');
    });

    test('accepts any certificate with --insecure', async () => {
      const run = fdx(['connect', url, '--insecure'], { input: 'secret\n' });
      assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
      assert.equal(run.stdout(), 'secret\n');
    });
  });
});

describe('fdx connect: exit codes', () => {
  test('0 when the server closes with 1000, though stdin is still open', async () => {
    const server = await peer('ws', (socket) => socket.close(1000, 'bye'));
    const run = fdx(['connect', server.url]);
    assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
    assert.match(run.stderr(), /closed: 1000 bye/);
  });

  test('1 when nothing listens on the port', async () => {
    const http = createHttpServer().listen(0, '127.0.0.1');
    await once(http, 'listening');
    const port = (http.address() as AddressInfo).port;
    await new Promise<void>((resolve) => http.close(() => resolve()));
    const run = fdx(['connect', `ws://127.0.0.1:${port}`], { input: 'x\n' });
    assert.deepEqual(await exitOf(run), { code: 1, signal: null });
    assert.match(run.stderr(), /^fdx: cannot connect to ws:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/m);
  });

  test('1 when the server answers the upgrade with 404', async () => {
    const http = createHttpServer((_, response) => response.writeHead(404).end());
    http.on('upgrade', (_request, socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    servers.push(() => new Promise<void>((resolve) => http.close(() => resolve())));
    const run = fdx(['connect', `ws://127.0.0.1:${(http.address() as AddressInfo).port}/nope`]);
    assert.deepEqual(await exitOf(run), { code: 1, signal: null });
    assert.match(run.stderr(), /cannot connect to .*404/);
  });

  test('3 when the connection drops without a close handshake', async () => {
    const server = await peer('ws', (socket) => socket.on('message', () => socket.terminate()));
    const run = fdx(['connect', server.url], { input: 'boom\n' });
    assert.deepEqual(await exitOf(run), { code: 3, signal: null });
    assert.match(run.stderr(), /closed: 1006 \(no close handshake\)/);
  });

  test('3 when the server closes with an error code (1011)', async () => {
    const server = await peer('fullduplex', (socket) => socket.close(1011, 'internal'));
    const run = fdx(['connect', server.url]);
    assert.deepEqual(await exitOf(run), { code: 3, signal: null });
    assert.match(run.stderr(), /closed: 1011 internal/);
  });

  const mistakes: Array<{ args: string[]; stderr: RegExp }> = [
    { args: ['connect'], stderr: /missing URL/ },
    { args: ['connect', 'example.com'], stderr: /the URL must start with ws:\/\//i },
    { args: ['connect', 'ws://a', 'ws://b'], stderr: /unexpected argument 'ws:\/\/b'/ },
    { args: ['connect', 'ws://a', '--binary', 'octal'], stderr: /--binary must be one of hex, base64, got 'octal'/ },
    { args: ['connect', 'ws://a', '--exit-after', '0'], stderr: /--exit-after must be between 1/ },
    { args: ['connect', 'ws://a', '-H', 'no colon'], stderr: /-H wants 'Name: value'/ },
    { args: ['connect', 'ws://a', '--token', 't'], stderr: /--token needs --realtime/ },
    { args: ['connect', 'ws://a', '--realtime', '--binary', 'hex'], stderr: /--binary does not go with --realtime/ },
    { args: ['connect', 'ws://a', '--ca', '/nonexistent/ca.pem'], stderr: /cannot read --ca \/nonexistent\/ca\.pem: ENOENT/ },
    { args: ['connect', 'ws://a', '--frobnicate'], stderr: /unknown option '--frobnicate'/ },
  ];
  for (const { args, stderr } of mistakes) {
    test(`2 with a usage line for: fdx ${args.join(' ')}`, async () => {
      const run = fdx(args);
      assert.deepEqual(await withLimit(run.exited, 'exit'), { code: 2, signal: null });
      assert.match(run.stderr(), stderr);
      assert.match(run.stderr(), /^fdx: .*\nRun "fdx connect --help" for usage\.\n$/);
      assert.equal(run.stdout(), '');
    });
  }
});
