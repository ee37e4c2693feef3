import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
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
      // What reaches the socket's handle, by a direct write (socket-write.ts) or the stream path.
      const handle = (s.socket as unknown as { _handle: { writeBuffer: (...a: unknown[]) => number } })._handle;
      const original = handle.writeBuffer.bind(handle);
      handle.writeBuffer = (req: unknown, chunk: unknown, ...rest: unknown[]) => {
        writes[i]!.push(chunk as Buffer);
        return original(req, chunk, ...rest);
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
