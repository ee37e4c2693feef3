/**
 * The PresenceStore contract against RedisPresenceStore, on a private redis-server started for
 * this file (or on REDIS_URL when it is set), with a key prefix unique to this run; every key it
 * made is deleted at the end. Then what only Redis can do: fail with UNAVAILABLE while Redis is
 * down, and work again once it is back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { RedisPresenceStore } from '../../src/broker/redis.js';
import { RealtimeError } from '../../src/realtime/realtime-error.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { describePresenceStoreContract } from './presence-store.contract.js';

let server: RedisServer | null = null;
let url = process.env.REDIS_URL ?? '';
const keyPrefix = `fdx-presence-contract-${randomUUID()}:`;
const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

before(async () => {
  if (url === '') {
    server = await startRedisServer();
    url = server.url;
  }
});

after(async () => {
  const client = createClient({ url });
  await client.connect();
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${keyPrefix}*` })) keys.push(...(Array.isArray(batch) ? batch : [batch]));
  if (keys.length > 0) await client.del(keys);
  await client.close();
  await server?.kill();
});

describePresenceStoreContract('RedisPresenceStore', {
  async make({ ttlMs }) {
    return { stores: [new RedisPresenceStore({ url, keyPrefix, ttlMs }), new RedisPresenceStore({ url, keyPrefix, ttlMs })], wait };
  },
});

describe('RedisPresenceStore: Redis down', () => {
  it('rejects with UNAVAILABLE while Redis is down, and works again once it is back', async () => {
    const own = await startRedisServer();
    const store = new RedisPresenceStore({ url: own.url, keyPrefix, maxReconnectDelayMs: 100 });
    try {
      await store.write('r', { node: 'A', set: [{ node: 'A', user: 'ada', connections: 1, meta: null, at: 1 }], remove: [] });
      await own.kill();
      await wait(100);
      const isUnavailable = (error: unknown) => error instanceof RealtimeError && error.code === 'UNAVAILABLE';
      await assert.rejects(store.read('r'), isUnavailable);
      await assert.rejects(store.write('r', { node: 'A', set: [], remove: ['ada'] }), isUnavailable);
      await own.restart();
      let entries: unknown = null;
      for (let i = 0; i < 50 && entries === null; i++) {
        await wait(100);
        entries = await store.read('r').catch(() => null);
      }
      assert.deepEqual(entries, [], 'Redis came back empty');
    } finally {
      await store.close();
      await own.kill();
    }
  });
});
