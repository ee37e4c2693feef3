import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import { Duplex } from 'node:stream';
import { rawHandshake, startServer, stopServer } from '../../support/servers.js';
import { closed, connect, serverSides, until } from '../../support/clients.js';
import { FrameStream, OP } from '../../support/frames.js';
import { writesDirectly } from '../../../src/node/socket-write.js';
import type { WebSocket } from '../../../src/index.js';

type Handle = { writeQueueSize: number; writeBuffer: Function };
const handleOf = (socket: unknown): Handle => (socket as { _handle: Handle })._handle;

/** A server-side connection subscribed to 'room' whose peer (a raw socket) reads nothing until resumed. */
async function stalledPeer() {
  const { wss, port } = await startServer();
  after(() => stopServer(wss));
  const { socket: peer, rest } = await rawHandshake(port);
  const [s] = await serverSides(wss, 1);
  s!.subscribe('room');
  after(() => peer.destroy());
  return { wss, peer, rest, s: s! };
}

/** Publishes numbered `size`-byte messages until a direct write leaves bytes in libuv's queue; returns how many. */
function publishUntilQueued(wss: { publish(topic: string, data: string): unknown }, s: WebSocket, size: number): number {
  const handle = handleOf(s.socket);
  let n = 0;
  while (handle.writeQueueSize === 0) {
    assert.ok(n < 100_000, 'libuv never queued a write');
    wss.publish('room', `${n++}:`.padEnd(size, '.'));
  }
  return n;
}

/** Reads text frames from `peer` (from `rest` on) until `count` arrived; returns their numbers. */
function readNumbered(peer: net.Socket, rest: Buffer, count: number): Promise<number[]> {
  const frames = new FrameStream();
  const numbers: number[] = [];
  return new Promise((resolve) => {
    const take = (chunk: Buffer): void => {
      for (const frame of frames.push(chunk)) {
        if (frame.opcode === OP.TEXT) numbers.push(Number(frame.payload.toString().split(':')[0]));
      }
      if (numbers.length >= count) {
        peer.off('data', take);
        resolve(numbers);
      }
    };
    peer.on('data', take);
    take(rest);
    peer.resume();
  });
}

