/**
 * RedisEngine on the shared Redis (127.0.0.1:6379, or REDIS_URL), two engines standing for two
 * processes, under a key prefix unique to each test that is deleted afterwards: live delivery
 * across engines, gap healing, the idempotency window, history bounds and key expiry, the data
 * layout (hash-tagged partitions).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { RedisEngine, type RedisEngineOptions } from '../../../src/broker/redis.js';
import type { EnginePublication } from '../../../src/realtime/engine.js';
import { until } from '../../support/clients.js';
import { deleteKeys } from '../../support/redis-keys.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefixes: string[] = [];
const engines: RedisEngine[] = [];
const admin = createClient({ url });
admin.on('error', () => undefined);

after(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  if (admin.isOpen) await admin.close();
  await deleteKeys(url, prefixes);
});

async function pair(options: RedisEngineOptions = {}): Promise<{ a: RedisEngine; b: RedisEngine; keyPrefix: string }> {
  const keyPrefix = `fdx-engine-test-${randomUUID()}:`;
  prefixes.push(keyPrefix);
  const a = new RedisEngine({ url, keyPrefix, metaTtlMs: 60_000, ...options });
  const b = new RedisEngine({ url, keyPrefix, metaTtlMs: 60_000, ...options });
  engines.push(a, b);
  await Promise.all([a.ready(), b.ready()]);
  return { a, b, keyPrefix };
}

async function redis(): Promise<typeof admin> {
  if (!admin.isOpen) await admin.connect();
  return admin;
}

/** The keys of `channel` under `keyPrefix`, found by their shape (the partition is the engine's). */
async function keysOf(keyPrefix: string, channel: string): Promise<{ meta: string; stream: string }> {
  const client = await redis();
  const found = (await client.sendCommand(['KEYS', `${keyPrefix}*:m:${channel}`])) as string[];
  assert.equal(found.length, 1, 'one meta key per channel');
  const meta = found[0]!;
  return { meta, stream: meta.replace(/:m:([^:]*)$/, ':s:$1') };
}

