/**
 * The notification API's token bucket (apps/notifications/rate-limiter.ts), on a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../../apps/notifications/rate-limiter.js';
import { FakeClock } from '../../support/fake-clock.js';

function limiter(limits = { burst: 3, perSecond: 2, maxStrikes: 4 }): { take: () => string; advance: (ms: number) => Promise<void> } {
  const clock = new FakeClock();
  const bucket = new RateLimiter(limits, () => clock.now());
  return { take: () => bucket.take(), advance: (ms) => clock.advance(ms) };
}

test('accepts a burst, then refuses until tokens come back at perSecond', async () => {
  const { take, advance } = limiter();
  assert.deepEqual([take(), take(), take(), take()], ['accept', 'accept', 'accept', 'refuse']);
  await advance(499);
  assert.equal(take(), 'refuse');
  await advance(1);
  assert.equal(take(), 'accept', 'one token after 500 ms at 2 a second');
  await advance(60_000);
  assert.deepEqual([take(), take(), take(), take()], ['accept', 'accept', 'accept', 'refuse'], 'never more than one burst saved up');
});

test('says flooding once refusals reach maxStrikes; accepted messages take strikes back', async () => {
  const { take, advance } = limiter();
  for (let i = 0; i < 3; i++) take();
  assert.deepEqual([take(), take(), take()], ['refuse', 'refuse', 'refuse']);
  await advance(500);
  assert.equal(take(), 'accept');
  assert.deepEqual([take(), take()], ['refuse', 'flooding'], '3 strikes - 1 + 2 = 4');
});