describe('direct writes', () => {
  it("counts direct writes in the socket's bytesWritten, as Node's own writes are counted", async () => {
    const { wss, peer, rest, s } = await stalledPeer();
    const socket = s.socket as net.Socket;
    const before = socket.bytesWritten;
    for (let i = 0; i < 10; i++) wss.publish('room', `${i}:`.padEnd(30, '.'));
    const frames = await readNumbered(peer, rest, 10);
    assert.deepEqual(frames, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(socket.bytesWritten - before, 10 * (2 + 30));
  });

  it('takes plain TCP sockets only', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    const [s] = await serverSides(wss, 1);
    assert.equal(writesDirectly(s!.socket as Duplex), true);
    assert.equal(writesDirectly(new Duplex({ write: (_c, _e, cb) => cb() })), false, 'a user Duplex');
    assert.equal(writesDirectly(new net.Socket()), false, 'a socket without a handle');
    const own = Object.assign(new net.Socket(), { _handle: handleOf(s!.socket), _write: () => {} });
    assert.equal(writesDirectly(own), false, 'a socket with its own _write');
    client!.close();
  });

  it('leaves a socket its user corked to the stream path, which holds the writes until uncorked', async () => {
    const { wss, peer, rest, s } = await stalledPeer();
    const socket = s.socket!;
    socket.cork();
    wss.publish('room', '0:held');
    assert.equal(socket.writableLength, 2 + '0:held'.length, 'the Writable holds it');
    socket.uncork();
    assert.deepEqual(await readNumbered(peer, rest, 1), [0]);
  });

  it('counts what libuv queued in bufferedAmount, and keeps the order of everything sent after it', async () => {
    const { wss, peer, rest, s } = await stalledPeer();
    const published = publishUntilQueued(wss, s, 4096);
    const socket = s.socket!;
    // The write libuv queued was direct: the Writable holds nothing.
    assert.equal(socket.writableLength, 0);
    const queued = handleOf(socket).writeQueueSize;
    assert.ok(s.bufferedAmount >= queued && queued > 0, `bufferedAmount ${s.bufferedAmount}, queued ${queued}`);
    // Later writes go behind it: publications and sends alike.
    for (let i = 0; i < 20; i++) wss.publish('room', `${published + 2 * i}:p`);
    for (let i = 0; i < 20; i++) s.send(`${published + 2 * i + 1}:s`);
    await new Promise((r) => setImmediate(r));
    assert.ok(socket.writableLength > 0 || handleOf(socket).writeQueueSize > queued, 'the later writes wait behind the queued one');
    const numbers = await readNumbered(peer, rest, published + 40);
    const firstPublications = numbers.slice(0, published);
    assert.deepEqual(firstPublications, Array.from({ length: published }, (_, i) => i));
    // Sends leave at the end of the tick, publications at once while nothing waits; each keeps its own order.
    const later = numbers.slice(published);
    assert.deepEqual(later.filter((n) => (n - published) % 2 === 0), Array.from({ length: 20 }, (_, i) => published + 2 * i));
    assert.deepEqual(later.filter((n) => (n - published) % 2 === 1), Array.from({ length: 20 }, (_, i) => published + 2 * i + 1));
    await until(() => s.bufferedAmount === 0, 'an empty buffer once the peer read everything');
  });

  it("emits 'drain' once a direct write that libuv queued is out", async () => {
    const { wss, peer, rest, s } = await stalledPeer();
    let drains = 0;
    s.on('drain', () => drains++);
    const published = publishUntilQueued(wss, s, 4096);
    const socket = s.socket!;
    assert.equal(socket.writableLength, 0);
    assert.ok(s.bufferedAmount > 0);
    assert.equal(drains, 0);
    assert.equal((await readNumbered(peer, rest, published)).length, published);
    await until(() => drains === 1, "'drain'");
    assert.equal(s.bufferedAmount, 0);
  });

  it('destroys the socket with the error Node gives when a direct write fails', async () => {
    const epipe = -os.constants.errno.EPIPE;
    const describeError = (e: NodeJS.ErrnoException) => ({ name: e.name, message: e.message, code: e.code, errno: e.errno, syscall: e.syscall });
    // What Node's own write gives for the same failure of the handle.
    const server = net.createServer((c) => c.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => server.close());
    const plain = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => plain.once('connect', resolve));
    handleOf(plain).writeBuffer = () => epipe;
    const nodeError = new Promise<NodeJS.ErrnoException>((resolve) => plain.once('error', resolve));
    plain.write(Buffer.from('x'));
    const expected = describeError(await nodeError);
    assert.equal(expected.code, 'EPIPE');

    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    after(() => client!.terminate());
    const [s] = await serverSides(wss, 1);
    s!.subscribe('room');
    handleOf(s!.socket).writeBuffer = () => epipe;
    const socketError = new Promise<NodeJS.ErrnoException>((resolve) => s!.socket!.once('error', resolve));
    const closing = closed(s!);
    wss.publish('room', 'lost');
    assert.deepEqual(describeError(await socketError), expected);
    assert.equal((await closing).code, 1006);
  });

  it('closes with 1006 when the peer resets while a direct write waits in libuv', async () => {
    const { wss, peer, s } = await stalledPeer();
    publishUntilQueued(wss, s, 4096);
    assert.equal(s.socket!.writableLength, 0);
    const closing = closed(s);
    peer.resetAndDestroy();
    // More output behind the queued write, as a busy connection would have.
    for (let i = 0; i < 10; i++) wss.publish('room', 'after the reset');
    assert.equal((await closing).code, 1006);
    assert.equal(s.socket!.destroyed, true);
  });
});
