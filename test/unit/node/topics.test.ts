import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import WebSocket, { WebSocketServer, type PublishResult } from '../../../src/index.js';
import { rawHandshake, startServer, stopServer } from '../../support/servers.js';
import { collect, connect, serverSides, until } from '../../support/clients.js';

describe('topics', () => {
  it('subscribes, reports subscriptions, and publishes to subscribers only', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const clients = await connect(url, 3);
    const [a, b, c] = await serverSides(wss, 3);
    assert.equal(a!.subscribe('news'), true);
    assert.equal(a!.subscribe('news'), false);
    b!.subscribe('news');
    c!.subscribe('sport');
    assert.equal(a!.isSubscribed('news'), true);
    assert.equal(c!.isSubscribed('news'), false);
    assert.deepEqual([...a!.topics], ['news']);
    assert.equal(wss.subscriberCount('news'), 2);
    const inbox = clients.map(collect);
    const result = wss.publish('news', 'headline');
    assert.deepEqual(result, { sent: 2, buffered: 0, dropped: 0 });
    await until(() => inbox.flat().length === 2, 'two deliveries');
    const byServerSide = new Map([...wss.clients].map((s, i) => [s, i]));
    void byServerSide;
    assert.equal(inbox.filter((m) => m.includes('headline')).length, 2);
    assert.equal(inbox.flat().length, 2);
    for (const client of clients) client.close();
  });

  it('ws.publish reaches everyone subscribed but the sender', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    wss.on('connection', (ws) => {
      ws.subscribe('room');
      ws.on('message', (d) => ws.publish('room', d.toString()));
    });
    const [a, b, c] = await connect(url, 3);
    await serverSides(wss, 3);
    const inboxes = [a!, b!, c!].map(collect);
    a!.send('from a');
    await until(() => inboxes[1]!.length === 1 && inboxes[2]!.length === 1, 'b and c');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(inboxes, [[], ['from a'], ['from a']]);
    for (const x of [a!, b!, c!]) x.close();
  });

  it('unsubscribes, and forgets every subscription of a closed connection', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    const [s] = await serverSides(wss, 1);
    s!.subscribe('a');
    s!.subscribe('b');
    assert.equal(s!.unsubscribe('a'), true);
    assert.equal(s!.unsubscribe('a'), false);
    assert.equal(wss.subscriberCount('a'), 0);
    assert.equal(wss.subscriberCount('b'), 1);
    client!.close();
    await new Promise((r) => s!.once('close', r));
    assert.equal(wss.subscriberCount('b'), 0);
    assert.deepEqual([...s!.topics], []);
  });

  it('refuses topics on a client connection with a stable error code', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    assert.throws(() => client!.subscribe('x'), { code: 'WS_ERR_NO_TOPICS' });
    client!.close();
  });

  it('frames a publication once: every subscriber gets the same bytes', async () => {
    const { wss, port } = await startServer();
    after(() => stopServer(wss));
    const raws: Array<{ socket: net.Socket; rest: Buffer }> = [];
    for (let i = 0; i < 3; i++) raws.push(await rawHandshake(port));
    const sides = await serverSides(wss, 3);
    const writes: Buffer[][] = sides.map(() => []);
    sides.forEach((s, i) => {
      s.subscribe('t');
      const sock = s.socket as net.Socket;
      const original = sock.write.bind(sock) as (...a: unknown[]) => boolean;
      (sock as { write: unknown }).write = (chunk: Buffer, ...rest: unknown[]) => {
        writes[i]!.push(chunk);
        return original(chunk, ...rest);
      };
    });
    after(() => raws.forEach((r) => r.socket.destroy()));
    wss.publish('t', 'same bytes for all');
    // Writes leave at the end of the tick.
    await new Promise((r) => setImmediate(r));
    assert.ok(writes.every((w) => w.length === 1));
    assert.ok(writes[1]![0] === writes[0]![0] && writes[2]![0] === writes[0]![0], 'one Buffer shared by all');
    for (const r of raws) r.socket.destroy();
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

  it('cork() sends everything written inside it in one write', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    const [s] = await serverSides(wss, 1);
    const sock = s!.socket as net.Socket & { _writev: Function; _write: Function };
    let writes = 0;
    const wv = sock._writev.bind(sock);
    const w = sock._write.bind(sock);
    sock._writev = (...a: unknown[]) => { writes++; return wv(...a); };
    sock._write = (...a: unknown[]) => { writes++; return w(...a); };
    await new Promise((r) => setTimeout(r, 10));
    s!.cork(() => {
      for (let i = 0; i < 10; i++) s!.send(`m${i}`);
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(writes, 1);
    client!.close();
  });
});

