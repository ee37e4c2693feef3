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
