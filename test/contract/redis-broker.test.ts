/**
 * The Broker contract against RedisBroker, on a private redis-server started for this file
 * (or on REDIS_URL when it is set). A key prefix unique to this run keeps it apart from any
 * other user of that Redis.
 */
import { before, after } from 'node:test';
import { randomUUID } from 'node:crypto';
import { RedisBroker } from '../../src/broker/redis.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { runBrokerContract } from './broker.contract.js';

let server: RedisServer | null = null;
let url = process.env.REDIS_URL ?? '';
const keyPrefix = `fdx-contract-${randomUUID()}:`;

before(async () => {
  if (url === '') {
    server = await startRedisServer();
    url = server.url;
  }
});

after(async () => {
  await server?.kill();
});

runBrokerContract('RedisBroker', async () => {
  const a = new RedisBroker({ url, keyPrefix });
  const b = new RedisBroker({ url, keyPrefix });
  return {
    a,
    b,
    async cleanup() {
      await Promise.all([a.close(), b.close()]);
    },
  };
});
