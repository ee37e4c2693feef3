/**
 * Writes of the socket's high-water mark or more (a 16 KiB echo) go straight to the libuv handle
 * like smaller ones (socket-write.ts), up to 64 KiB, with what Node's stream path gave them kept:
 * 'buffered' from send, one 'drain' once the bytes are out, bufferedAmount counting what libuv
 * holds, send callbacks.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { rawHandshake, startServer, stopServer } from '../../support/servers.js';
import { connect, nextMessage, serverSides, until } from '../../support/clients.js';
import { FrameStream, OP } from '../../support/frames.js';
import type { WebSocket } from '../../../src/index.js';

type Handle = { writeQueueSize: number };
const handleOf = (socket: unknown): Handle => (socket as { _handle: Handle })._handle;

/** Counts the stream path's writes on `ws`'s socket (direct writes bypass socket.write). */
function countStreamWrites(ws: WebSocket): { count: number } {
  const socket = ws.socket as net.Socket;
  const counter = { count: 0 };
  const write = socket.write;
  socket.write = function (this: net.Socket, ...args: unknown[]) {
    counter.count++;
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof socket.write;
  return counter;
}

/** A server-side connection whose peer (a raw socket) reads nothing until resumed. */
async function stalledPeer() {
  const { wss, port } = await startServer();
  after(() => stopServer(wss));
  const { socket: peer, rest } = await rawHandshake(port);
  peer.pause();
  const [s] = await serverSides(wss, 1);
  after(() => peer.destroy());
  return { peer, rest, s: s! };
}

/** Reads binary frames from `peer` (from `rest` on) until `count` arrived. */
function readBinary(peer: net.Socket, rest: Buffer, count: number): Promise<Buffer[]> {
  const frames = new FrameStream();
  const payloads: Buffer[] = [];
  return new Promise((resolve) => {
    const take = (chunk: Buffer): void => {
      for (const frame of frames.push(chunk)) if (frame.opcode === OP.BINARY) payloads.push(Buffer.from(frame.payload));
      if (payloads.length >= count) {
        peer.off('data', take);
        resolve(payloads);
      }
    };
    peer.on('data', take);
    take(rest);
    peer.resume();
  });
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('writes of the high-water mark or more', () => {
  it("go to the handle directly, and 'drain' follows once, as for Node's own write", async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    after(() => client!.terminate());
    const [s] = await serverSides(wss, 1);
    const writes = countStreamWrites(s!);
    let drains = 0;
    s!.on('drain', () => drains++);
    const payload = randomBytes(20 * 1024);
    const arriving = nextMessage(client!);
    assert.equal(s!.send(payload), 'buffered', 'past the high-water mark: a drain follows');
    const { data, isBinary } = await arriving;
    assert.equal(isBinary, true);
    assert.ok(payload.equals(data as Buffer));
    await until(() => drains === 1, "'drain'");
    await tick();
    assert.equal(drains, 1, "one 'drain'");
    assert.equal(writes.count, 0, 'no write took the stream path');
    assert.equal(s!.bufferedAmount, 0);
  });

  it("go direct in order when several are made in one tick, and one 'drain' finds the buffer empty", async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    after(() => client!.terminate());
    const [s] = await serverSides(wss, 1);
    s!.subscribe('room');
    const writes = countStreamWrites(s!);
    let drains = 0;
    s!.on('drain', () => {
      drains++;
      assert.equal(s!.bufferedAmount, 0, "nothing waits when 'drain' comes");
    });
    const received: Buffer[] = [];
    client!.on('message', (data) => received.push(data as Buffer));
    const published = randomBytes(20 * 1024);
    const sent = randomBytes(20 * 1024);
    // The publication is written at once, the send at the end of the tick: two writes.
    wss.publish('room', published);
    s!.send(sent);
    await until(() => received.length === 2, 'both messages');
    assert.ok(published.equals(received[0]!) && sent.equals(received[1]!));
    await until(() => drains > 0, "'drain'");
    await tick();
    assert.equal(drains, 1, "one 'drain', once both are out");
    assert.equal(writes.count, 0, 'no write took the stream path');
  });

  it("count what libuv queued in bufferedAmount until the peer reads it, then 'drain'", async () => {
    const { peer, rest, s } = await stalledPeer();
    const socket = s.socket!;
    const payloads: Buffer[] = [];
    // 40 KiB messages, one per turn, until the kernel leaves part of one in libuv's queue.
    while (handleOf(socket).writeQueueSize === 0) {
      assert.ok(payloads.length < 10_000, 'libuv never queued a write');
      const payload = randomBytes(40 * 1024);
      payloads.push(payload);
      s.send(payload);
      await tick();
    }
    assert.equal(socket.writableLength, 0, 'the Writable holds nothing: the write was direct');
    const queued = handleOf(socket).writeQueueSize;
    assert.ok(s.bufferedAmount >= queued, `bufferedAmount ${s.bufferedAmount}, queued ${queued}`);
    let drains = 0;
    s.on('drain', () => drains++);
    await tick();
    assert.equal(drains, 0, "no 'drain' while bytes wait");
    const received = await readBinary(peer, rest, payloads.length);
    assert.ok(received.every((bytes, i) => bytes.equals(payloads[i]!)), 'the bytes arrive intact, in order');
    await until(() => drains === 1, "'drain'");
    assert.equal(s.bufferedAmount, 0);
  });

  it('keep the send callback, called once the bytes are written', async () => {
    const { peer, rest, s } = await stalledPeer();
    const payload = randomBytes(32 * 1024);
    let called = 0;
    s.send(payload, (error) => {
      assert.equal(error ?? null, null);
      called++;
    });
    const [received] = await readBinary(peer, rest, 1);
    assert.ok(payload.equals(received!));
    await until(() => called === 1, 'the callback');
  });

  it('of 64 KiB or more keep the stream path, which counts a chunk whole until it is written', async () => {
    const { peer, rest, s } = await stalledPeer();
    const writes = countStreamWrites(s);
    const payload = randomBytes(8 * 1024 * 1024);
    assert.equal(s.send(payload), 'buffered');
    await tick();
    assert.ok(writes.count > 0, 'the stream path (header and payload)');
    assert.ok(s.bufferedAmount >= payload.length, `bufferedAmount ${s.bufferedAmount}`);
    const [received] = await readBinary(peer, rest, 1);
    assert.ok(payload.equals(received!));
    await until(() => s.bufferedAmount === 0, 'an empty buffer');
  });
});
