/**
 * Two real-time servers, standing for two processes, each with a RedisEngine of its own on the
 * shared Redis (a key prefix of this test, deleted afterwards): a publication through one
 * reaches subscribers of the other, and a client that moves to the other server recovers what it
 * missed from its position, with no sticky session. Then what the engine's live feed must carry
 * to the clients when it fills a gap from the stream: publish's `except`, and the loss of what
 * the stream no longer held (recovered: false).
 */
import { it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { RedisEngine } from '../../src/broker/redis.js';
import { connectClient, startLoopback, until, type Loopback } from './loopback.js';
import { deleteKeys } from '../support/redis-keys.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `fdx-servers-test-${randomUUID()}:`;
const loops: Loopback[] = [];

const admin = createClient({ url });
admin.on('error', () => undefined);

after(async () => {
  await Promise.all(loops.map((loop) => loop.stop()));
  if (admin.isOpen) await admin.close();
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

/** A channel's meta and stream keys (the partition is the engine's), and its first entry's kept origin. */
async function keysOf(channel: string): Promise<{ meta: string; stream: string; firstOrigin: string }> {
  if (!admin.isOpen) await admin.connect();
  const [meta] = (await admin.sendCommand(['KEYS', `${keyPrefix}*:m:${channel}`])) as string[];
  const stream = meta!.replace(/:m:([^:]*)$/, ':s:$1');
  const [[, fields]] = (await admin.sendCommand(['XRANGE', stream, '1-0', '1-0'])) as [[string, string[]]];
  return { meta: meta!, stream, firstOrigin: fields[fields.indexOf('o') + 1]! };
}

it('skips the connection named by publish\'s except also when its publication was filled in from the stream', async () => {
  const one = await server();
  const excluded = connectClient(one.url);
  const gotExcluded: unknown[] = [];
  excluded.subscribe('except', (data) => void gotExcluded.push(data));
  await until(() => excluded.position('except') !== undefined, 5000, 'the first subscription');
  const [connection] = [...one.realtime.connections.values()];
  const other = connectClient(one.url);
  const gotOther: unknown[] = [];
  other.subscribe('except', (data) => void gotOther.push(data));
  await until(() => other.position('except') !== undefined, 5000, 'the second subscription');
  await one.realtime.publish('except', 'first', { except: connection! });
  await until(() => gotOther.length === 1, 5000, 'the first publication');
  // Offset 2, published by this server for everyone but `connection`, is written as the engine's
  // script would, but its live message never went out: the live feed fills it from the stream.
  const { meta, stream, firstOrigin } = await keysOf('except');
  await admin.sendCommand(['HINCRBY', meta, 'top', '1']);
  await admin.sendCommand(['XADD', stream, '2-0', 'd', '"second"', 't', String(Date.now()), 'o', firstOrigin]);
  await one.realtime.publish('except', 'third');
  await until(() => gotOther.length === 3 && gotExcluded.length === 1, 5000, 'the publications');
  assert.deepEqual(gotOther, ['first', 'second', 'third']);
  assert.deepEqual(gotExcluded, ['third']);
  excluded.close();
  other.close();
});

it('tells subscribers recovered: false when publications were trimmed from the stream before the live feed could fill them', async () => {
  const one = await server();
  const reader = connectClient(one.url);
  const got: unknown[] = [];
  const recovered: boolean[] = [];
  reader.on('subscribed', (_channel, ok) => void recovered.push(ok));
  reader.subscribe('trimmed', (data) => void got.push(data));
  await until(() => reader.position('trimmed') !== undefined, 5000, 'the subscription');
  await one.realtime.publish('trimmed', 1);
  await until(() => got.length === 1, 5000, 'the first publication');
  // Offset 2 was published, never reached this server live, and is gone from the stream.
  const { meta } = await keysOf('trimmed');
  await admin.sendCommand(['HINCRBY', meta, 'top', '1']);
  await one.realtime.publish('trimmed', 3);
  await one.realtime.publish('trimmed', 4);
  await until(() => got.length === 3, 5000, 'the publications past the gap');
  assert.deepEqual(got, [1, 3, 4]);
  assert.deepEqual(recovered, [true, false], 'told once, before the first publication past the gap');
  assert.equal(reader.position('trimmed')!.offset, '4');
  reader.close();
});
