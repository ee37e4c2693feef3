/**
 * test/support/fake-clock.ts: the clock other tests stand on, so its own rules are checked here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../support/fake-clock.js';

describe('FakeClock', () => {
  it('moves only when advanced, and ends exactly where advance says', async () => {
    const clock = new FakeClock(500);
    assert.equal(clock.now(), 500);
    await clock.advance(250);
    assert.equal(clock.now(), 750);
  });

  it('fires due timers by due time, then by the order they were set, each at its own time', async () => {
    const clock = new FakeClock(0);
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    clock.setTimeout(() => fired.push(['c', clock.now()]), 20);
    clock.setTimeout(() => fired.push(['late', clock.now()]), 31);
    await clock.advance(30);
    assert.deepEqual(fired, [['a', 10], ['b', 20], ['c', 20]]);
    assert.equal(clock.pending, 1);
    await clock.advance(1);
    assert.deepEqual(fired.at(-1), ['late', 31]);
    assert.equal(clock.pending, 0);
  });

  it('lists the pending timers by their due time relative to now', async () => {
    const clock = new FakeClock(0);
    clock.setTimeout(() => {}, 30);
    const cleared = clock.setTimeout(() => {}, 5);
    clock.setTimeout(() => {}, 10);
    clock.clearTimeout(cleared);
    await clock.advance(4);
    assert.deepEqual(clock.due.sort((a, b) => a - b), [6, 26]);
    await clock.advance(30);
    assert.deepEqual(clock.due, []);
  });

  it('never fires a cleared timer', async () => {
    const clock = new FakeClock();
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 5);
    clock.clearTimeout(handle);
    await clock.advance(10);
    assert.equal(fired, false);
    assert.equal(clock.pending, 0);
  });

  it('fires a timer set by a promise callback of an earlier timer within the same advance', async () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => {
      void Promise.resolve().then(() => clock.setTimeout(() => fired.push(clock.now()), 5));
    }, 10);
    await clock.advance(20);
    assert.deepEqual(fired, [15]);
  });
});
