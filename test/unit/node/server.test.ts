import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from '../../../src/index.js';
import { GOOD_HEAD, rawHandshake, rawRequest, readUntilClose, startEchoServer, startServer, stopServer } from '../../support/servers.js';
import { closed, connect, openClient, serverSides, until } from '../../support/clients.js';

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}

describe('WebSocketServer', () => {
  it('requires exactly one of port, server and noServer', () => {
    assert.throws(() => new WebSocketServer({}), TypeError);
    assert.throws(() => new WebSocketServer({ port: 0, noServer: true }), TypeError);
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
});

describe('WebSocketServer.prepare and WebSocket.sendPrepared', () => {
  it('sends one prepared message to several connections, text or binary as prepared', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const clients = await connect(url, 2);
    const received = clients.map((c) => {
      const out: Array<[string, boolean]> = [];
      c.on('message', (data, isBinary) => out.push([data.toString(), isBinary]));
      return out;
    });
    const sides = await serverSides(wss, 2);
    const text = wss.prepare('{"type":"pub"}');
    const bytes = wss.prepare(Buffer.from('raw'));
    const forced = wss.prepare('as binary', { binary: true });
    for (const ws of sides) {
      for (const message of [text, bytes, forced]) assert.notEqual(ws.sendPrepared(message), 'dropped');
    }
    await until(() => received.every((r) => r.length === 3), 'three messages on each client');
    for (const r of received) assert.deepEqual(r, [['{"type":"pub"}', false], ['raw', true], ['as binary', true]]);
  });

  it('masks a prepared message sent by a client, as every client frame must be (RFC 6455 §5.3)', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    const [side] = await serverSides(wss, 1);
    const got = nextMessage(side!);
    client!.sendPrepared(wss.prepare('up'));
    const { data, isBinary } = await got;
    assert.equal(data.toString(), 'up');
    assert.equal(isBinary, false);
  });

  it('listens to a socket\'s end once, and still closes with 1006 when the peer sends FIN without a close frame', async () => {
    const { wss, port } = await startServer();
    after(() => stopServer(wss));
    const { socket } = await rawHandshake(port);
    const [serverSide] = await serverSides(wss, 1);
    const serverSocket = serverSide!._socket!;
    assert.equal(serverSocket.listenerCount('end'), 1);
    const closing = closed(serverSide!);
    socket.resume();
    socket.end();
    assert.equal((await closing).code, 1006);
    assert.equal(serverSocket.writableEnded, true);
  });

  it('throws WS_ERR_NOT_OPEN while connecting and drops after closing', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const message = wss.prepare('late');
    const connecting = new WebSocket(url);
    assert.throws(() => connecting.sendPrepared(message), { code: 'WS_ERR_NOT_OPEN' });
    await once(connecting, 'open');
    connecting.close();
    assert.equal(connecting.sendPrepared(message), 'dropped');
    await once(connecting, 'close');
    assert.equal(connecting.sendPrepared(message), 'dropped');
  });
});
