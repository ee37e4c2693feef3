/**
 * Floods: messages in 100,000 one-byte fragments (legal, delivered), fragments past
 * maxFragments (1009, documented), endless empty fragments, and ping floods (answered within
 * maxPendingPongs per read, newest ping always answered, others still served; a flooder that does
 * not read its pongs cannot make the server buffer more than maxBackpressure).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clientFrame, closePayload, OP } from '../support/frames.js';
import { closeOutcome, echoOnce, eventually, upgradedPeer, violation } from './raw-peer.js';
import { assertStillServing, startTarget, type Target } from './target.js';

const TOO_BIG = 1009;

/** `count` fragments of one byte each: the message is 'abc...zabc...' of `count` bytes. */
function oneByteFragments(count: number, fin = true): { wire: Buffer; text: string } {
  const text = Array.from({ length: count }, (_, i) => String.fromCharCode(0x61 + (i % 26))).join('');
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    frames.push(clientFrame({ opcode: i === 0 ? OP.TEXT : OP.CONTINUATION, fin: fin && i === count - 1, payload: text[i]!, maskingKey: Buffer.of(i & 0xff, 1, 2, 3) }));
  }
  return { wire: Buffer.concat(frames), text };
}

/** `count` empty fragments opening a text message that never ends. */
function emptyFragments(count: number): Buffer {
  const first = clientFrame({ opcode: OP.TEXT, fin: false });
  const next = clientFrame({ opcode: OP.CONTINUATION, fin: false });
  return Buffer.concat([first, ...Array.from({ length: count - 1 }, () => next)]);
}

