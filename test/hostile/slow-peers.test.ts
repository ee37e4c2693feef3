/**
 * Peers that hold resources instead of breaking rules: slowloris handshakes, a thousand
 * handshakes that never finish, clients that stop reading, clients that vanish without a close.
 * Each is ended by a documented limit (handshakeTimeoutMs, maxBackpressure and its policy,
 * pingIntervalMs, the socket closing), the server forgets it, and others are served meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WebSocket } from 'fullduplex';
import { clientFrame, closePayload, OP } from '../support/frames.js';
import { echoOnce, eventually, goodHeaders, Peer, request, upgradedPeer } from './raw-peer.js';
import { activeTimers, assertStillServing, openSockets, startTarget, type Target } from './target.js';

const baseline = { sockets: 0, timers: 0 };
before(() => {
  baseline.sockets = openSockets();
  baseline.timers = activeTimers();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('slow handshakes', () => {
  const HANDSHAKE_TIMEOUT_MS = 1000;
  let target: Target;
  before(async () => {
    target = await startTarget({ handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
  });
  after(() => target.stop());

  it('closes a slowloris handshake (one byte per second) with 408 at the handshake timeout', async () => {
    const bytes = Buffer.from(request(goodHeaders()));
    const peer = await Peer.open(target.port);
    let sent = 0;
    // Bounded: the whole request would take bytes.length seconds; the server must end it long before.
    while (!peer.closed && sent < 20) {
      peer.write(bytes.subarray(sent, sent + 1));
      sent++;
      await Promise.race([sleep(1000), peer.waitClosed(1000)]);
    }
    assert.ok(await peer.waitClosed(5000), 'the server kept the slowloris connection');
    assert.ok(sent < 20, `the server read ${sent} bytes at one byte per second before closing`);
    assert.equal(peer.status(), 408);
    assert.equal(target.accepted.length, 0);
    await assertStillServing(target);
  });

  it('closes a thousand connections that never finish the handshake, serving others meanwhile', async () => {
    const accepted = target.accepted.length;
    const peers: Peer[] = [];
    // In batches, to stay within the listen backlog.
    for (let batch = 0; batch < 10; batch++) {
      const opened = await Promise.all(Array.from({ length: 100 }, () => Peer.open(target.port)));
      for (const [i, peer] of opened.entries()) {
        // Half send nothing at all, half stop in the middle of their head.
        if (i % 2 === 1) peer.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
        peers.push(peer);
      }
    }
    const message = 'served while a thousand handshakes stall';
    assert.equal(await echoOnce(target.port, message), message);
    const results = await Promise.all(peers.map((p) => p.waitClosed(10 * HANDSHAKE_TIMEOUT_MS + 5000)));
    assert.equal(results.filter((closed) => !closed).length, 0, 'some stalled handshakes were never closed');
    const statuses = new Set(peers.map((p) => p.status()));
    assert.deepEqual([...statuses], [408]);
    assert.equal(target.accepted.length, accepted + 1, 'only the echo client was accepted');
    for (const peer of peers) peer.destroy();
    await assertStillServing(target);
  });
});

describe('clients that stop reading', () => {
  const LIMIT = 1024 * 1024;
  const SIZE = 64 * 1024;

  /** Sends numbered messages of SIZE bytes until the policy drops one or 2000 were sent; returns the peak buffered. */
  async function flood(ws: WebSocket): Promise<{ peak: number; results: string[] }> {
    const results: string[] = [];
    let peak = 0;
    for (let i = 0; i < 2000 && ws.readyState === ws.OPEN; i++) {
      const message = Buffer.alloc(SIZE, i & 0xff);
      message.writeUInt32BE(i, 0);
      results.push(ws.send(message, { key: 'k' }));
      peak = Math.max(peak, ws.bufferedAmount);
      if (results.at(-1) === 'dropped' && results.filter((r) => r === 'dropped').length >= 50) break;
      if (i % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    return { peak, results };
  }

  it("closes (1008) a client that stops reading under the 'close' policy, within maxBackpressure", async () => {
    const target = await startTarget({ maxBackpressure: LIMIT, backpressurePolicy: 'close', closeTimeoutMs: 500 });
    after(() => target.stop());
    const peer = await upgradedPeer(target.port);
    peer.socket.pause();
    const ws = target.accepted.at(-1)!;
    const { peak, results } = await flood(ws);
    assert.ok(results.includes('dropped'), 'the policy never applied');
    assert.ok(peak <= LIMIT + SIZE + 64, `buffered ${peak} bytes for a client that does not read`);
    // Its close frame waits behind unread data: the close timeout ends the connection.
    assert.ok(await eventually(() => target.wss.clients.size === 0, 10_000), 'the server kept a client that does not read');
    assert.equal(target.closeCodes.length, 1);
    // The client reads again and finds the connection closed (it sees the FIN behind the data).
    peer.socket.resume();
    assert.ok(await peer.waitClosed(10_000), 'the server did not close the TCP connection');
    await assertStillServing(target);
  });

  it("keeps a client that stops reading under the 'drop' policy; what it gets later is intact and in order", async () => {
    const target = await startTarget({ maxBackpressure: LIMIT, backpressurePolicy: 'drop' });
    after(() => target.stop());
    const peer = await upgradedPeer(target.port);
    peer.socket.pause();
    const ws = target.accepted.at(-1)!;
    const { peak, results } = await flood(ws);
    assert.ok(results.includes('dropped'), 'the policy never applied');
    assert.ok(peak <= LIMIT + SIZE + 64, `buffered ${peak} bytes for a client that does not read`);
    assert.equal(ws.readyState, ws.OPEN);
    assert.equal(ws.droppedMessages, results.filter((r) => r === 'dropped').length);
    peer.socket.resume();
    const kept = results.filter((r) => r !== 'dropped').length;
    assert.ok(await peer.until(() => peer.frames().length >= kept, 20_000), 'messages the server kept never arrived');
    const numbers = peer.frames().map((f) => {
      const n = f.payload.readUInt32BE(0);
      assert.equal(f.payload.length, SIZE);
      assert.ok(f.payload.subarray(4).every((b) => b === (n & 0xff)), `message ${n} corrupted`);
      return n;
    });
    for (let i = 1; i < numbers.length; i++) assert.ok(numbers[i]! > numbers[i - 1]!, 'messages out of order');
    peer.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    assert.ok(await peer.waitClosed(5000));
    await assertStillServing(target);
  });

  it("delivers only the newest message per key under the 'latest' policy once the client reads again", async () => {
    const target = await startTarget({ maxBackpressure: LIMIT, backpressurePolicy: 'latest' });
    after(() => target.stop());
    const peer = await upgradedPeer(target.port);
    peer.socket.pause();
    const ws = target.accepted.at(-1)!;
    const { peak, results } = await flood(ws);
    assert.ok(peak <= LIMIT + SIZE + 64, `buffered ${peak} bytes for a client that does not read`);
    const last = results.length - 1;
    peer.socket.resume();
    assert.ok(await peer.until(() => peer.frames().some((f) => f.payload.readUInt32BE(0) === last), 20_000), 'the newest message never arrived');
    peer.destroy();
    await assertStillServing(target);
  });
});

