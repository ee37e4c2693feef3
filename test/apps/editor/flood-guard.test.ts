import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FloodGuard } from '../../../apps/editor/flood-guard.js';

describe('FloodGuard', () => {
  test('admits the limit within one second, refuses the next, and admits again in the next second', () => {
    let now = 1000;
    const guard = new FloodGuard(3, () => now);
    assert.deepEqual([guard.admit(), guard.admit(), guard.admit(), guard.admit()], [true, true, true, false]);
    now += 999;
    assert.equal(guard.admit(), false, 'still the same second');
    now += 1;
    assert.equal(guard.admit(), true, 'a new second');
  });
});
