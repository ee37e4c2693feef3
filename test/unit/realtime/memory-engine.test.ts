/** MemoryEngine specifics beyond the Engine contract: the key window, key count and idle channels. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEngine } from '../../../src/realtime/memory-engine.js';
import { FakeClock } from '../../support/fake-clock.js';

describe('MemoryEngine', () => {
  it('forgets a publish key after the idempotency window', async () => {
    const clock = new FakeClock();
    const engine = new MemoryEngine({ clock, idempotencyWindowMs: 1000 });
    await engine.subscribe('c', () => {});
    assert.equal((await engine.publish('c', 1, { key: 'k' })).duplicate, false);
    clock.time += 500;
    assert.equal((await engine.publish('c', 1, { key: 'k' })).duplicate, true);
    clock.time += 600;
    const later = await engine.publish('c', 1, { key: 'k' });
    assert.deepEqual([later.duplicate, later.offset], [false, '2']);
  });

  it('keeps at most maxIdempotencyKeys keys per channel, dropping the oldest', async () => {
    const engine = new MemoryEngine({ maxIdempotencyKeys: 2 });
    await engine.publish('c', 1, { key: 'a' });
    await engine.publish('c', 2, { key: 'b' });
    await engine.publish('c', 3, { key: 'c' });
    assert.equal((await engine.publish('c', 4, { key: 'c' })).duplicate, true);
    assert.equal((await engine.publish('c', 5, { key: 'a' })).duplicate, false);
  });

  it('forgets an idle channel without subscribers, so a later position gets a new epoch', async () => {
    const clock = new FakeClock();
    const engine = new MemoryEngine({ clock, historyTtlMs: 1000 });
    const first = await engine.publish('c', 1);
    clock.time += 2000;
    const next = await engine.publish('c', 2);
    assert.notEqual(next.epoch, first.epoch);
    assert.equal(next.offset, '1');
  });

  it('forgets idle channels it is never asked about again, so one-off channels cost nothing for long', async () => {
    const clock = new FakeClock();
    const engine = new MemoryEngine({ clock, historyTtlMs: 10_000 });
    await engine.subscribe('kept', () => {});
    for (let i = 0; i < 100; i++) await engine.publish(`once:${i}`, i);
    assert.equal(engine.channelCount, 101);
    clock.time += 10_001;
    await engine.publish('other', 1);
    assert.equal(engine.channelCount, 2);
  });

  it('keeps the position of a channel with subscribers even when its history aged out', async () => {
    const clock = new FakeClock();
    const engine = new MemoryEngine({ clock, historyTtlMs: 1000 });
    await engine.subscribe('c', () => {});
    const first = await engine.publish('c', 1);
    clock.time += 2000;
    const result = await engine.history('c', { offset: first.offset, epoch: first.epoch });
    assert.deepEqual([result.recovered, result.publications.length], [true, 0]);
  });

  it('keeps no history with historySize 0 but still assigns positions', async () => {
    const engine = new MemoryEngine({ historySize: 0 });
    const a = await engine.publish('c', 1);
    await engine.publish('c', 2);
    assert.equal((await engine.history('c', { offset: a.offset, epoch: a.epoch })).recovered, false);
    assert.equal((await engine.history('c', { offset: '2', epoch: a.epoch })).recovered, true);
  });
});
