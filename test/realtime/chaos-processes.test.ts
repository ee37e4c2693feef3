/**
 * A short chaos run across processes (test/realtime/chaos-processes.ts): three server processes
 * on the Redis engine behind one round-robin TCP proxy that cuts connections, one process killed
 * with SIGKILL and restarted, and this test's own redis-server restarted once with its data and,
 * in a second shorter case, once without. `npm run chaos -- --engine redis --processes 3` runs it
 * longer.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { runProcessChaos } from './chaos-processes.js';
import { summary } from './chaos.js';

it('loses, duplicates and reorders nothing across three processes when one is killed and Redis restarts with its data', { timeout: 60_000 }, async () => {
  const result = await runProcessChaos({ seconds: 8 });
  console.log(summary(result));
  assert.ok(result.cuts >= 5, 'connections were cut');
  assert.ok(result.connectionsPerProcess.every((n) => n >= 3), `clients moved over every process: ${result.connectionsPerProcess}`);
  assert.ok(result.connectionsAfterRestart >= 1, 'clients came back to the restarted process');
  assert.ok(result.acknowledged > 200, 'publications went through');
  assert.equal(result.notRecovered, 0, 'Redis kept its data: every recovery succeeded');
  assert.deepEqual([result.lost, result.duplicated, result.reordered], [0, 0, 0], summary(result));
});

it('reports recovered: false only after Redis restarted without its data, and loses nothing else', { timeout: 60_000 }, async () => {
  const result = await runProcessChaos({ seconds: 5, keepRedisData: false });
  console.log(summary(result));
  assert.ok(result.acknowledged > 100, 'publications went through');
  assert.equal(result.notRecovered, result.subscriptions, 'every subscription was told once that history was lost');
  assert.equal(result.misreported, 0, 'no recovered: false before the history was lost');
  assert.deepEqual([result.lost, result.duplicated, result.reordered], [0, 0, 0], summary(result));
});
