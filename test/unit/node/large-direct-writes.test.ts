/**
 * Writes of the socket's high-water mark or more (a 16 KiB echo) go straight to the libuv handle
 * like smaller ones (socket-write.ts), with what Node's stream path gave them kept: 'buffered'
 * from send, one 'drain' once the bytes are out, bufferedAmount counting what libuv holds, send
 * callbacks, and the rule that stops reading a peer that leaves too much unread.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { rawHandshake, startServer, stopServer } from '../../support/servers.js';
import { connect, nextMessage, serverSides, until } from '../../support/clients.js';
import { FrameStream, OP, clientFrame } from '../../support/frames.js';
import type { ServerOptions, WebSocket } from '../../../src/index.js';

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
async function stalledPeer(options: Omit<ServerOptions, 'port'> = {}) {
  const { wss, port } = await startServer(options);
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
    let drains = 0;
    s.on('drain', () => drains++);
    const payload = randomBytes(8 * 1024 * 1024);
    assert.equal(s.send(payload), 'buffered');
    await tick();
    const socket = s.socket!;
    assert.equal(socket.writableLength, 0, 'the Writable holds nothing: the write was direct');
    const queued = handleOf(socket).writeQueueSize;
    assert.ok(queued > 0, 'the kernel did not take 8 MiB at once');
    assert.ok(s.bufferedAmount >= queued, `bufferedAmount ${s.bufferedAmount}, queued ${queued}`);
    assert.equal(drains, 0);
    const [received] = await readBinary(peer, rest, 1);
    assert.ok(payload.equals(received!), 'the bytes arrive intact');
    await until(() => drains === 1, "'drain'");
    assert.equal(s.bufferedAmount, 0);
  });

  it('keep the send callback, called once the bytes are written', async () => {
    const { peer, rest, s } = await stalledPeer();
    const payload = randomBytes(64 * 1024);
    let called = 0;
    s.send(payload, (error) => {
      assert.equal(error ?? null, null);
      called++;
    });
    const [received] = await readBinary(peer, rest, 1);
    assert.ok(payload.equals(received!));
    await until(() => called === 1, 'the callback');
  });

  it('stop reading a peer that leaves more than maxBackpressure unread, a direct write counted', async () => {
    const { peer, rest, s } = await stalledPeer({ maxBackpressure: 1024 * 1024 });
    const payload = randomBytes(8 * 1024 * 1024);
    s.send(payload);
    await tick();
    const socket = s.socket as net.Socket;
    assert.equal(socket.writableLength, 0, 'direct');
    assert.ok(handleOf(socket).writeQueueSize > 1024 * 1024);
    // A ping: its pong would queue behind the unread bytes, so reading stops.
    peer.write(clientFrame({ opcode: OP.PING, payload: 'p' }));
    await until(() => socket.isPaused(), 'reading paused');
    const [received] = await readBinary(peer, rest, 1);
    assert.ok(payload.equals(received!));
    await until(() => !socket.isPaused(), 'reading resumed once the bytes left');
  });
});
