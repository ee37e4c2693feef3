/**
 * RedisEngine through Redis going away, on private redis-servers this file starts and kills:
 * publish, subscribe and history reject with UNAVAILABLE while it is down; after a restart with
 * its data (append-only file) the channel recovers in the same epoch, after a restart without,
 * a new epoch starts and recovery says recovered: false; live feeds resume either way, and a
 * feed that missed publications while its connection was away fills them in.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { RedisEngine } from '../../../src/broker/redis.js';
import type { EnginePublication } from '../../../src/realtime/engine.js';
import { until } from '../../support/clients.js';
import { startRedisServer, type RedisServer } from '../../support/redis-server.js';

const servers: RedisServer[] = [];
const dirs: string[] = [];
const engines: RedisEngine[] = [];

after(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  await Promise.all(servers.map((server) => server.kill()));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function start(keepData: boolean): Promise<RedisServer> {
  const extra: string[] = [];
  if (keepData) {
    const dir = await mkdtemp(join(tmpdir(), 'fdx-engine-aof-'));
    dirs.push(dir);
    extra.push('--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir);
  }
  const server = await startRedisServer(extra);
  servers.push(server);
  return server;
}

function engine(server: RedisServer): RedisEngine {
  const made = new RedisEngine({ url: server.url, maxReconnectDelayMs: 100 });
  engines.push(made);
  return made;
}

/** Publishes until Redis is back (each failure must be UNAVAILABLE). */
async function publishWhenBack(on: RedisEngine, channel: string, data: unknown) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await on.publish(channel, data);
    } catch (error) {
      assert.equal((error as { code?: string }).code, 'UNAVAILABLE');
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('RedisEngine when Redis goes away', () => {
  it('rejects with UNAVAILABLE while Redis is down, then recovers in the same epoch after a restart with its data', async () => {
    const server = await start(true);
    const a = engine(server);
    const b = engine(server);
    const seen: EnginePublication[] = [];
    await b.subscribe('c', (p) => seen.push(p));
    let last = { offset: '', epoch: '' };
    for (let i = 1; i <= 3; i++) last = await a.publish('c', i);
    await until(() => seen.length === 3, 'the live publications');
    await server.kill();
    await assert.rejects(a.publish('c', 'lost?'), { code: 'UNAVAILABLE' });
    await assert.rejects(a.history('c', last), { code: 'UNAVAILABLE' });
    await assert.rejects(a.subscribe('other', () => undefined), { code: 'UNAVAILABLE' });
    await server.restart();
    const next = await publishWhenBack(a, 'c', 4);
    assert.deepEqual(next, { offset: '4', epoch: last.epoch, duplicate: false });
    const recovered = await a.history('c', last);
    assert.equal(recovered.recovered, true);
    assert.deepEqual(recovered.publications, [{ offset: '4', data: 4 }]);
    await until(() => seen.length === 4, 'the live publications');
    assert.deepEqual(seen.map((p) => `${p.epoch === last.epoch}:${p.offset}:${p.data}`), ['true:1:1', 'true:2:2', 'true:3:3', 'true:4:4']);
  });

  it('starts a new epoch after a restart without data: recovery says recovered: false, live goes on', async () => {
    const server = await start(false);
    const a = engine(server);
    const b = engine(server);
    const seen: EnginePublication[] = [];
    await b.subscribe('c', (p) => seen.push(p));
    const before = await a.publish('c', 'before');
    await until(() => seen.length === 1, 'the live publications');
    await server.kill();
    await server.restart();
    const after = await publishWhenBack(a, 'c', 'after');
    assert.notEqual(after.epoch, before.epoch);
    assert.equal(after.offset, '1');
    const recovery = await a.history('c', before);
    assert.deepEqual(recovery, { recovered: false, position: { offset: '1', epoch: after.epoch }, publications: [] });
    await until(() => seen.length === 2, 'the live publications');
    assert.deepEqual(seen.map((p) => [p.offset, p.epoch, p.data]), [
      ['1', before.epoch, 'before'],
      ['1', after.epoch, 'after'],
    ]);
  });

  it('fills in what a feed missed while its subscriber connection was away', async () => {
    const server = await start(false);
    const a = engine(server);
    const b = engine(server);
    const seen: string[] = [];
    await b.subscribe('c', (p) => seen.push(String(p.data)));
    await a.publish('c', 'one');
    await until(() => seen.length === 1, 'the live publications');
    const admin = createClient({ url: server.url });
    await admin.connect();
    const [meta] = (await admin.sendCommand(['KEYS', '*:m:c'])) as string[];
    const stream = meta!.replace(/:m:c$/, ':s:c');
    // In one transaction: every subscriber connection dropped, then a publication written as the
    // script writes it. Its live message went nowhere; only the check after reconnecting finds it.
    await admin
      .multi()
      .addCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
      .addCommand(['HINCRBY', meta!, 'top', '1'])
      .addCommand(['XADD', stream, '2-0', 'd', '"two"', 't', String(Date.now())])
      .exec();
    await admin.close();
    await until(() => seen.length === 2, 'the live publications');
    await a.publish('c', 'three');
    await until(() => seen.length === 3, 'the live publications');
    assert.deepEqual(seen, ['one', 'two', 'three']);
  });

  it('loads its scripts again when Redis no longer has them (NOSCRIPT)', async () => {
    const server = await start(false);
    const a = engine(server);
    await a.publish('c', 1);
    const admin = createClient({ url: server.url });
    await admin.connect();
    await admin.sendCommand(['SCRIPT', 'FLUSH']);
    await admin.close();
    assert.equal((await a.publish('c', 2)).offset, '2');
    assert.equal((await a.history('c')).position.offset, '2');
  });
});
