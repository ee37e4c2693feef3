/**
 * The dashboard as two servers sharing a private redis-server (RedisEngine): each lists the
 * other's process series with the other's channels, and a page on one that watches the other's
 * series and loses its connection recovers the samples it missed from the Redis history.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDemo } from '../../../apps/dashboard/server.js';
import { startRedisServer, type RedisServer } from '../../support/redis-server.js';
import { hostDemo, type DemoHost } from '../support/demo-host.js';
import { DashboardClient, dropAndRecover, type CatalogEntry } from './dashboard-client.js';

let redis: RedisServer;
let a: DemoHost;
let b: DemoHost;

before(async () => {
  redis = await startRedisServer();
  a = await hostDemo('dashboard', createDemo, { redisUrl: redis.url });
  b = await hostDemo('dashboard', createDemo, { redisUrl: redis.url });
});
after(async () => {
  await a?.close();
  await b?.close();
  await redis?.kill();
});

it('each server lists the other\'s process series on the other\'s channels, and streams them', { timeout: 30_000 }, async () => {
  const onA = await DashboardClient.open(`${a.wsBase}rt`);
  const onB = await DashboardClient.open(`${b.wsBase}rt`);
  after(() => { onA.close(); onB.close(); });
  const own = onA.welcome.series.find((info: CatalogEntry) => info.id === 'process.memory.rss').channel;
  // B lists A's RSS once A announced itself (within a second), as a peer series on A's channel.
  await onB.until(() => onB.catalog().some((info) => info.group === 'peer' && info.channel === own), 'A\'s series in B\'s catalog');
  assert.ok(onA.catalog().some((info) => info.group === 'peer'), 'and A lists B\'s');
  assert.equal(onB.catalog().filter((info) => info.channel === own).length, 1);
  assert.equal((await onB.subscribe(own)).error, undefined);
  await onB.until(() => onB.pubs(own).length >= 10, 'A\'s samples on B');
  assert.ok(onB.pubs(own).at(-1)!.data.v > 10, 'an RSS in MiB');
});

it('a page on one server watching the other\'s series recovers what it missed from the Redis history', { timeout: 30_000 }, async () => {
  const onA = await DashboardClient.open(`${a.wsBase}rt`);
  after(() => onA.close());
  const channel = onA.welcome.series.find((info: CatalogEntry) => info.id === 'process.cpu.user').channel;
  const { offsets, recoveries } = await dropAndRecover(`${b.wsBase}rt`, () => channel);
  assert.equal(recoveries.length, 2, 'subscribed, then resubscribed');
  assert.equal(recoveries[1], true, 'recovered');
  assert.ok(offsets.every((offset, i) => i === 0 || offset === offsets[i - 1]! + 1), 'no sample missing or twice');
});
