/**
 * WebSockets over HTTP/2 (RFC 8441) through the public API: WebSocketServer on node:http2
 * servers (h2c, TLS, HTTP/1.1 beside it on one port), what works over a stream as over TCP,
 * the answers to bad input (statuses, RST_STREAM codes) with the session and its other streams
 * unaffected, and the client's `http2` option (one shared session per origin, 'auto').
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from '../../../src/index.js';
import { OP, clientFrame, closePayload, parseFrames } from '../../support/frames.js';
import { TLS_FIXTURE, connectHeaders, openStream, rawSession, startHttp2Server } from '../../support/http2-peers.js';
import { closed, nextMessage, openClient, serverSides, until } from '../../support/clients.js';

const { NGHTTP2_CANCEL } = http2.constants;

function echo(wss: WebSocketServer): void {
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on('error', () => {});
  });
}

/** Reads a raw stream's frames as they come. */
function framesOf(stream: http2.ClientHttp2Stream): Array<{ opcode: number; payload: Uint8Array }> {
  const frames: Array<{ opcode: number; payload: Uint8Array }> = [];
  let buffered = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const parsed = parseFrames(new Uint8Array(buffered));
    frames.length = 0;
    for (const f of parsed) frames.push({ opcode: f.opcode, payload: f.payload });
  });
  return frames;
}

