/**
 * The Engine contract against RedisEngine, and the PresenceStore contract against
 * RedisPresenceStore, on one Redis Cluster of three masters that this file starts itself (ports
 * and folders of its own), so channels spread over partitions and slots on every node.
 */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { RedisEngine, RedisPresenceStore } from '../../src/broker/redis.js';
import { describeEngineContract } from './realtime-engine.contract.js';
import { describePresenceStoreContract } from './presence-store.contract.js';
import { until } from '../support/clients.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';

let cluster: RedisCluster | null = null;

before(async () => {
  cluster = await startRedisCluster();
});

after(async () => {
  await cluster?.stop();
});

let run = 0;
const made = new WeakMap<object, ConstructorParameters<typeof RedisEngine>[0]>();

describeEngineContract('RedisEngine (Redis Cluster, 3 masters)', {
  async make({ historySize }) {
    const options = { clusterUrls: cluster!.urls, keyPrefix: `t${run++}:`, historySize, historyTtlMs: 1500 };
    const engine = new RedisEngine(options);
    made.set(engine, options);
    await engine.ready();
    return engine;
  },
  async peer(engine) {
    const other = new RedisEngine(made.get(engine)!);
    await other.ready();
    return other;
  },
  async age() {
    await new Promise((resolve) => setTimeout(resolve, 1600));
  },
});

describe('RedisEngine on a Redis Cluster', () => {
  it('spreads channels over every master and delivers each one across engines in order', async () => {
    const options = { clusterUrls: cluster!.urls, keyPrefix: `spread${run++}:`, partitions: 16 };
    const a = new RedisEngine(options);
    const b = new RedisEngine(options);
    await Promise.all([a.ready(), b.ready()]);
    const seen = new Map<string, string[]>();
    const channels = Array.from({ length: 24 }, (_, i) => `room-${i}`);
    for (const channel of channels) {
      seen.set(channel, []);
      await b.subscribe(channel, (p) => seen.get(channel)!.push(p.offset));
    }
    for (let round = 0; round < 3; round++) await Promise.all(channels.map((channel) => a.publish(channel, round)));
    await until(() => [...seen.values()].every((offsets) => offsets.length >= 3), 'every channel\'s publications');
    for (const channel of channels) assert.deepEqual(seen.get(channel), ['1', '2', '3'], channel);
    const sizes = await Promise.all(
      cluster!.urls.map(async (url) => {
        const node = createClient({ url });
        await node.connect();
        const size = Number(await node.sendCommand(['DBSIZE']));
        await node.close();
        return size;
      }),
    );
    assert.ok(sizes.every((size) => size > 0), `keys on every master: ${sizes.join(', ')}`);
    await Promise.all([a.close(), b.close()]);
  });
});

describePresenceStoreContract('RedisPresenceStore (Redis Cluster, 3 masters)', {
  async make({ ttlMs }) {
    const keyPrefix = `presence${run++}:`;
    const make = () => new RedisPresenceStore({ clusterUrls: cluster!.urls, keyPrefix, ttlMs });
    return { stores: [make(), make()], wait: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };
  },
});

describe('RedisPresenceStore on a Redis Cluster', () => {
  it('notifies over sharded pub/sub on the one master that owns the channel\'s slot, never over classic pub/sub', async () => {
    const keyPrefix = `presence-shard${run++}:`;
    const store = new RedisPresenceStore({ clusterUrls: cluster!.urls, keyPrefix });
    const changes: unknown[] = [];
    const stop = await store.subscribe('room', (change) => changes.push(change));
    await store.write('room', { node: 'A', set: [{ node: 'A', user: 'ada', connections: 1, meta: null, at: 1 }], remove: [] });
    await until(() => changes.length === 1, 'the change');
    const perNode = await Promise.all(
      cluster!.urls.map(async (url) => {
        const node = createClient({ url });
        await node.connect();
        const sharded = (await node.sendCommand(['PUBSUB', 'SHARDCHANNELS', `${keyPrefix}*`])) as string[];
        const classic = (await node.sendCommand(['PUBSUB', 'CHANNELS', `${keyPrefix}*`])) as string[];
        await node.close();
        return { sharded, classic };
      }),
    );
    assert.deepEqual(perNode.flatMap((n) => n.sharded), [`${keyPrefix}{presence:room}`], 'one sharded channel, on one master');
    assert.deepEqual(perNode.flatMap((n) => n.classic), []);
    await stop();
    await store.close();
  });
});
