/**
 * Connections of the server's own HTTP server on their bare TCP handle (handle-transport.ts):
 * the common path stays on the handle; whatever asks for the socket gets a net.Socket made over
 * the same handle, mid-stream, with every byte in order; and the connection behaves as one on a
 * net.Socket does (backpressure, peer reset and end, close codes, the server's books).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'fullduplex';
import { HandleTransport } from '../../../src/node/handle-transport.js';
import { goodHeaders, Peer, request } from '../../hostile/raw-peer.js';

type Options = ConstructorParameters<typeof WebSocketServer>[0];

async function portServer(options: Options = {}): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', pingIntervalMs: 0, ...options });
  await once(wss, 'listening');
  return wss;
}

/** The same server on a user's HTTP server: every connection a net.Socket (the reference). */
async function socketServer(options: Options = {}): Promise<WebSocketServer> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const wss = new WebSocketServer({ server, pingIntervalMs: 0, ...options });
  wss.once('close', () => server.close());
  return wss;
}

const portOf = (wss: WebSocketServer): number => (wss.address() as AddressInfo).port;
const closed = (wss: WebSocketServer): Promise<void> => new Promise((resolve) => wss.close(() => resolve()));

async function client(wss: WebSocketServer): Promise<{ client: WebSocket; server: WebSocket }> {
  const connected = once(wss, 'connection') as Promise<[WebSocket, http.IncomingMessage]>;
  const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}`);
  const [[server]] = await Promise.all([connected, once(ws, 'open')]);
  return { client: ws, server };
}

function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

function collect(ws: WebSocket, count: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return new Promise((resolve) => {
    ws.on('message', (data: Buffer) => {
      got.push(data);
      if (got.length === count) resolve(got);
    });
  });
}

describe('connections on the bare handle', { skip: HandleTransport.onHandle < 0 }, () => {
  const servers: WebSocketServer[] = [];
  after(async () => {
    for (const wss of servers) await closed(wss).catch(() => {});
  });

  it('stays on the handle through a handshake and an echo, and leaves it when closed', async () => {
    const wss = await portServer();
    servers.push(wss);
    wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
    const base = HandleTransport.onHandle;
    const { client: ws } = await client(wss);
    assert.equal(HandleTransport.onHandle, base + 1);
    ws.send('ping me');
    const [reply] = await once(ws, 'message');
    assert.equal(String(reply), 'ping me');
    assert.equal(HandleTransport.onHandle, base + 1);
    ws.close(1000, 'bye');
    const [code] = await once(ws, 'close');
    assert.equal(code, 1000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(HandleTransport.onHandle, base);
  });

  it('stays on the handle with a verifyClient (told the request is not secure) and a subprotocol', async () => {
    const infos: boolean[] = [];
    const wss = await portServer({ verifyClient: (info: { secure: boolean }) => infos.push(info.secure) > 0, handleProtocols: () => 'chat' });
    servers.push(wss);
    const base = HandleTransport.onHandle;
    const connected = once(wss, 'connection') as Promise<[WebSocket]>;
    const ws = new WebSocket(`ws://127.0.0.1:${portOf(wss)}`, ['chat']);
    await once(ws, 'open');
    const [server] = await connected;
    assert.deepEqual(infos, [false]);
    assert.equal(server.protocol, 'chat');
    assert.equal(HandleTransport.onHandle, base + 1);
    ws.close();
    await once(server, 'close');
  });

  it('stays on the handle with a headers listener; a verifyClient that reads req.socket gets it and the connection goes on on it', async () => {
    for (const asks of [false, true]) {
      const wss = await portServer({
        verifyClient: (info: { req: http.IncomingMessage }, done: (ok: boolean) => void) => {
          const port = asks ? info.req.socket.remotePort : 0;
          setImmediate(() => done(port !== undefined));
        },
      });
      servers.push(wss);
      wss.on('headers', (headers) => headers.push('X-Extra: 1'));
      wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
      const base = HandleTransport.onHandle;
      const { client: ws, server } = await client(wss);
      assert.equal(HandleTransport.onHandle, asks ? base : base + 1);
      ws.send(pattern(100_000, 3));
      const [echo] = (await once(ws, 'message')) as [Buffer];
      assert.ok(echo.equals(pattern(100_000, 3)));
      assert.ok(server._socket instanceof net.Socket);
      ws.close(1000);
      assert.equal((await once(server, 'close'))[0], 1000);
    }
  });

  it('makes the net.Socket for a refusal and answers as before', async () => {
    const wss = await portServer({ verifyClient: () => false });
    servers.push(wss);
    const peer = await Peer.open(portOf(wss));
    peer.write(request(goodHeaders()));
    await peer.until(() => peer.closed, 5000);
    assert.match(peer.bytes.toString('latin1'), /^HTTP\/1\.1 401 /);
  });

  for (const when of ['while large messages cross both ways', 'while paused', 'after the close frame was sent'] as const) {
    it(`makes a net.Socket ${when}, losing and reordering no byte`, async () => {
      const wss = await portServer();
      servers.push(wss);
      const { client: ws, server } = await client(wss);
      const sizes = [3_000_000, 17, 70_000, 1_000_000, 5];
      const toClient = collect(ws, sizes.length);
      const toServer = collect(server, sizes.length);
      if (when === 'while paused') server.pause();
      for (const [i, size] of sizes.entries()) {
        server.send(pattern(size, i));
        ws.send(pattern(size, i + 100));
      }
      let serverClose: Promise<unknown[]> | null = null;
      if (when === 'after the close frame was sent') {
        await new Promise((resolve) => setImmediate(resolve));
        serverClose = once(server, 'close');
        server.close(4000, 'done');
      } else {
        await new Promise((resolve) => setImmediate(resolve));
        assert.ok(server.bufferedAmount > 0, 'bytes still queued');
      }
      const socket = server._socket as net.Socket;
      assert.ok(socket instanceof net.Socket);
      assert.equal(server._socket, socket, 'made once');
      if (when === 'while paused') server.resume();
      const got = await toClient;
      assert.deepEqual(got.map((b) => b.length), sizes);
      for (const [i, b] of got.entries()) assert.ok(b.equals(pattern(sizes[i]!, i)));
      if (when === 'after the close frame was sent') {
        const [code] = await once(ws, 'close');
        assert.equal(code, 4000);
        assert.equal((await serverClose!)[0], 4000);
        return;
      }
      const mine = await toServer;
      for (const [i, b] of mine.entries()) assert.ok(b.equals(pattern(sizes[i]!, i + 100)));
      assert.equal(server.bufferedAmount, 0);
      ws.close();
      assert.equal((await once(server, 'close'))[0], 1005);
    });
  }

  for (const policy of ['default', 'drop', 'latest'] as const) {
    it(`keeps bufferedAmount, send callbacks, drain and the ${policy} send policy as on a net.Socket`, async () => {
      const outcomes: unknown[] = [];
      for (const make of [portServer, socketServer]) {
        const options: Options = policy === 'default' ? {} : { maxBackpressure: 1024 * 1024, backpressurePolicy: policy };
        const wss = await make(options);
        servers.push(wss);
        const { client: ws, server } = await client(wss);
        ws.pause();
        let drains = 0;
        server.on('drain', () => drains++);
        let results = '';
        const called: Array<string | null> = [];
        for (let i = 0; i < 32; i++) {
          const result = server.send(pattern(256 * 1024, i), { key: 'k' } as never, (error?: Error | null) => called.push(error ? error.message : null));
          results += result[0];
        }
        await new Promise((resolve) => setImmediate(resolve));
        const queued = server.bufferedAmount > 1024 * 1024;
        const got: number[] = [];
        ws.on('message', (data: Buffer) => got.push(data[0]!));
        ws.resume();
        const marker = once(ws, 'close');
        // The last send: once its callback ran, everything before it is out.
        await new Promise<void>((resolve) => {
          const last = (): void => {
            if (server.bufferedAmount === 0) server.close(1000, 'end');
            else setTimeout(last, 10);
          };
          last();
          resolve();
        });
        await marker;
        outcomes.push({ results, called: called.length, queued, drained: drains > 0, got: got.join(','), after: server.bufferedAmount });
      }
      assert.deepEqual(outcomes[0], outcomes[1]);
    });
  }

  for (const peer of ['reset', 'end', 'half-close'] as const) {
    it(`reports a peer ${peer} as a net.Socket connection does`, async () => {
      const outcomes: string[] = [];
      for (const make of [portServer, socketServer]) {
        const wss = await make();
        servers.push(wss);
        const connected = once(wss, 'connection') as Promise<[WebSocket]>;
        const raw = await Peer.open(portOf(wss));
        raw.write(request(goodHeaders()));
        const [server] = await connected;
        const errors: string[] = [];
        server.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
        const closing = once(server, 'close');
        if (peer === 'reset') raw.socket.resetAndDestroy();
        else if (peer === 'end') raw.socket.end();
        else raw.socket.end(Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]));
        const [code] = await closing;
        outcomes.push(`${code} ${errors.join(',')} ${server.readyState}`);
      }
      assert.equal(outcomes[0], outcomes[1]);
    });
  }

  it('keeps the server books: getConnections, maxConnections, close only once all are gone', async () => {
    const wss = await portServer();
    const http = wss._server as http.Server;
    const { client: a } = await client(wss);
    const count = await new Promise<number>((resolve) => http.getConnections((_e, n) => resolve(n)));
    assert.equal(count, 1);
    http.maxConnections = 1;
    const refused = await Peer.open(portOf(wss));
    await refused.until(() => refused.closed, 5000);
    assert.ok(refused.closed, 'dropped past maxConnections');
    http.maxConnections = undefined as unknown as number;
    const closes: number[] = [];
    a.on('close', (code) => closes.push(code));
    let serverClosed = false;
    http.once('close', () => (serverClosed = true));
    await closed(wss);
    assert.deepEqual(closes, [1001]);
    assert.ok(serverClosed);
  });

  it('answers 408 to a handle that sends no complete head in time', async () => {
    const wss = await portServer({ handshakeTimeoutMs: 200 });
    servers.push(wss);
    const silent = await Peer.open(portOf(wss));
    const partial = await Peer.open(portOf(wss));
    partial.write('GET / HTTP/1.1\r\nHost: x\r\n');
    for (const peer of [silent, partial]) {
      await peer.until(() => peer.closed, 5000);
      assert.match(peer.bytes.toString('latin1'), /^HTTP\/1\.1 408 /);
    }
  });
});