describe('WebSocketServer over HTTP/2', () => {
  it('accepts an extended CONNECT on an h2c server and gives the same connection event', async () => {
    const h2 = await startHttp2Server();
    after(() => h2.close());
    echo(h2.wss);
    const requests: string[] = [];
    h2.wss.on('connection', (_ws, req) => requests.push(`${req.httpVersion} ${req.url}`));
    const ws = await openClient(`${h2.url}/room?x=1`, [], { http2: true });
    ws.send('hello');
    assert.equal(String((await nextMessage(ws)).data), 'hello');
    assert.deepEqual(requests, ['2.0 /room?x=1']);
    assert.equal(ws.readyState, WebSocket.OPEN);
    const [server] = await serverSides(h2.wss, 1);
    const serverClosed = closed(server!);
    ws.close(1000, 'bye');
    assert.deepEqual(await closed(ws), { code: 1000, reason: 'bye' });
    assert.deepEqual(await serverClosed, { code: 1000, reason: 'bye' });
  });

  it('announces SETTINGS_ENABLE_CONNECT_PROTOCOL itself when the server was made without it', async () => {
    const h2 = await startHttp2Server({}, { withoutConnectSetting: true });
    after(() => h2.close());
    echo(h2.wss);
    const session = await rawSession(h2.port);
    after(() => session.close());
    assert.equal(session.remoteSettings.enableConnectProtocol, true);
  });

  it('serves HTTP/1.1 upgrades and HTTP/2 streams on one TLS port (ALPN h2, http/1.1), pages too', async () => {
    const h2 = await startHttp2Server({}, { secure: true, allowHTTP1: true });
    after(() => h2.close());
    echo(h2.wss);
    h2.server.on('request', (_req, res) => res.end('page'));
    const seen: string[] = [];
    h2.wss.on('connection', (_ws, req) => seen.push(req.httpVersion));
    const over1 = await openClient(h2.url, [], { rejectUnauthorized: false });
    const over2 = await openClient(h2.url, [], { http2: true, rejectUnauthorized: false });
    for (const ws of [over1, over2]) {
      ws.send('x');
      assert.equal(String((await nextMessage(ws)).data), 'x');
    }
    assert.deepEqual(seen.sort(), ['1.1', '2.0']);
    assert.equal(over1.socket!.constructor.name, 'TLSSocket');
    assert.ok('session' in over2.socket!, 'an HTTP/2 stream');
    // The same session still serves ordinary requests beside the WebSocket.
    const page = await new Promise<string>((resolve) => {
      https.get(`https://127.0.0.1:${h2.port}/`, { rejectUnauthorized: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      });
    });
    assert.equal(page, 'page');
    over1.close();
    over2.close();
    await Promise.all([closed(over1), closed(over2)]);
  });

  it('negotiates subprotocols and permessage-deflate, and checks origins and verifyClient', async () => {
    const h2 = await startHttp2Server({
      perMessageDeflate: true,
      handleProtocols: (offered) => (offered.has('b') ? 'b' : false),
      origins: ['https://good.example'],
      verifyClient: (info: { req: { headers: Record<string, unknown> } }, cb: (ok: boolean, code?: number) => void) =>
        cb(info.req.headers['x-token'] === 'yes', 403),
    });
    after(() => h2.close());
    echo(h2.wss);
    const ws = await openClient(h2.url, ['a', 'b'], { http2: true, origin: 'https://good.example', headers: { 'X-Token': 'yes' } });
    assert.equal(ws.protocol, 'b');
    assert.equal(ws.extensions, 'permessage-deflate');
    const big = 'z'.repeat(50_000);
    ws.send(big);
    assert.equal(String((await nextMessage(ws)).data), big);
    ws.close();

    const session = await rawSession(h2.port);
    after(() => session.close());
    const badOrigin = await openStream(session, connectHeaders(h2.port, '/', { origin: 'https://evil.example', 'x-token': 'yes' }));
    assert.equal(badOrigin.status, 403);
    const noToken = await openStream(session, connectHeaders(h2.port, '/', { origin: 'https://good.example' }));
    assert.equal(noToken.status, 403);
    const client = new WebSocket(h2.url, { http2: true, origin: 'https://evil.example' });
    const [error] = await once(client, 'error');
    assert.equal((error as { code: string }).code, 'WS_ERR_UNEXPECTED_RESPONSE');
    assert.match((error as Error).message, /403/);
  });

  it('answers bad extended CONNECTs with statuses, and the session and its other streams go on', async () => {
    const h2 = await startHttp2Server();
    after(() => h2.close());
    echo(h2.wss);
    const session = await rawSession(h2.port);
    after(() => session.close());
    const good = await openStream(session, connectHeaders(h2.port));
    assert.equal(good.status, 200);
    const frames = framesOf(good.stream);

    const noProtocol = await openStream(session, { ':method': 'CONNECT', ':authority': `127.0.0.1:${h2.port}` });
    assert.equal(noProtocol.status, 405);
    const version = await openStream(session, connectHeaders(h2.port, '/', { 'sec-websocket-version': '8' }));
    assert.equal(version.status, 426);
    assert.equal(version.headers['sec-websocket-version'], '13');
    const other = await openStream(session, connectHeaders(h2.port, '/', { ':protocol': 'not-websocket' }));
    assert.equal(other.status, 501);
    const badOffer = await openStream(session, connectHeaders(h2.port, '/', { 'sec-websocket-protocol': 'a b' }));
    assert.equal(badOffer.status, 400);

    good.stream.write(clientFrame({ opcode: OP.TEXT, payload: 'still here' }));
    await until(() => frames.length === 1, 'the echo on the first stream');
    assert.equal(Buffer.from(frames[0]!.payload).toString(), 'still here');
    assert.equal(session.closed || session.destroyed, false);
  });

  it('reports 1006 when a stream is reset mid-message, and the session\'s other WebSockets are unaffected', async () => {
    const h2 = await startHttp2Server();
    after(() => h2.close());
    echo(h2.wss);
    const codes: number[] = [];
    h2.wss.on('connection', (ws) => ws.on('close', (code) => codes.push(code)));
    const session = await rawSession(h2.port);
    after(() => session.close());
    const doomed = await openStream(session, connectHeaders(h2.port));
    const survivor = await openStream(session, connectHeaders(h2.port));
    const survivorFrames = framesOf(survivor.stream);
    await serverSides(h2.wss, 2);
    // Half of a 1000-byte message, then RST_STREAM.
    const frame = clientFrame({ opcode: OP.BINARY, payload: new Uint8Array(1000) });
    doomed.stream.write(frame.subarray(0, 500));
    await new Promise((r) => setTimeout(r, 20));
    doomed.stream.close(NGHTTP2_CANCEL);
    await until(() => codes.length === 1, 'the reset stream closing');
    assert.deepEqual(codes, [1006]);
    survivor.stream.write(clientFrame({ opcode: OP.TEXT, payload: 'ok' }));
    await until(() => survivorFrames.length === 1, 'the other stream\'s echo');
    assert.equal(h2.wss.clients.size, 1);
  });

  it('answers 429 past maxStreamsPerSession, and takes streams again once one closed', async () => {
    const h2 = await startHttp2Server({ maxStreamsPerSession: 3 });
    after(() => h2.close());
    echo(h2.wss);
    const session = await rawSession(h2.port);
    after(() => session.close());
    const open: Array<Awaited<ReturnType<typeof openStream>>> = [];
    for (let i = 0; i < 3; i++) open.push(await openStream(session, connectHeaders(h2.port)));
    assert.deepEqual(open.map((o) => o.status), [200, 200, 200]);
    const flood = await Promise.all(Array.from({ length: 20 }, () => openStream(session, connectHeaders(h2.port))));
    assert.ok(flood.every((o) => o.status === 429), 'every stream past the limit gets 429');
    // A clean close of one WebSocket frees its place.
    open[0]!.stream.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    open[0]!.stream.on('end', () => open[0]!.stream.end());
    open[0]!.stream.resume();
    await once(open[0]!.stream, 'close');
    const again = await openStream(session, connectHeaders(h2.port));
    assert.equal(again.status, 200);
    // A second session has places of its own.
    const other = await rawSession(h2.port);
    after(() => other.close());
    assert.equal((await openStream(other, connectHeaders(h2.port))).status, 200);
  });

  it('closes gracefully: 1001 to every client, the streams end; terminate() resets with CANCEL', async () => {
    const h2 = await startHttp2Server();
    echo(h2.wss);
    const session = await rawSession(h2.port);
    after(() => session.close());
    const raw = await openStream(session, connectHeaders(h2.port));
    const [server] = await serverSides(h2.wss, 1);
    server!.terminate();
    await once(raw.stream, 'close');
    assert.equal(raw.stream.rstCode, NGHTTP2_CANCEL);

    const ws = await openClient(h2.url, [], { http2: true });
    const done = closed(ws);
    await new Promise<void>((resolve) => h2.wss.close(() => resolve()));
    assert.equal((await done).code, 1001);
    await h2.close();
  });

  it('publishes to topics and keeps the heartbeat over streams', async () => {
    const h2 = await startHttp2Server({ pingIntervalMs: 200 });
    after(() => h2.close());
    h2.wss.on('connection', (ws) => ws.subscribe('news'));
    const a = await openClient(h2.url, [], { http2: true });
    const b = await openClient(h2.url, [], { http2: true });
    await until(() => h2.wss.subscriberCount('news') === 2, 'two subscribers');
    const got = Promise.all([nextMessage(a), nextMessage(b)]);
    h2.wss.publish('news', 'extra');
    assert.deepEqual((await got).map((m) => String(m.data)), ['extra', 'extra']);
    // A raw stream that never answers pings is cut off by the heartbeat (RST_STREAM CANCEL).
    const session = await rawSession(h2.port);
    after(() => session.close());
    const silent = await openStream(session, connectHeaders(h2.port));
    silent.stream.resume();
    await once(silent.stream, 'close');
    assert.equal(silent.stream.rstCode, NGHTTP2_CANCEL);
    assert.equal(a.readyState, WebSocket.OPEN, 'clients that answer pings stay');
    a.close();
    b.close();
  });

  it('applies backpressure per stream: a stream that does not read holds back only itself', async () => {
    const h2 = await startHttp2Server();
    after(() => h2.close());
    echo(h2.wss);
    const session = await rawSession(h2.port);
    after(() => session.close());
    const slow = await openStream(session, connectHeaders(h2.port));
    slow.stream.pause();
    const fast = await openClient(h2.url, [], { http2: true });
    const [slowServer] = await serverSides(h2.wss, 1);
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 32; i++) slowServer!.send(chunk);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(slowServer!.bufferedAmount > 512 * 1024, `the slow stream holds its bytes (${slowServer!.bufferedAmount})`);
    fast.send('through');
    assert.equal(String((await nextMessage(fast)).data), 'through');
    fast.close();
  });
});