describe('RedisEngine', () => {
  it('delivers one engine\'s publications live to another, in order, with offset and epoch, and the origin only to its own process', async () => {
    const { a, b } = await pair();
    const seen: EnginePublication[] = [];
    const own: EnginePublication[] = [];
    await b.subscribe('room', (p) => seen.push(p));
    await a.subscribe('room', (p) => own.push(p));
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await a.publish('room', { i }, i === 3 ? { origin: 'conn-7' } : {}));
    await until(() => seen.length === 20, 'the live publications');
    assert.deepEqual(seen.map((p) => p.offset), results.map((r) => r.offset));
    assert.deepEqual(seen.map((p) => p.data), results.map((_, i) => ({ i })));
    assert.equal(seen[0]!.epoch, results[0]!.epoch);
    assert.equal(own[3]!.origin, 'conn-7');
    assert.equal(own[4]!.origin, undefined);
    assert.equal(seen[3]!.origin, undefined, 'conn-7 is a connection of the other process, not of this one');
  });

  it('keeps one total order per channel when two engines publish at once', async () => {
    const { a, b } = await pair();
    const seenA: string[] = [];
    const seenB: string[] = [];
    await a.subscribe('c', (p) => seenA.push(`${p.offset}:${p.data}`));
    await b.subscribe('c', (p) => seenB.push(`${p.offset}:${p.data}`));
    await Promise.all([
      Promise.all(Array.from({ length: 50 }, (_, i) => a.publish('c', `a${i}`))),
      Promise.all(Array.from({ length: 50 }, (_, i) => b.publish('c', `b${i}`))),
    ]);
    await until(() => seenA.length === 100 && seenB.length === 100, 'the live publications');
    assert.deepEqual(seenA, seenB);
    assert.deepEqual(seenA.map((s) => Number(s.split(':')[0])), Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('fills a gap on the live feed from the stream (a publication that never went out live)', async () => {
    const { a, b, keyPrefix } = await pair();
    const seen: string[] = [];
    await b.subscribe('g', (p) => seen.push(`${p.offset}:${JSON.stringify(p.data)}`));
    await a.publish('g', 'one');
    // Offset 2 is written as the script would, but its live message is never sent.
    const { meta, stream } = await keysOf(keyPrefix, 'g');
    const client = await redis();
    await client.sendCommand(['HINCRBY', meta, 'top', '1']);
    await client.sendCommand(['XADD', stream, '2-0', 'd', '"dropped"', 't', String(Date.now())]);
    await a.publish('g', 'three');
    await until(() => seen.length === 3, 'the live publications');
    assert.deepEqual(seen, ['1:"one"', '2:"dropped"', '3:"three"']);
  });

  it('keeps the origin in the stream, so that a publication filled in from it still names its connection to its own process', async () => {
    const { a, b, keyPrefix } = await pair();
    const seenA: EnginePublication[] = [];
    const seenB: EnginePublication[] = [];
    await a.subscribe('o', (p) => seenA.push(p));
    await b.subscribe('o', (p) => seenB.push(p));
    await a.publish('o', 'one', { origin: 'conn-1' });
    const { meta, stream } = await keysOf(keyPrefix, 'o');
    const client = await redis();
    const [[, fields]] = (await client.sendCommand(['XRANGE', stream, '1-0', '1-0'])) as [[string, string[]]];
    const kept = fields[fields.indexOf('o') + 1]!;
    assert.match(kept, /\/conn-1$/, 'the stream keeps the origin with its process');
    // Offset 2, published by a's process for conn-2, is written as the script would, but its
    // live message is never sent: both feeds fill it from the stream.
    await client.sendCommand(['HINCRBY', meta, 'top', '1']);
    await client.sendCommand(['XADD', stream, '2-0', 'd', '"two"', 't', String(Date.now()), 'o', kept.replace(/conn-1$/, 'conn-2')]);
    await a.publish('o', 'three');
    await until(() => seenA.length === 3 && seenB.length === 3, 'the publications');
    assert.deepEqual(seenA.map((p) => [p.offset, p.data, p.origin]), [['1', 'one', 'conn-1'], ['2', 'two', 'conn-2'], ['3', 'three', undefined]]);
    assert.deepEqual(seenB.map((p) => [p.offset, p.origin]), [['1', undefined], ['2', undefined], ['3', undefined]]);
    const history = await a.history('o', { offset: '0', epoch: seenA[0]!.epoch });
    assert.deepEqual(history.publications, [{ offset: '1', data: 'one' }, { offset: '2', data: 'two' }, { offset: '3', data: 'three' }], 'history for clients carries no origin');
  });

  it('marks the first publication past a gap the stream no longer holds afterLoss, and only that one', async () => {
    const { a, b, keyPrefix } = await pair();
    const seen: EnginePublication[] = [];
    await b.subscribe('t', (p) => seen.push(p));
    await a.publish('t', 'one');
    // Offset 2 was published and trimmed before b's feed could fetch it.
    const { meta } = await keysOf(keyPrefix, 't');
    await (await redis()).sendCommand(['HINCRBY', meta, 'top', '1']);
    await a.publish('t', 'three');
    await a.publish('t', 'four');
    await until(() => seen.length === 3, 'the live publications');
    assert.deepEqual(seen.map((p) => [p.offset, p.afterLoss]), [['1', undefined], ['3', true], ['4', undefined]]);
    assert.equal(b.unhealedGaps, 1);
  });

  it('deduplicates a key within the window and publishes it again after', async () => {
    const { a, b } = await pair({ idempotencyWindowMs: 300 });
    const first = await a.publish('k', 'x', { key: 'order-1' });
    const again = await b.publish('k', 'x', { key: 'order-1' });
    assert.deepEqual(again, { offset: first.offset, epoch: first.epoch, duplicate: true });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const later = await a.publish('k', 'x', { key: 'order-1' });
    assert.equal(later.duplicate, false);
    assert.equal(later.offset, '2');
  });

  it('bounds history by size and by age, and lets a channel\'s stream expire', async () => {
    const { a, keyPrefix } = await pair({ historySize: 3, historyTtlMs: 500 });
    let epoch = '';
    for (let i = 1; i <= 5; i++) epoch = (await a.publish('h', i)).epoch;
    const { stream } = await keysOf(keyPrefix, 'h');
    const client = await redis();
    assert.equal(await client.sendCommand(['XLEN', stream]), 3);
    const ttl = Number(await client.sendCommand(['PTTL', stream]));
    assert.ok(ttl > 0 && ttl <= 500, `stream TTL ${ttl}`);
    assert.deepEqual((await a.history('h', { offset: '2', epoch })).publications.map((p) => p.data), [3, 4, 5]);
    assert.equal((await a.history('h', { offset: '1', epoch })).recovered, false);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const aged = await a.history('h', { offset: '2', epoch });
    assert.equal(aged.recovered, false);
    assert.deepEqual(aged.position, { offset: '5', epoch }, 'the position outlives the history');
    assert.deepEqual(await a.history('h', { offset: '5', epoch }), { recovered: true, position: { offset: '5', epoch }, publications: [] });
  });

  it('spreads channels over hash-tagged partitions, one sharded live channel each', async () => {
    const { a, keyPrefix } = await pair({ partitions: 4 });
    for (let i = 0; i < 40; i++) await a.publish(`ch${i}`, i);
    const client = await redis();
    const metas = (await client.sendCommand(['KEYS', `${keyPrefix}*:m:*`])) as string[];
    const tags = new Set(metas.map((key) => /\{p(\d+)\}/.exec(key)![1]));
    assert.equal(metas.length, 40);
    assert.deepEqual([...tags].sort(), ['0', '1', '2', '3']);
  });

  it('stops delivering once the last handler of a channel left, and keeps no feed for it', async () => {
    const { a, b } = await pair();
    const first: unknown[] = [];
    const second: unknown[] = [];
    const stopFirst = await b.subscribe('s', (p) => void first.push(p.data));
    const stopSecond = await b.subscribe('s', (p) => void second.push(p.data));
    await a.publish('s', 1);
    await until(() => first.length === 1 && second.length === 1, 'both handlers');
    await stopFirst();
    await a.publish('s', 2);
    await until(() => second.length === 2, 'the remaining handler');
    await stopSecond();
    assert.equal(b.channelCount, 0);
    await a.publish('s', 3);
    const stopLate = await a.subscribe('s', () => undefined);
    await stopLate();
    assert.deepEqual([first, second], [[1], [1, 2]]);
  });

  it('rejects a subscription whose first read fails, and keeps no feed for it', async () => {
    const engine = new RedisEngine({ url: 'redis://127.0.0.1:1', maxReconnectDelayMs: 50 });
    await assert.rejects(engine.subscribe('c', () => undefined), { code: 'UNAVAILABLE' });
    await assert.rejects(engine.publish('c', 1), { code: 'UNAVAILABLE' });
    await assert.rejects(engine.history('c'), { code: 'UNAVAILABLE' });
    assert.equal(engine.channelCount, 0);
    await engine.close();
  });
});
