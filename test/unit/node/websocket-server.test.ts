import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer, HandshakeError } from '../../../src/index.js';
import { rawHandshake, readUntilClose, startEchoServer, startServer, stopServer } from '../../support/servers.js';
import { clientFrame, closePayload, OP, serverFrame, utf8 } from '../../support/frames.js';

/** Sends a raw HTTP request and resolves with the full answer once the server closes. */
async function rawRequest(port: number, request: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(request);
  const { bytes } = await readUntilClose(socket);
  return bytes.toString('latin1');
}

const GOOD_HEAD =
  'Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

function openClient(url: string, protocols?: string | string[], options?: object): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols as string[], options);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

describe('WebSocketServer', () => {
  it('requires exactly one of port, server and noServer', () => {
    assert.throws(() => new WebSocketServer({}), TypeError);
    assert.throws(() => new WebSocketServer({ port: 0, noServer: true }), TypeError);
  });

  it('answers a plain HTTP request on its own server with 426 and Sec-WebSocket-Version: 13', async () => {
    const { wss, port } = await startServer();
    after(() => stopServer(wss));
    const answer = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 426 /);
    assert.match(answer, /Sec-WebSocket-Version: 13/i);
  });

  it('accepts a valid upgrade and answers with the RFC 6455 accept value', async () => {
    const { wss, port } = await startServer();
    after(() => stopServer(wss));
    const { socket, head } = await rawHandshake(port);
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols/);
    assert.match(head, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
    socket.destroy();
  });

  for (const [name, request, status] of [
    ['a POST', `POST / HTTP/1.1\r\n${GOOD_HEAD}\r\n`, 405],
    ['a wrong version', `GET / HTTP/1.1\r\n${GOOD_HEAD.replace('Version: 13', 'Version: 8')}\r\n`, 426],
    ['a missing key', `GET / HTTP/1.1\r\n${GOOD_HEAD.replace(/Sec-WebSocket-Key: .*\r\n/, '')}\r\n`, 400],
    ['a short key', `GET / HTTP/1.1\r\n${GOOD_HEAD.replace('dGhlIHNhbXBsZSBub25jZQ==', 'c2hvcnQ=')}\r\n`, 400],
    ['two keys', `GET / HTTP/1.1\r\n${GOOD_HEAD}Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n`, 400],
    ['no Upgrade token', `GET / HTTP/1.1\r\n${GOOD_HEAD.replace('Upgrade: websocket', 'Upgrade: h2c')}\r\n`, 400],
  ] as const) {
    it(`refuses ${name} with HTTP ${status} and closes the connection`, async () => {
      const { wss, port } = await startServer();
      after(() => stopServer(wss));
      let connected = false;
      wss.on('connection', () => (connected = true));
      const answer = await rawRequest(port, request);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `));
      if (status === 426) assert.match(answer, /Sec-WebSocket-Version: 13/);
      assert.equal(connected, false);
    });
  }

  it('emits wsClientError instead of answering when a listener is attached', async () => {
    const { wss, port } = await startServer();
    after(() => stopServer(wss));
    const seen = new Promise<HandshakeError>((resolve) =>
      wss.on('wsClientError', (error, socket) => {
        socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\n\r\n');
        resolve(error);
      }),
    );
    const answer = await rawRequest(port, `GET / HTTP/1.1\r\n${GOOD_HEAD.replace('Version: 13', 'Version: 7')}\r\n`);
    const error = await seen;
    assert.equal(error.code, 'WS_ERR_HANDSHAKE_VERSION');
    assert.equal(error.status, 426);
    assert.match(answer, /^HTTP\/1\.1 418/);
  });

  it('only accepts its path, and with a query string too', async () => {
    const { wss, url } = await startServer({ path: '/live' });
    after(() => stopServer(wss));
    const ok = await openClient(`${url}/live?room=1`);
    ok.close();
    const refused = new WebSocket(`${url}/other`);
    const [error] = await once(refused, 'error');
    assert.match((error as Error).message, /400/);
  });

  it('runs a synchronous verifyClient and answers 401 when it says no', async () => {
    const { wss, url } = await startServer({ verifyClient: (info) => info.req.headers['x-token'] === 'yes' });
    after(() => stopServer(wss));
    const ok = await openClient(url, [], { headers: { 'x-token': 'yes' } });
    ok.close();
    const refused = new WebSocket(url, { headers: { 'x-token': 'no' } });
    const [error] = await once(refused, 'error');
    assert.match((error as Error).message, /401/);
  });

  it('runs an asynchronous verifyClient with a custom status and headers', async () => {
    const { wss, port } = await startServer({
      verifyClient: (_info, done) => setTimeout(() => done(false, 429, 'slow down', { 'Retry-After': '5' }), 5),
    });
    after(() => stopServer(wss));
    const answer = await rawRequest(port, `GET / HTTP/1.1\r\n${GOOD_HEAD}\r\n`);
    assert.match(answer, /^HTTP\/1\.1 429 /);
    assert.match(answer, /Retry-After: 5/);
    assert.match(answer, /slow down$/);
  });

  it('picks a subprotocol with handleProtocols, or the first offered by default', async () => {
    const picky = await startServer({ handleProtocols: (set) => (set.has('b') ? 'b' : false) });
    const plain = await startServer();
    after(() => Promise.all([stopServer(picky.wss), stopServer(plain.wss)]));
    const a = await openClient(picky.url, ['a', 'b']);
    assert.equal(a.protocol, 'b');
    const b = await openClient(plain.url, ['x', 'y']);
    assert.equal(b.protocol, 'x');
    const c = await openClient(picky.url, ['z']);
    assert.equal(c.protocol, '');
    a.close();
    b.close();
    c.close();
  });

  it('refuses origins outside the allow-list with 403 and lets others in', async () => {
    const { wss, url } = await startServer({ origins: ['https://good.example'] });
    after(() => stopServer(wss));
    const ok = await openClient(url, [], { origin: 'https://good.example' });
    ok.close();
    const bad = new WebSocket(url, { origin: 'https://evil.example' });
    const [error] = await once(bad, 'error');
    assert.match((error as Error).message, /403/);
  });

  it('answers 503 past maxConnections', async () => {
    const { wss, url } = await startServer({ maxConnections: 1 });
    after(() => stopServer(wss));
    const first = await openClient(url);
    const second = new WebSocket(url);
    const [error] = await once(second, 'error');
    assert.match((error as Error).message, /503/);
    first.close();
  });

  it('tracks clients and forgets them when they close', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const ws = await openClient(url);
    await new Promise((r) => setImmediate(r));
    assert.equal(wss.clients.size, 1);
    const serverSide = [...wss.clients][0]!;
    ws.close();
    await closed(serverSide);
    assert.equal(wss.clients.size, 0);
  });

  it('lets the headers event add response headers', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    wss.on('headers', (headers) => headers.push('X-Served-By: fullduplex'));
    const ws = new WebSocket(url);
    const [response] = await once(ws, 'upgrade');
    assert.equal((response as http.IncomingMessage).headers['x-served-by'], 'fullduplex');
    ws.close();
  });

  it('works with noServer and handleUpgrade on a user server, several paths on one port', async () => {
    const server = http.createServer();
    const a = new WebSocketServer({ noServer: true });
    const b = new WebSocketServer({ noServer: true });
    a.on('connection', (ws) => ws.send('from a'));
    b.on('connection', (ws) => ws.send('from b'));
    server.on('upgrade', (req, socket, head) => {
      const target = req.url === '/a' ? a : req.url === '/b' ? b : null;
      if (!target) return socket.destroy();
      target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => new Promise<void>((r) => { a.close(); b.close(); server.close(() => r()); }));
    const port = (server.address() as AddressInfo).port;
    const ca = new WebSocket(`ws://127.0.0.1:${port}/a`);
    const cb = new WebSocket(`ws://127.0.0.1:${port}/b`);
    const [ma, mb] = await Promise.all([nextMessage(ca), nextMessage(cb)]);
    assert.equal(ma.data.toString(), 'from a');
    assert.equal(mb.data.toString(), 'from b');
    ca.close();
    cb.close();
  });

  it('attaches to a user http server with the server option', async () => {
    const server = http.createServer((_req, res) => res.end('plain http'));
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.send('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => new Promise<void>((r) => { wss.close(); server.close(() => r()); }));
    const port = (server.address() as AddressInfo).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    assert.equal((await nextMessage(ws)).data.toString(), 'hello');
    ws.close();
  });

  it('fails a message above maxPayload with 1009', async () => {
    const { wss, url } = await startEchoServer({ maxPayload: 1024 });
    after(() => stopServer(wss));
    const ws = await openClient(url);
    ws.send(Buffer.alloc(2048));
    assert.equal((await closed(ws)).code, 1009);
  });

  it('times out a handshake that a slow verifyClient never finishes', async () => {
    const { wss, port } = await startServer({ handshakeTimeoutMs: 200, verifyClient: (_i, _done) => {} });
    after(() => stopServer(wss));
    const answer = await rawRequest(port, `GET / HTTP/1.1\r\n${GOOD_HEAD}\r\n`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });

  it('drops a client that sends request headers too slowly (own server)', async () => {
    const { wss, port } = await startServer({ handshakeTimeoutMs: 300 });
    after(() => stopServer(wss));
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const { closed: wasClosed } = await readUntilClose(socket, undefined, 5000);
    assert.equal(wasClosed, true);
  });

  it('terminates a client that stops answering heartbeats', async () => {
    const { wss, port } = await startServer({ pingIntervalMs: 50 });
    after(() => stopServer(wss));
    // A raw client that completes the handshake and then never reads or answers.
    const { socket } = await rawHandshake(port);
    await new Promise((r) => setImmediate(r));
    const serverSide = [...wss.clients][0]!;
    const { code } = await closed(serverSide);
    assert.equal(code, 1006);
    socket.destroy();
  });

  it('keeps a client that answers heartbeats', async () => {
    const { wss, url } = await startServer({ pingIntervalMs: 40 });
    after(() => stopServer(wss));
    const ws = await openClient(url);
    let pings = 0;
    ws.on('ping', () => pings++);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(pings >= 2, `expected pings, saw ${pings}`);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
  });

  it('closes gracefully: messages sent before close() arrive before the 1001 close frame', async () => {
    const { wss, url } = await startServer();
    const ws = await openClient(url);
    const received: string[] = [];
    ws.on('message', (d) => received.push(d.toString()));
    await new Promise((r) => setImmediate(r));
    for (const client of wss.clients) for (let i = 0; i < 100; i++) client.send(`m${i}`);
    const serverClosed = new Promise<void>((r) => wss.close(() => r()));
    const { code, reason } = await closed(ws);
    await serverClosed;
    assert.equal(code, 1001);
    assert.equal(reason, 'server shutting down');
    assert.deepEqual(received, Array.from({ length: 100 }, (_, i) => `m${i}`));
  });

  it('destroys clients that ignore the 1001 close after closeTimeoutMs', async () => {
    const { wss, port } = await startServer({ closeTimeoutMs: 100 });
    const { socket } = await rawHandshake(port); // never answers the close frame
    await new Promise((r) => setImmediate(r));
    const start = Date.now();
    await new Promise<void>((r) => wss.close(() => r()));
    assert.ok(Date.now() - start < 4000);
    const { closed: wasClosed } = await readUntilClose(socket, undefined, 2000);
    assert.equal(wasClosed, true);
  });

  it('refuses new upgrades with 503 while shutting down', async () => {
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, () => {}));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => new Promise<void>((r) => server.close(() => r())));
    wss.close();
    const answer = await rawRequest((server.address() as AddressInfo).port, `GET / HTTP/1.1\r\n${GOOD_HEAD}\r\n`);
    assert.match(answer, /^HTTP\/1\.1 503 /);
  });

  it('batches many sends in one tick into one socket write', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const ws = await openClient(url);
    await new Promise((r) => setImmediate(r));
    const serverSide = [...wss.clients][0]!;
    const socket = serverSide.socket as net.Socket & { _writev: Function; _write: Function };
    let writes = 0;
    const writev = socket._writev.bind(socket);
    const write = socket._write.bind(socket);
    socket._writev = (...args: unknown[]) => { writes++; return writev(...args); };
    socket._write = (...args: unknown[]) => { writes++; return write(...args); };
    const got = new Promise<void>((resolve) => {
      let n = 0;
      ws.on('message', () => { if (++n === 200) resolve(); });
    });
    for (let i = 0; i < 200; i++) serverSide.send(`message ${i}`);
    await got;
    assert.equal(writes, 1);
    ws.close();
  });

  it('delivers a message that arrives in the same packet as the handshake', async () => {
    const { wss, port } = await startEchoServer();
    after(() => stopServer(wss));
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      Buffer.concat([
        Buffer.from(`GET / HTTP/1.1\r\n${GOOD_HEAD}\r\n`),
        clientFrame({ opcode: OP.TEXT, payload: utf8('early') }),
        clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }),
      ]),
    );
    const { bytes } = await readUntilClose(socket);
    const text = bytes.toString('latin1');
    assert.match(text, /101 Switching Protocols/);
    assert.ok(bytes.includes(Buffer.from(serverFrame({ opcode: OP.TEXT, payload: 'early' }))), 'echo of the early message');
  });

  it('stops reading a peer that leaves more than maxBackpressure unread, and reads it again once that drained', async () => {
    const limit = 256 * 1024;
    const { wss, port } = await startEchoServer({ maxBackpressure: limit, pingIntervalMs: 0 });
    after(() => stopServer(wss));
    const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const { socket } = await rawHandshake(port); // paused: the pongs stay unread
    const ws = await serverSide;
    const ping = clientFrame({ opcode: OP.PING, payload: new Uint8Array(125) });
    const batch = Buffer.concat(Array.from({ length: 16 }, () => ping));
    let peak = 0;
    // Until the server stops taking our bytes (bounded: at most 400 MB of pings).
    for (let i = 0; i < 200_000 && socket.writableLength < 4 * 1024 * 1024; i++) {
      socket.write(batch);
      if (i % 64 === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        peak = Math.max(peak, ws.bufferedAmount);
      }
    }
    assert.ok(socket.writableLength >= 4 * 1024 * 1024, 'the server kept reading a peer that does not read');
    assert.ok(peak <= limit + 17 * 127, `${peak} bytes buffered for the peer`);
    // The peer reads again: the server drains, reads on, and answers what came after the pings.
    socket.write(clientFrame({ opcode: OP.TEXT, payload: utf8('still here') }));
    const echo = Buffer.from(serverFrame({ opcode: OP.TEXT, payload: 'still here' }));
    let seen = Buffer.alloc(0);
    const echoed = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        seen = Buffer.concat([seen.subarray(-16), chunk]);
        if (seen.includes(echo)) resolve();
      });
    });
    socket.resume();
    await echoed;
    socket.destroy();
  });

  it("drops the rest of a fragmented message whose first fragment the 'drop' policy dropped", async () => {
    const { wss, port } = await startEchoServer({ maxBackpressure: 64 * 1024, backpressurePolicy: 'drop', pingIntervalMs: 0 });
    after(() => stopServer(wss));
    const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const { socket, rest } = await rawHandshake(port); // paused: the backlog builds up
    after(() => socket.destroy());
    const ws = await serverSide;
    // Fill the send buffer up to the limit (bounded: at most 4000 sends).
    for (let i = 0; i < 4000 && ws.bufferedAmount + 16 * 1024 <= 64 * 1024; i++) {
      ws.send(Buffer.alloc(16 * 1024, 0x61));
      if (i % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(ws.send(Buffer.alloc(32 * 1024, 0x48), { binary: true, fin: false }), 'dropped');
    const drained = once(ws, 'drain');
    const chunks: Buffer[] = [rest];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.resume();
    await drained;
    // The backlog is gone, yet the tail of the dropped message must not go out on its own.
    assert.equal(ws.send(Buffer.from('TAIL'), { binary: true, fin: true }), 'dropped');
    ws.send(Buffer.from('after'), { binary: true });
    const next = Buffer.from(serverFrame({ opcode: OP.BINARY, payload: 'after' }));
    // Bounded: at most 200 polls of 10 ms for the next message.
    for (let i = 0; i < 200 && !Buffer.concat(chunks).includes(next); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const all = Buffer.concat(chunks);
    assert.ok(all.includes(next), 'the message after the dropped one never arrived');
    assert.ok(!all.includes(Buffer.from('TAIL')), 'the tail of a dropped message went out');
    assert.ok(!all.includes(Buffer.from([0x48, 0x48, 0x48, 0x48])), 'the dropped fragment went out');
    socket.destroy();
  });
});
