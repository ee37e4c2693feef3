import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket, { WebSocketServer, type PublishResult } from '../../../src/index.js';
import { connect, serverSides, until } from '../../support/clients.js';
import { rawHandshake, startEchoServer, startServer, stopServer } from '../../support/servers.js';
import { clientFrame, utf8 } from '../../support/frames.js';
import { Opcode, ReadyState } from '../../../src/protocol/index.js';
import { SendPolicy, type Backlog, type Backpressured, type DropReason } from '../../../src/node/send-policy.js';

/** A connection as the policy sees it: `buffered` bytes waiting. */
function target(buffered: number) {
  const log: string[] = [];
  const t: Backpressured & { buffered: number; log: string[] } = {
    readyState: ReadyState.OPEN,
    buffered,
    log,
    backlog: null as Backlog | null,
    get bufferedAmount() {
      return this.buffered;
    },
    dropped(reason: DropReason) {
      this.backlog!.dropped++;
      log.push(`dropped ${reason}`);
    },
    close(code: number) {
      (this as { readyState: ReadyState }).readyState = ReadyState.CLOSING;
      log.push(`close ${code}`);
    },
  };
  return t;
}

describe('SendPolicy', () => {
  it('holds a message only when bytes already wait and it would pass the limit; 0 means no limit', () => {
    const policy = new SendPolicy(100, 'drop');
    assert.equal(policy.mustHold(target(0), 1000, undefined), false, 'an empty buffer takes any message');
    assert.equal(policy.mustHold(target(50), 50, undefined), false);
    assert.equal(policy.mustHold(target(50), 51, undefined), true);
    assert.equal(new SendPolicy(0, 'drop').mustHold(target(1e9), 1e9, undefined), false);
  });

  it("'drop' drops and counts, 'close' also closes with 1008", () => {
    const dropping = target(10);
    assert.equal(new SendPolicy(1, 'drop').overflow(dropping, undefined, () => {}), 'dropped');
    assert.deepEqual(dropping.log, ['dropped backpressure']);
    assert.equal(dropping.backlog!.dropped, 1);
    const closing = target(10);
    assert.equal(new SendPolicy(1, 'close').overflow(closing, 'k', () => {}), 'dropped');
    assert.deepEqual(closing.log, ['dropped backpressure', 'close 1008']);
  });

  it("'latest' keeps the newest message per key, holds later ones of that key, and sends them as the buffer drains", () => {
    const policy = new SendPolicy(100, 'latest');
    const t = target(150);
    const sent: string[] = [];
    assert.equal(policy.overflow(t, 'cpu', () => sent.push('cpu=1')), 'buffered');
    assert.equal(policy.overflow(t, 'mem', () => sent.push('mem=1')), 'buffered');
    assert.equal(policy.mustHold(target(0), 1, 'cpu'), false, 'another connection is not concerned');
    assert.equal(policy.mustHold(t, 1, 'cpu'), true, 'a key that waits holds newer messages of it');
    assert.equal(policy.overflow(t, 'cpu', () => sent.push('cpu=2')), 'buffered');
    assert.deepEqual(t.log, ['dropped replaced']);
    assert.equal(policy.overflow(t, undefined, () => sent.push('no key')), 'dropped');
    policy.drained(t);
    assert.deepEqual(sent, [], 'nothing goes while the buffer is over the limit');
    t.buffered = 0;
    policy.drained(t);
    assert.deepEqual(sent, ['mem=1', 'cpu=2'], 'the order of the newest values');
  });

  it('drops a fragmented message whole, and keeps dropping its fragments only while the connection stays open', () => {
    const dropping = target(10);
    assert.equal(new SendPolicy(1, 'drop').overflowFragmented(dropping), 'dropped');
    assert.equal(dropping.backlog!.droppingFragments, true);
    const closing = target(10);
    new SendPolicy(1, 'close').overflowFragmented(closing);
    assert.equal(closing.backlog!.droppingFragments, false);
    const latest = target(10);
    assert.equal(new SendPolicy(1, 'latest').overflowFragmented(latest), 'dropped', 'never kept as the latest of a key');
  });
});

