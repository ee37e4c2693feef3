/**
 * Two real-time servers, standing for two processes, each with a RedisEngine of its own on the
 * shared Redis (a key prefix of this test, deleted afterwards): a publication through one
 * reaches subscribers of the other, and a client that moves to the other server recovers what it
 * missed from its position, with no sticky session.
 */
import { it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { RedisEngine } from '../../src/broker/redis.js';
import { connectClient, startLoopback, until, type Loopback } from './loopback.js';
import { deleteKeys } from '../support/redis-keys.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `fdx-servers-test-${randomUUID()}:`;
const loops: Loopback[] = [];

after(async () => {
  await Promise.all(loops.map((loop) => loop.stop()));
  await deleteKeys(url, [keyPrefix]);
});

async function server(): Promise<Loopback> {
  const engine = new RedisEngine({ url, keyPrefix, metaTtlMs: 60_000 });
  await engine.ready();
  const loop = await startLoopback({ engine });
  loops.push(loop);
  return loop;
}

/** A Storage-like map: the client keeps its positions there (`persist`). */
function storage() {
  const items = new Map<string, string>();
  return { items, getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value) };
}

it('delivers across servers and recovers a client that moves to another server', async () => {
  const [one, two] = await Promise.all([server(), server()]);
  const saved = storage();
  const reader = connectClient(one.url, { persist: saved });
  const writer = connectClient(two.url);
  const got: unknown[] = [];
  reader.subscribe('room', (data) => void got.push(data));
  await until(() => reader.position('room') !== undefined, 5000, 'the subscription');
  for (let i = 1; i <= 3; i++) await writer.publish('room', i);
  await until(() => got.length === 3, 5000, 'the live publications');
  assert.deepEqual(got, [1, 2, 3]);
  reader.close();
  for (let i = 4; i <= 6; i++) await writer.publish('room', i);
  // The same client, now reaching the other server (behind a load balancer the URL would be
  // the same; here its saved positions are carried over to the other URL).
  saved.setItem(`fdx:${two.url}`, saved.getItem(`fdx:${one.url}`)!);
  const moved = connectClient(two.url, { persist: saved });
  const recovered: boolean[] = [];
  const later: unknown[] = [];
  moved.on('subscribed', (_channel, ok) => void recovered.push(ok));
  moved.subscribe('room', (data) => void later.push(data));
  await until(() => later.length === 3, 5000, 'the missed publications');
  assert.deepEqual(later, [4, 5, 6]);
  assert.deepEqual(recovered, [true]);
  await writer.publish('room', 7);
  await until(() => later.length === 4, 5000, 'the next live publication');
  assert.equal(moved.position('room')!.offset, '7');
  moved.close();
  writer.close();
});