describe('WebSocket client over HTTP/2', () => {
  it('shares one session among the WebSockets to one origin and closes it with the last of them', async () => {
    const h2 = await startHttp2Server();
    after(() => h2.close());
    echo(h2.wss);
    const clients = await Promise.all(Array.from({ length: 5 }, () => openClient(h2.url, [], { http2: true })));
    assert.equal(h2.sessions.length, 1);
    for (const ws of clients.slice(0, 4)) {
      ws.close();
      await closed(ws);
    }
    assert.equal(h2.sessions[0]!.closed || h2.sessions[0]!.destroyed, false, 'open while one WebSocket uses it');
    clients[4]!.close();
    await closed(clients[4]!);
    await until(() => h2.sessions[0]!.closed || h2.sessions[0]!.destroyed, 'the session closing');
  });

  it("with 'auto' uses HTTP/2 where the server offers it, HTTP/1.1 over the same TLS connection where not", async () => {
    const h2 = await startHttp2Server({}, { secure: true, allowHTTP1: true });
    after(() => h2.close());
    echo(h2.wss);
    const viaH2 = await openClient(h2.url, [], { http2: 'auto', rejectUnauthorized: false });
    assert.ok('session' in viaH2.socket!, 'an HTTP/2 stream');
    viaH2.close();

    const server = https.createServer(TLS_FIXTURE);
    let tlsConnections = 0;
    server.on('secureConnection', () => tlsConnections++);
    const wss = new WebSocketServer({ server });
    echo(wss);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => new Promise<void>((resolve) => wss.close(() => server.close(() => resolve()))));
    const viaH1 = await openClient(`wss://127.0.0.1:${(server.address() as AddressInfo).port}/`, [], { http2: 'auto', rejectUnauthorized: false });
    viaH1.send('one');
    assert.equal(String((await nextMessage(viaH1)).data), 'one');
    assert.equal(viaH1.socket!.constructor.name, 'TLSSocket');
    assert.equal(tlsConnections, 1, 'one TLS handshake: ALPN chose http/1.1 and the upgrade followed on it');
    viaH1.close();
    await closed(viaH1);
  });

  it('fails with WS_ERR_H2_NOT_SUPPORTED where the server does not announce extended CONNECT', async () => {
    const server = http2.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    server.on('session', (s) => after(() => s.destroy()));
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, { http2: true });
    const closing = closed(ws);
    const [error] = await once(ws, 'error');
    assert.equal((error as { code: string }).code, 'WS_ERR_H2_NOT_SUPPORTED');
    assert.equal((await closing).code, 1006);
  });
});
