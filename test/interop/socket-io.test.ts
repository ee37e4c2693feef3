/**
 * socket.io, a library built on `ws`, runs on fullduplex unchanged: its server with our
 * WebSocketServer as `wsEngine`, and socket.io-client (engine.io-client, which uses `ws` in Node)
 * with our WebSocket as its transport's socket and `autoUnref` on (it reads `ws._socket`). Each
 * end is also crossed with the stock `ws` counterpart.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { NodeWebSocket } from 'engine.io-client';
import { WebSocketServer as WsServer } from 'ws';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { within } from './inbox.js';

/** engine.io-client's Node WebSocket transport, making its sockets with our client. */
class FullduplexTransport extends NodeWebSocket {
  override createSocket(uri: string, protocols: string | string[] | undefined, opts: Record<string, unknown>) {
    return new WebSocket(uri, protocols ?? [], opts) as unknown as ReturnType<NodeWebSocket['createSocket']>;
  }
}

interface Started {
  io: Server;
  url: string;
  close(): Promise<void>;
}

async function startSocketIo(wsEngine: unknown): Promise<Started> {
  const httpServer = http.createServer();
  const server = new Server(httpServer, { wsEngine, transports: ['websocket'] });
  server.on('connection', (socket: ServerSocket) => {
    socket.on('echo', (payload: unknown, ack: (reply: unknown) => void) => ack({ echoed: payload }));
    socket.on('join', (room: string, ack: () => void) => {
      void socket.join(room);
      ack();
    });
    socket.on('shout', (room: string, text: string) => server.to(room).emit('heard', text));
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  return {
    io: server,
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function connectClient(url: string, ours: boolean): ClientSocket {
  return io(url, {
    transports: ours ? [FullduplexTransport as unknown as string] : ['websocket'],
    autoUnref: true,
    reconnection: false,
    forceNew: true,
  });
}

async function exercise(server: Started, ours: boolean): Promise<void> {
  const a = connectClient(server.url, ours);
  const b = connectClient(server.url, ours);
  try {
    await within(Promise.all([a, b].map((c) => new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('connect_error', reject);
    }))), 5000, 'both clients connected');
    const reply = await within(a.emitWithAck('echo', { text: 'héllo ✓', bytes: Buffer.from([1, 2, 3]) }), 5000, 'echo ack');
    assert.deepEqual(reply.echoed.text, 'héllo ✓');
    assert.deepEqual(Buffer.from(reply.echoed.bytes), Buffer.from([1, 2, 3]));
    await within(b.emitWithAck('join', 'room'), 5000, 'join ack');
    const heard = new Promise<string>((resolve) => b.once('heard', resolve));
    a.emit('shout', 'room', 'to the room');
    assert.equal(await within(heard, 5000, 'room broadcast'), 'to the room');
    const reason = new Promise<string>((resolve) => b.once('disconnect', resolve));
    const serverSide = [...server.io.sockets.sockets.values()].find((s) => s.rooms.has('room'));
    serverSide?.disconnect(true);
    assert.equal(await within(reason, 5000, 'server-side disconnect'), 'io server disconnect');
  } finally {
    a.disconnect();
    b.disconnect();
  }
}

describe('socket.io on fullduplex', () => {
  const started: Started[] = [];
  after(async () => {
    for (const s of started) await s.close();
  });

  it('serves socket.io-client with our WebSocketServer as wsEngine', async () => {
    const server = await startSocketIo(WebSocketServer);
    started.push(server);
    await exercise(server, false);
  });

  it('connects socket.io-client through our WebSocket with autoUnref to a server on our wsEngine', async () => {
    const server = await startSocketIo(WebSocketServer);
    started.push(server);
    await exercise(server, true);
  });

  it("connects socket.io-client through our WebSocket to a server on ws's engine", async () => {
    const server = await startSocketIo(WsServer);
    started.push(server);
    await exercise(server, true);
  });
});
