/**
 * The Engine contract against RedisEngine on the shared Redis (127.0.0.1:6379, or REDIS_URL),
 * under a key prefix unique to this run that is deleted afterwards. History ages in real time
 * (a 1.5 s age bound).
 */
import { after } from 'node:test';
import { randomUUID } from 'node:crypto';
import { RedisEngine } from '../../src/broker/redis.js';
import { describeEngineContract } from './realtime-engine.contract.js';
import { deleteKeys } from '../support/redis-keys.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefixes: string[] = [];

after(async () => {
  await deleteKeys(url, prefixes);
});

const made = new WeakMap<object, ConstructorParameters<typeof RedisEngine>[0]>();

describeEngineContract('RedisEngine (one Redis)', {
  async make({ historySize }) {
    const keyPrefix = `fdx-engine-test-${randomUUID()}:`;
    prefixes.push(keyPrefix);
    const options = { url, keyPrefix, historySize, historyTtlMs: 1500, metaTtlMs: 60_000, partitions: 8 };
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