describe('fragment floods', () => {
  let target: Target;
  before(async () => {
    target = await startTarget();
  });
  after(() => target.stop());

  it('delivers a message of 100,000 one-byte fragments intact (legal under the default maxFragments)', async () => {
    const { wire, text } = oneByteFragments(100_000);
    const peer = await upgradedPeer(target.port);
    peer.write(wire);
    assert.ok(await peer.until(() => peer.frames().some((f) => f.opcode === OP.TEXT), 20_000), 'no echo');
    const echoed = peer.frames().find((f) => f.opcode === OP.TEXT)!;
    assert.equal(echoed.payload.length, 100_000);
    assert.equal(echoed.payload.toString(), text);
    peer.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    assert.equal((await closeOutcome(peer)).code, 1000);
    await assertStillServing(target);
  });

  it('fails 131,073 empty fragments (one past the default maxFragments) with 1009 before the message ends', async () => {
    const outcome = await violation(target.port, emptyFragments(131_073), [], 20_000);
    assert.equal(outcome.code, TOO_BIG);
    assert.ok(outcome.closed);
    await assertStillServing(target);
  });

  it('fails an endless empty-fragment flood with 1009 and stops reading it', async () => {
    const peer = await upgradedPeer(target.port);
    // 400,000 empty fragments in 40 writes; the server must close long before the end.
    const burst = emptyFragments(10_000);
    for (let i = 0; i < 40 && !peer.ended; i++) {
      peer.write(i === 0 ? burst : burst.subarray(6));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const outcome = await closeOutcome(peer, 20_000);
    peer.destroy();
    assert.equal(outcome.code, TOO_BIG);
    assert.ok(outcome.closed);
    await assertStillServing(target);
  });

  it('delivers 200,000 empty messages in a row and still serves everyone', async () => {
    const peer = await upgradedPeer(target.port);
    const empty = clientFrame({ opcode: OP.BINARY });
    const burst = Buffer.concat(Array.from({ length: 20_000 }, () => empty));
    for (let i = 0; i < 10; i++) peer.write(burst);
    peer.write(clientFrame({ opcode: OP.TEXT, payload: 'after the flood' }));
    assert.ok(await peer.until(() => peer.frames().some((f) => f.opcode === OP.TEXT), 20_000), 'no echo after the flood');
    const frames = peer.frames();
    assert.equal(frames.filter((f) => f.opcode === OP.BINARY && f.payload.length === 0).length, 200_000);
    assert.equal(frames.at(-1)!.payload.toString(), 'after the flood');
    peer.destroy();
    await assertStillServing(target);
  });
});

describe('maxFragments set low', () => {
  let target: Target;
  before(async () => {
    target = await startTarget({ maxFragments: 1000 });
  });
  after(() => target.stop());

  it('delivers a message of exactly maxFragments fragments', async () => {
    const { wire, text } = oneByteFragments(1000);
    const peer = await upgradedPeer(target.port);
    peer.write(wire);
    assert.ok(await peer.until(() => peer.frames().some((f) => f.opcode === OP.TEXT), 5000));
    assert.equal(peer.frames()[0]!.payload.toString(), text);
    peer.destroy();
    await assertStillServing(target);
  });

  it('fails 100,000 one-byte fragments with 1009 once maxFragments is passed, without waiting for the end', async () => {
    const { wire } = oneByteFragments(100_000, false);
    const outcome = await violation(target.port, wire, [], 20_000);
    assert.equal(outcome.code, TOO_BIG);
    assert.ok(outcome.closed);
    assert.ok(await eventually(() => target.wss.clients.size === 0));
    assert.equal(target.closeCodes.at(-1), TOO_BIG);
    await assertStillServing(target);
  });
});

describe('ping floods', () => {
  let target: Target;
  before(async () => {
    target = await startTarget({ maxPendingPongs: 16 });
  });
  after(() => target.stop());

  it('answers a burst of 10,000 pings within the pending-pong cap, the newest always, then echoes', async () => {
    const peer = await upgradedPeer(target.port);
    const server = await waitForServerSide(target);
    let pingEvents = 0;
    server.on('ping', () => pingEvents++);
    const COUNT = 10_000;
    const pings: Uint8Array[] = [];
    for (let i = 0; i < COUNT; i++) {
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(i);
      pings.push(clientFrame({ opcode: OP.PING, payload }));
    }
    // One write of 100 KB: the server reads it in a few large chunks, so the cap applies.
    peer.write(Buffer.concat([...pings, clientFrame({ opcode: OP.TEXT, payload: 'after the pings' })]));
    assert.ok(await peer.until(() => peer.frames().some((f) => f.opcode === OP.TEXT), 10_000), 'no echo after the pings');
    const pongs = peer.frames().filter((f) => f.opcode === OP.PONG).map((f) => f.payload.readUInt32BE(0));
    assert.ok(pongs.length >= 1 && pongs.length < COUNT, `${pongs.length} pongs for ${COUNT} pings`);
    for (let i = 1; i < pongs.length; i++) assert.ok(pongs[i]! > pongs[i - 1]!, 'pongs out of order or repeated');
    assert.equal(pongs.at(-1), COUNT - 1, 'the newest ping was not answered');
    assert.equal(pingEvents, COUNT, 'the application saw every ping');
    peer.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    assert.equal((await closeOutcome(peer)).code, 1000);
    await assertStillServing(target);
  });
});

describe('a ping flood from a client that never reads', () => {
  const MAX_BACKPRESSURE = 1024 * 1024;
  let target: Target;
  before(async () => {
    target = await startTarget({ maxBackpressure: MAX_BACKPRESSURE, maxPendingPongs: 16 });
  });
  after(() => target.stop());

  it('keeps what the server buffers for it within maxBackpressure, and serves others meanwhile', async () => {
    const peer = await upgradedPeer(target.port);
    const server = await waitForServerSide(target);
    peer.socket.pause(); // never reads a pong
    const ping = clientFrame({ opcode: OP.PING, payload: Buffer.alloc(125, 0x70) });
    // Sixteen pings per write, each write its own read on the server: every ping is answered
    // while the kernel's buffers still take the pongs, then the server's own buffer fills.
    const batch = Buffer.concat(Array.from({ length: 16 }, () => ping));
    let peak = 0;
    let served = false;
    // Bounded: at most 100,000 writes (200 MB of pings), or until the server stops reading us.
    for (let i = 0; i < 100_000 && !peer.closed; i++) {
      peer.socket.write(batch);
      if (i % 64 === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        peak = Math.max(peak, server.bufferedAmount);
        if (peer.socket.writableLength > 8 * 1024 * 1024) break; // the server stopped reading
      }
      if (i === 20_000) served = (await echoOnce(target.port, 'meanwhile')) === 'meanwhile';
    }
    peak = Math.max(peak, server.bufferedAmount);
    assert.ok(served, 'another client was not served during the flood');
    // The limit plus what one read can add (16 pongs and the newest, 127 bytes each).
    assert.ok(peak <= MAX_BACKPRESSURE + 17 * 127, `the server buffered ${peak} bytes for a client that does not read`);
    peer.destroy();
    await assertStillServing(target);
  });
});

/** The server side of the connection accepted last (its 'connection' event precedes the 101 reaching us). */
async function waitForServerSide(target: Target) {
  assert.ok(target.accepted.length > 0);
  return target.accepted.at(-1)!;
}
