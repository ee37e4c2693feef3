/**
 * A load-generator connection as its peer sees it (src/loadgen/client.ts, tcp-handle.ts): the
 * source address it binds to, the request bytes, pongs for pings, the close frame and FIN of
 * close(), the reset of drop(), and what it reports when the server closes or resets it. Run
 * here on bare TCP handles, and again in a child process without `process.binding`, where the
 * same checks must hold on node:net.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ACCEPT, upgradeRequest } from '../../../src/loadgen/frames.js';
import { Client, LoadErrorKind } from '../../../src/loadgen/client.js';
import { HandleSocket, bareTcp } from '../../../src/loadgen/tcp-handle.js';

const WITHOUT_BINDING = process.env.FDX_TEST_WITHOUT_BINDING === '1';
const RESPONSE = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`;

interface Peer {
  socket: net.Socket;
  /** Bytes after the request head. */
  received: Buffer[];
  ended: Promise<string>;
}

/** A server that answers the upgrade and hands over each connection. */
async function server(): Promise<{ port: number; next(): Promise<Peer>; close(): void }> {
  const waiting: ((peer: Peer) => void)[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    let head: Buffer | null = Buffer.alloc(0);
    const peer: Peer = {
      socket,
      received: [],
      ended: new Promise((resolve) => {
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        socket.on('end', () => resolve('end'));
      }),
    };
    socket.on('data', (chunk: Buffer) => {
      if (head === null) return void peer.received.push(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      assert.equal(head.subarray(0, end + 4).toString('latin1'), upgradeRequest(`127.0.0.1:${port}`).toString('latin1'));
      if (head.length > end + 4) peer.received.push(head.subarray(end + 4));
      head = null;
      socket.write(RESPONSE);
      waiting.shift()?.(peer);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    next: () => new Promise((resolve) => waiting.push(resolve)),
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

async function open(port: number, errors: string[], localAddress?: string): Promise<Client> {
  return Client.open({
    host: '127.0.0.1',
    port,
    localAddress,
    request: upgradeRequest(`127.0.0.1:${port}`),
    deflate: false,
    subprotocol: null,
    match: null,
    timeoutMs: 5000,
    onError: (kind, detail) => errors.push(`${kind}: ${detail}`),
  });
}

const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
};

test('connections run on bare handles where the bindings exist, on node:net where not', async () => {
  assert.equal(bareTcp, !WITHOUT_BINDING);
  const srv = await server();
  try {
    const client = await open(srv.port, []);
    assert.equal(client.socket instanceof HandleSocket, !WITHOUT_BINDING);
    assert.equal(client.socket instanceof net.Socket, WITHOUT_BINDING);
    client.drop();
  } finally {
    srv.close();
  }
});

test('binds to its source address, answers a ping, and drop() resets', async () => {
  const srv = await server();
  const errors: string[] = [];
  try {
    const peer = srv.next();
    const client = await open(srv.port, errors, '127.0.0.7');
    const { socket, received, ended } = await peer;
    assert.equal(socket.remoteAddress, '127.0.0.7');
    socket.write(Buffer.from([0x89, 0x02, 0x6f, 0x6b]));
    await until(() => Buffer.concat(received).length >= 8);
    const pong = Buffer.concat(received);
    assert.equal(pong[0], 0x8a);
    assert.equal(pong[1], 0x82);
    assert.equal(String.fromCharCode(pong[6]! ^ pong[2]!, pong[7]! ^ pong[3]!), 'ok');
    client.drop();
    assert.equal(await ended, 'ECONNRESET');
    await until(() => client.closing);
    assert.deepEqual(errors, []);
  } finally {
    srv.close();
  }
});

test('close() sends a close frame with 1000, then a FIN', async () => {
  const srv = await server();
  const errors: string[] = [];
  try {
    const peer = srv.next();
    const client = await open(srv.port, errors);
    const { received, ended } = await peer;
    client.close();
    assert.equal(await ended, 'end');
    const frame = Buffer.concat(received);
    assert.equal(frame.length, 8);
    assert.equal(frame[0], 0x88);
    assert.equal(frame[1], 0x82);
    assert.equal(((frame[6]! ^ frame[2]!) << 8) | (frame[7]! ^ frame[3]!), 1000);
    assert.deepEqual(errors, []);
  } finally {
    srv.close();
  }
});

test('a server close frame, a lost connection and a reset are reported with their kinds', async () => {
  const srv = await server();
  const errors: string[] = [];
  try {
    let peer = srv.next();
    await open(srv.port, errors);
    (await peer).socket.write(Buffer.from([0x88, 0x04, 0x03, 0xe9, 0x62, 0x79]));
    await until(() => errors.length === 1);
    assert.deepEqual(errors, [`${LoadErrorKind.SERVER_CLOSE}: server sent close 1001 by`]);

    peer = srv.next();
    const ended = await open(srv.port, errors);
    (await peer).socket.end();
    await until(() => ended.closing);
    assert.deepEqual(errors.slice(1), [`${LoadErrorKind.CONNECTION_LOST}: connection closed without a close frame`]);

    peer = srv.next();
    const reset = await open(srv.port, errors);
    (await peer).socket.resetAndDestroy();
    await until(() => reset.closing);
    // Reported once: the close after the reset is the same lost connection.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(errors.slice(2), [`${LoadErrorKind.CONNECTION_LOST}: ECONNRESET read ECONNRESET`]);
  } finally {
    srv.close();
  }
});

test('a source address that cannot be bound rejects as a connect error', async () => {
  const errors: string[] = [];
  const failure = await open(9, errors, '192.0.2.1').then(
    () => null,
    (error: unknown) => error,
  );
  assert.ok(failure instanceof Error);
  assert.deepEqual(errors, [`${LoadErrorKind.CONNECT}: EADDRNOTAVAIL bind EADDRNOTAVAIL 192.0.2.1`]);
});

test('the same checks pass on node:net when process.binding is missing', { skip: WITHOUT_BINDING }, () => {
  const file = fileURLToPath(import.meta.url);
  // Its own test run, reporting on stdout (not to this runner).
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--import', 'data:text/javascript,process.binding=undefined', '--test', file], {
    env: { ...env, FDX_TEST_WITHOUT_BINDING: '1' },
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /# pass 5\n/);
  assert.match(result.stdout, /# fail 0\n/);
});
