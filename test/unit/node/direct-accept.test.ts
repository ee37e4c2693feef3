/**
 * Upgrades on the server's own HTTP server: plain heads are read without Node's parser, the rest
 * by it, with the same request object, the same answers and the same handshake timeout.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'fullduplex';
import { acceptFor, goodHeaders, KEY, Peer, request } from '../../hostile/raw-peer.js';

function listening(options: ConstructorParameters<typeof WebSocketServer>[0]): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', pingIntervalMs: 0, ...options });
  return new Promise((resolve) => wss.once('listening', () => resolve(wss)));
}
const portOf = (wss: WebSocketServer): number => (wss.address() as AddressInfo).port;
const closeServer = (wss: WebSocketServer): Promise<void> => new Promise((resolve) => wss.close(() => resolve()));

describe('upgrades on the own HTTP server', () => {
  let wss: WebSocketServer;
  const seen: Array<{ ws: WebSocket; req: http.IncomingMessage; headers: string[] | null; verified: http.IncomingMessage | null }> = [];
  let lastHeaders: string[] | null = null;
  let lastVerified: http.IncomingMessage | null = null;
  before(async () => {
    wss = await listening({
      verifyClient: (info: { req: http.IncomingMessage }) => {
        lastVerified = info.req;
        return true;
      },
    });
    wss.on('headers', (headers) => {
      lastHeaders = headers;
      headers.push('X-Seen: yes');
    });
    wss.on('connection', (ws, req) => {
      seen.push({ ws, req, headers: lastHeaders, verified: lastVerified });
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  after(() => closeServer(wss));

  async function handshake(parts: string[]): Promise<Peer> {
    const peer = await Peer.open(portOf(wss));
    for (const [i, part] of parts.entries()) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      peer.write(part);
    }
    return peer;
  }

  for (const [name, split] of [
    ['in one packet', false],
    ['in two packets (read by Node’s parser)', true],
  ] as const) {
    it(`passes 'connection' and verifyClient the same request object for a head ${name}`, async () => {
      const bytes = request([...goodHeaders(), 'Origin: https://example.com', 'X-Custom: a b'], 'GET /room?id=7 HTTP/1.1');
      const before = seen.length;
      const peer = await handshake(split ? [bytes.slice(0, 40), bytes.slice(40)] : [bytes]);
      assert.ok(await peer.until(() => peer.httpHead() !== null, 5000));
      assert.equal(peer.status(), 101);
      assert.equal(peer.header('sec-websocket-accept'), acceptFor(KEY));
      assert.equal(peer.header('x-seen'), 'yes', "the 'headers' event changed the answer");
      assert.equal(seen.length, before + 1);
      const { req, verified } = seen.at(-1)!;
      assert.ok(req instanceof http.IncomingMessage);
      assert.equal(verified, req);
      assert.equal(req.method, 'GET');
      assert.equal(req.url, '/room?id=7');
      assert.equal(req.httpVersion, '1.1');
      assert.equal(req.headers.host, '127.0.0.1');
      assert.equal(req.headers.origin, 'https://example.com');
      assert.equal(req.headers['x-custom'], 'a b');
      assert.deepEqual(req.headersDistinct['x-custom'], ['a b']);
      assert.equal(req.headersDistinct, req.headersDistinct, 'made once');
      req.headersDistinct = { replaced: ['yes'] };
      assert.deepEqual(req.headersDistinct, { replaced: ['yes'] });
      assert.equal(req.rawHeaders[0], 'Host');
      assert.equal(req.socket.remotePort, peer.socket.localPort);
      peer.destroy();
    });

    it(`gives 'connection' a request with an empty body that ends when read, for a head ${name}`, async () => {
      const before = seen.length;
      const bytes = request(goodHeaders());
      const peer = await handshake(split ? [bytes.slice(0, 40), bytes.slice(40)] : [bytes]);
      assert.ok(await peer.until(() => peer.httpHead() !== null, 5000));
      assert.equal(seen.length, before + 1);
      const { req, ws } = seen.at(-1)!;
      assert.equal(req.complete, true);
      assert.equal(req.readableEnded, false, 'not read yet');
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      await new Promise((resolve) => req.once('end', resolve));
      assert.deepEqual(chunks, []);
      assert.equal(req.readableEnded, true);
      // Reading the request took nothing from the connection: a message still arrives.
      const message = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
      const mask = [1, 2, 3, 4];
      peer.write(Buffer.concat([Buffer.from([0x81, 0x85, ...mask]), Buffer.from('after').map((b, i) => b ^ mask[i & 3]!)]));
      assert.equal(await message, 'after');
      peer.destroy();
    });
  }

  it('takes a frame sent right behind the head as the first message', async () => {
    const frame = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
    const peer = await Peer.open(portOf(wss));
    peer.write(Buffer.concat([Buffer.from(request(goodHeaders())), frame]));
    assert.ok(await peer.until(() => peer.frames().length > 0, 5000));
    assert.equal(peer.frames()[0]!.payload.toString(), 'hi');
    peer.destroy();
  });

  it('answers a plain request with 426 through the HTTP server', async () => {
    const peer = await handshake(['GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n']);
    assert.ok(await peer.waitClosed(5000));
    assert.equal(peer.status(), 426);
  });
});

describe('the handshake timeout on the own HTTP server', () => {
  const TIMEOUT_MS = 2000;
  let wss: WebSocketServer;
  before(async () => {
    wss = await listening({ handshakeTimeoutMs: TIMEOUT_MS });
  });
  after(() => closeServer(wss));

  // The HTTP server checks its timeouts once a second: the answer comes within a second of the
  // timeout, never a whole timeout late.
  for (const [name, bytes] of [
    ['sends nothing', null],
    ['stops halfway through its head', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'],
    ['sends a plain request head without its end', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'],
  ] as const) {
    it(`answers a client that ${name} with 408 between handshakeTimeoutMs and one check later`, async () => {
      const started = Date.now();
      const peer = await Peer.open(portOf(wss));
      if (bytes !== null) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        peer.write(bytes);
      }
      assert.ok(await peer.waitClosed(4 * TIMEOUT_MS));
      const elapsed = Date.now() - started;
      assert.equal(peer.status(), 408);
      assert.match(peer.bytes.toString('latin1'), /^HTTP\/1\.1 408 Request Timeout\r\nConnection: close\r\n\r\n$/);
      assert.ok(elapsed >= TIMEOUT_MS - 50, `answered after ${elapsed} ms`);
      assert.ok(elapsed < TIMEOUT_MS + 1000 + 500, `answered after ${elapsed} ms`);
    });
  }
});

describe('closing the own HTTP server with heads still being read', () => {
  it('ends connections whose head had not arrived', async () => {
    const wss = await listening({ handshakeTimeoutMs: 60_000 });
    const peer = await Peer.open(portOf(wss));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await closeServer(wss);
    assert.ok(await peer.waitClosed(5000));
  });
});

describe('handshakeTimeoutMs: 0 on the own HTTP server', () => {
  it('means no timeout, as for Node: a client that waits before its head still upgrades', async () => {
    const wss = await listening({ handshakeTimeoutMs: 0 });
    after(() => closeServer(wss));
    const peer = await Peer.open(portOf(wss));
    await new Promise((resolve) => setTimeout(resolve, 1200)); // past a check of the timeout sweep, were there one
    assert.equal(peer.closed, false, 'not ended while silent');
    peer.write(request(goodHeaders()));
    assert.ok(await peer.until(() => peer.httpHead() !== null, 5000));
    assert.equal(peer.status(), 101);
    assert.match(peer.httpHead()!, new RegExp(`Sec-WebSocket-Accept: ${acceptFor(KEY).replace(/[+/=]/g, '\\$&')}`, 'i'));
  });
});
