/** MemorySessionStore: sessions kept for their time to live, then forgotten (fake clock). */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySessionStore } from '../../../src/realtime/session-store.js';
import { FakeClock } from '../../support/fake-clock.js';

it('keeps a session\'s channels for its time to live, then forgets it', async () => {
  const clock = new FakeClock();
  const store = new MemorySessionStore({ clock });
  await store.save('s1', ['a', 'b'], 1000);
  assert.deepEqual(await store.load('s1'), ['a', 'b']);
  assert.equal(await store.load('other'), undefined);
  await store.save('s1', ['a'], 1000);
  assert.deepEqual(await store.load('s1'), ['a']);
  clock.time += 1000;
  assert.equal(await store.load('s1'), undefined);
  await store.save('s2', [], 1000);
  assert.equal(store.size, 1);
});