describe('clients that vanish without a close', () => {
  it('forgets a client that resets its connection in the middle of a frame', async () => {
    const target = await startTarget();
    after(() => target.stop());
    const peer = await upgradedPeer(target.port);
    peer.write(clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(10_000) }).subarray(0, 5000));
    await sleep(50);
    peer.socket.resetAndDestroy();
    assert.ok(await eventually(() => target.wss.clients.size === 0), 'the server kept a reset connection');
    assert.deepEqual(target.closeCodes, [1006]);
    await assertStillServing(target);
  });

  it('forgets two hundred clients that vanish at once', async () => {
    const target = await startTarget();
    after(() => target.stop());
    const peers = await Promise.all(Array.from({ length: 200 }, () => upgradedPeer(target.port)));
    assert.equal(target.wss.clients.size, 200);
    for (const peer of peers) peer.destroy();
    assert.ok(await eventually(() => target.wss.clients.size === 0, 10_000), `${target.wss.clients.size} vanished clients kept`);
    assert.equal(target.closeCodes.filter((c) => c === 1006).length, 200);
    await assertStillServing(target);
  });

  it('terminates a client that falls silent (a half-open connection) at the heartbeat', async () => {
    const PING_INTERVAL_MS = 300;
    const target = await startTarget({ pingIntervalMs: PING_INTERVAL_MS });
    after(() => target.stop());
    const peer = await upgradedPeer(target.port);
    // From the server's view a peer whose host vanished: nothing ever arrives again, no FIN.
    peer.socket.pause();
    assert.ok(await eventually(() => target.wss.clients.size === 0, 20 * PING_INTERVAL_MS + 5000), 'the heartbeat never ended a silent client');
    assert.deepEqual(target.closeCodes, [1006]);
    peer.socket.resume();
    assert.ok(await peer.waitClosed(5000), 'the server did not close the TCP connection');
    // A client that answers every ping is kept across five beats (a silent one is gone after two).
    const lively = await upgradedPeer(target.port);
    let answered = 0;
    const pings = (): number => lively.frames().filter((f) => f.opcode === OP.PING).length;
    while (answered < 5 && (await lively.until(() => pings() > answered, 20 * PING_INTERVAL_MS + 5000))) {
      answered++;
      lively.write(clientFrame({ opcode: OP.PONG }));
    }
    assert.equal(answered, 5, 'the heartbeat stopped pinging');
    assert.equal(lively.closed, false, 'a live client was terminated');
    lively.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    assert.ok(await lively.waitClosed(5000));
    await assertStillServing(target);
  });
});

describe('after every slow peer', () => {
  it('leaves no socket and no timer behind', async () => {
    assert.ok(await eventually(() => openSockets() <= baseline.sockets, 10_000), `${openSockets() - baseline.sockets} sockets left open`);
    assert.ok(await eventually(() => activeTimers() <= baseline.timers, 10_000), `${activeTimers() - baseline.timers} timers left`);
  });
});
