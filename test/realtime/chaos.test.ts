/**
 * A short chaos run (test/realtime/chaos.ts): connections cut at random (also mid-frame), the
 * server crashed and restarted once, drained and restarted once, and one client kept away past
 * the history window; on the memory engine and on the Redis engine (shared Redis, a prefix of
 * its own). `npm run chaos` runs it longer.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos, summary } from './chaos.js';

it('loses, duplicates and reorders nothing under cuts and a restart; reports recovered: false past the window', { timeout: 90_000 }, async () => {
  const result = await runChaos({ seconds: 6 });
  console.log(summary(result));
  assert.ok(result.cuts >= 5, 'connections were cut');
  assert.ok(result.midFrame >= 1, 'some cuts fell inside a frame');
  assert.equal(result.restarts, 2);
  assert.ok(result.acknowledged > 100, 'publications went through');
  assert.ok(result.notRecovered >= 1, 'the client kept away past the window was told recovered: false');
  assert.equal(result.refused, 0, 'every publication was acknowledged in the end');
  assert.deepEqual([result.lost, result.duplicated, result.reordered], [0, 0, 0], summary(result));
});

it('loses, duplicates and reorders nothing on the Redis engine under cuts and restarts', { timeout: 90_000 }, async () => {
  const result = await runChaos({ seconds: 6, engine: 'redis' });
  console.log(summary(result));
  assert.ok(result.cuts >= 5, 'connections were cut');
  assert.ok(result.acknowledged > 100, 'publications went through');
  assert.equal(result.refused, 0, 'every publication was acknowledged in the end');
  assert.deepEqual([result.lost, result.duplicated, result.reordered], [0, 0, 0], summary(result));
});