describe('send policy on a server connection', () => {
  it('stops reading a peer that leaves more than maxBackpressure unread, and reads it again once that drained', async () => {
    const limit = 256 * 1024;
    const { wss, port } = await startEchoServer({ maxBackpressure: limit, pingIntervalMs: 0 });
    after(() => stopServer(wss));
    const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const { socket } = await rawHandshake(port); // paused: the pongs stay unread
    const ws = await serverSide;
    const ping = clientFrame({ opcode: Opcode.PING, payload: new Uint8Array(125) });
    const batch = Buffer.concat(Array.from({ length: 16 }, () => ping));
    let peak = 0;
    // Until the server stops taking our bytes (bounded: at most 400 MB of pings).
    for (let i = 0; i < 200_000 && socket.writableLength < 4 * 1024 * 1024; i++) {
      socket.write(batch);
      if (i % 64 === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        peak = Math.max(peak, ws.bufferedAmount);
      }
    }
    assert.ok(socket.writableLength >= 4 * 1024 * 1024, 'the server kept reading a peer that does not read');
    assert.ok(peak <= limit + 17 * 127, `${peak} bytes buffered for the peer`);
    // The peer reads again: the server drains, reads on, and answers what came after the pings.
    socket.write(clientFrame({ opcode: Opcode.TEXT, payload: utf8('still here') }));
    const echo = Buffer.from([0x81, 0x0a, ...Buffer.from('still here')]);
    let seen = Buffer.alloc(0);
    const echoed = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        seen = Buffer.concat([seen.subarray(-16), chunk]);
        if (seen.includes(echo)) resolve();
      });
    });
    socket.resume();
    await echoed;
    socket.destroy();
  });

  it("drops the rest of a fragmented message whose first fragment the 'drop' policy dropped", async () => {
    const { wss, port } = await startEchoServer({ maxBackpressure: 64 * 1024, backpressurePolicy: 'drop', pingIntervalMs: 0 });
    after(() => stopServer(wss));
    const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const { socket, rest } = await rawHandshake(port); // paused: the backlog builds up
    after(() => socket.destroy());
    const ws = await serverSide;
    // Fill the send buffer up to the limit (bounded: at most 4000 sends).
    for (let i = 0; i < 4000 && ws.bufferedAmount + 16 * 1024 <= 64 * 1024; i++) {
      ws.send(Buffer.alloc(16 * 1024, 0x61));
      if (i % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(ws.send(Buffer.alloc(32 * 1024, 0x48), { binary: true, fin: false }), 'dropped');
    const drained = once(ws, 'drain');
    const chunks: Buffer[] = [rest];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.resume();
    await drained;
    // The backlog is gone, yet the tail of the dropped message must not go out on its own.
    assert.equal(ws.send(Buffer.from('TAIL'), { binary: true, fin: true }), 'dropped');
    ws.send(Buffer.from('after'), { binary: true });
    const next = Buffer.from([0x82, 0x05, ...Buffer.from('after')]);
    // Bounded: at most 200 polls of 10 ms for the next message.
    for (let i = 0; i < 200 && !Buffer.concat(chunks).includes(next); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const all = Buffer.concat(chunks);
    assert.ok(all.includes(next), 'the message after the dropped one never arrived');
    assert.ok(!all.includes(Buffer.from('TAIL')), 'the tail of a dropped message went out');
    assert.ok(!all.includes(Buffer.from([0x48, 0x48, 0x48, 0x48])), 'the dropped fragment went out');
    socket.destroy();
  });
});

describe('backpressure', () => {
  /** A server-side connection whose peer never reads. */
  async function stalled(options: ConstructorParameters<typeof WebSocketServer>[0]) {
    const { wss, port } = await startServer(options);
    const raw = await rawHandshake(port); // paused: never reads
    const [ws] = await serverSides(wss, 1);
    return { wss, ws: ws!, raw };
  }

  it("drops messages past maxBackpressure with the 'drop' policy, counting them with an event", async () => {
    const { wss, ws, raw } = await stalled({ maxBackpressure: 256 * 1024, backpressurePolicy: 'drop' });
    after(async () => { raw.socket.destroy(); await stopServer(wss); });
    const chunk = Buffer.alloc(64 * 1024);
    const results: string[] = [];
    let events = 0;
    ws.on('dropped', () => events++);
    for (let i = 0; i < 200; i++) results.push(ws.send(chunk));
    assert.ok(results.includes('dropped'));
    assert.equal(ws.droppedMessages, results.filter((r) => r === 'dropped').length);
    assert.equal(events, ws.droppedMessages);
    assert.ok(ws.bufferedAmount <= 256 * 1024 + 64 * 1024, `buffered ${ws.bufferedAmount}`);
    assert.equal(ws.readyState, WebSocket.OPEN);
  });

  it("closes a slow consumer with 1008 under the default 'close' policy", async () => {
    const { wss, ws, raw } = await stalled({ maxBackpressure: 128 * 1024, closeTimeoutMs: 200 });
    after(async () => { raw.socket.destroy(); await stopServer(wss); });
    const chunk = Buffer.alloc(64 * 1024);
    let result = 'sent';
    for (let i = 0; i < 100 && result !== 'dropped'; i++) result = ws.send(chunk);
    assert.equal(result, 'dropped');
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const [code] = await new Promise<[number]>((r) => ws.once('close', (c) => r([c])));
    assert.equal(code, 1006); // the peer never read our 1008 close frame; the close timeout ended it
  });

  it("keeps only the newest message per key with the 'latest' policy and sends it on drain", async () => {
    const { wss, ws, raw } = await stalled({ maxBackpressure: 64 * 1024, backpressurePolicy: 'latest' });
    after(async () => { raw.socket.destroy(); await stopServer(wss); });
    // Fill the kernel's buffers and then ours (loopback absorbs megabytes before userland holds any).
    for (let i = 0; i < 500 && ws.bufferedAmount <= 64 * 1024; i++) ws.send(Buffer.alloc(256 * 1024));
    assert.ok(ws.bufferedAmount > 64 * 1024);
    const droppedBefore = ws.droppedMessages;
    const results = [];
    for (let i = 0; i < 50; i++) results.push(ws.send(`cpu=${i}`, { key: 'cpu' }));
    for (let i = 0; i < 50; i++) results.push(ws.send(`mem=${i}`, { key: 'mem' }));
    assert.ok(results.every((r) => r === 'buffered'));
    assert.equal(ws.droppedMessages - droppedBefore, 98); // 49 replaced per key
    assert.equal(ws.send('no key'), 'dropped');
    // Now read everything: the newest value per key arrives after the big message.
    const received: Buffer[] = [];
    raw.socket.on('data', (d: Buffer) => received.push(d));
    raw.socket.resume();
    const drained = new Promise((r) => ws.once('drain', r));
    await drained;
    await until(() => Buffer.concat(received).includes('mem=49'), 'latest values');
    const all = Buffer.concat(received).toString('latin1');
    assert.ok(all.includes('cpu=49'));
    assert.ok(!all.includes('cpu=48'));
    assert.ok(!all.includes('mem=0'));
  });

  it("sends the held 'latest' message once the buffer empties, with a maxBackpressure below the socket's high-water mark", async () => {
    // Node emits 'drain' only after a write reached writableHighWaterMark (16 KiB); a smaller
    // limit holds messages before any write does, so the link must notice the buffer empty itself.
    const { wss, url } = await startServer({ maxBackpressure: 1024, backpressurePolicy: 'latest' });
    const client = new WebSocket(url);
    after(async () => { client.terminate(); await stopServer(wss); });
    const received: string[] = [];
    client.on('message', (data) => received.push(String(data)));
    const [ws] = await serverSides(wss, 1);
    ws!.socket!.cork(); // writes wait in userland, as for a slow link
    const results: string[] = [];
    for (let i = 1; i <= 40; i++) results.push(ws!.send(`${'x'.repeat(100)}${i}`, { key: 'k' }));
    assert.ok(results.includes('buffered'), 'the limit was never reached');
    assert.ok(ws!.socket!.writableLength < ws!.socket!.writableHighWaterMark, 'the buffer passed the high-water mark');
    ws!.socket!.uncork();
    await until(() => received.at(-1)?.endsWith('x40') === true, 'the newest message');
    ws!.send('after', { key: 'k' });
    await until(() => received.at(-1) === 'after', 'a later message of the same key');
    assert.ok(received.length < 40, `all ${received.length} messages went out`);
  });

  it('applies the policy to publications and reports per-subscriber outcomes', async () => {
    const { wss, port, url } = await startServer({ maxBackpressure: 4 * 1024 * 1024, backpressurePolicy: 'drop' });
    after(() => stopServer(wss));
    const slow = await rawHandshake(port); // never reads
    const [fast] = await connect(url, 1);
    const sides = await serverSides(wss, 2);
    for (const s of sides) s.subscribe('feed');
    const results: PublishResult[] = [];
    let fastGot = 0;
    fast!.on('message', () => fastGot++);
    const total = 250;
    for (let i = 0; i < total; i++) {
      results.push(wss.publish('feed', Buffer.alloc(64 * 1024)));
      await new Promise((r) => setImmediate(r));
    }
    for (const r of results) assert.equal(r.sent + r.buffered + r.dropped, 2);
    assert.ok(results.some((r) => r.dropped === 1), 'the slow subscriber drops');
    const slowSide = sides.find((s) => s.droppedMessages > 0);
    assert.ok(slowSide, 'one connection counted drops');
    await until(() => fastGot + sides.reduce((n, s) => n + (s === slowSide ? 0 : s.droppedMessages), 0) === total, 'fast subscriber accounted for');
    assert.equal(fastGot, total, 'the reading subscriber got every publication');
    slow.socket.destroy();
    fast!.close();
  });

  it('keeps server memory bounded while a slow reader falls behind', async () => {
    const { wss, ws, raw } = await stalled({ maxBackpressure: 1024 * 1024, backpressurePolicy: 'drop' });
    after(async () => { raw.socket.destroy(); await stopServer(wss); });
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) ws.send(chunk); // 64 MiB offered in all
      await new Promise((r) => setImmediate(r));
      assert.ok(ws.bufferedAmount <= 1024 * 1024 + chunk.length, `round ${round}: ${ws.bufferedAmount} buffered`);
    }
    assert.ok(ws.droppedMessages >= 900);
  });
});

