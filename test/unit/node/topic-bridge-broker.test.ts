import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBroker, MemoryHub } from '../../../src/broker/memory-broker.js';
import { startServer, stopServer } from '../../support/servers.js';
import { collect, connect, serverSides, until } from '../../support/clients.js';

describe('topics across servers through a broker', () => {
  it('delivers publications to subscribers of other servers, once each, in order', async () => {
    const hub = new MemoryHub();
    const one = await startServer({ broker: new MemoryBroker(hub) });
    const two = await startServer({ broker: new MemoryBroker(hub) });
    after(() => Promise.all([stopServer(one.wss), stopServer(two.wss)]));
    const [a] = await connect(one.url, 1);
    const [b] = await connect(two.url, 1);
    for (const s of await serverSides(one.wss, 1)) s.subscribe('chat');
    for (const s of await serverSides(two.wss, 1)) s.subscribe('chat');
    await new Promise((r) => setTimeout(r, 20)); // broker subscriptions settle
    const inA = collect(a!);
    const inB = collect(b!);
    for (let i = 0; i < 100; i++) one.wss.publish('chat', `m${i}`);
    const expected = Array.from({ length: 100 }, (_, i) => `m${i}`);
    await until(() => inA.length === 100 && inB.length === 100, 'both servers deliver');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(inA, expected);
    assert.deepEqual(inB, expected);
    a!.close();
    b!.close();
  });

  it('reports a publication the broker refused to the callback and the promise', async () => {
    const broker = new MemoryBroker();
    const { wss } = await startServer({ broker });
    after(() => stopServer(wss));
    await broker.close();
    const error = await new Promise<Error | null>((r) => wss.publish('t', 'x', {}, r));
    assert.equal((error as { code?: string }).code, 'BROKER_CLOSED');
    await assert.rejects(wss.publishAsync('t', 'x'), { code: 'BROKER_CLOSED' });
    const events: string[] = [];
    wss.on('publishError', (_e, topic) => events.push(topic));
    wss.publish('lost', 'x');
    await until(() => events.length === 1, 'publishError');
    assert.deepEqual(events, ['lost']);
    assert.equal(wss.brokerFailures, 1);
  });
});

describe('topics on a shared broker', () => {
  it('names broker channels fdx:topic:<topic>, or with topicChannelPrefix, so other users of the broker never collide', async () => {
    const hub = new MemoryHub();
    const { wss } = await startServer({ broker: new MemoryBroker(hub) });
    const custom = await startServer({ broker: new MemoryBroker(hub), topicChannelPrefix: 'app1:' });
    after(() => Promise.all([stopServer(wss), stopServer(custom.wss)]));
    const app = new MemoryBroker(hub);
    const heard: string[] = [];
    for (const channel of ['news', 'fdx:topic:news', 'app1:news']) await app.subscribe(channel, () => heard.push(channel));
    wss.publish('news', 'x');
    custom.wss.publish('news', 'y');
    await until(() => heard.length === 2, 'two publications on the broker');
    assert.deepEqual(heard.sort(), ['app1:news', 'fdx:topic:news']);
  });

  it('ws.subscribeAsync resolves once the broker confirmed, then misses nothing published by another server', async () => {
    const hub = new MemoryHub();
    const one = await startServer({ broker: new MemoryBroker(hub) });
    const two = await startServer({ broker: new MemoryBroker(hub) });
    after(() => Promise.all([stopServer(one.wss), stopServer(two.wss)]));
    const [client] = await connect(one.url, 1);
    const [side] = await serverSides(one.wss, 1);
    assert.equal(await side!.subscribeAsync('live'), true);
    assert.equal(await side!.subscribeAsync('live'), false);
    const inbox = collect(client!);
    two.wss.publish('live', 'at once');
    await until(() => inbox.length === 1, 'the publication of the other server');
    assert.deepEqual(inbox, ['at once']);
    client!.close();
  });

  it('ws.subscribeAsync rejects with the BrokerError when the broker cannot subscribe, and keeps the local subscription', async () => {
    const broker = new MemoryBroker();
    const { wss, url } = await startServer({ broker });
    after(() => stopServer(wss));
    await broker.close();
    const [client] = await connect(url, 1);
    const [side] = await serverSides(wss, 1);
    await assert.rejects(side!.subscribeAsync('t'), { name: 'BrokerError', code: 'BROKER_CLOSED' });
    assert.equal(side!.isSubscribed('t'), true);
    assert.equal(wss.brokerFailures, 0, 'the caller was told');
    client!.close();
  });

  it('ws.subscribeAsync resolves at once without a broker and refuses client connections', async () => {
    const { wss, url } = await startServer();
    after(() => stopServer(wss));
    const [client] = await connect(url, 1);
    const [side] = await serverSides(wss, 1);
    assert.equal(await side!.subscribeAsync('t'), true);
    assert.throws(() => client!.subscribeAsync('t'), { code: 'WS_ERR_NO_TOPICS' });
    client!.close();
  });
});
