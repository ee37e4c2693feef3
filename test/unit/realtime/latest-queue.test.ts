/**
 * LatestQueue: what a backed-up connection holds under the 'latest' policy. Every message waits
 * in order; a keyed one replaces the waiting one of its key and takes its place at the end.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LatestQueue } from '../../../src/realtime/latest-queue.js';

function drain<T>(queue: LatestQueue<T>): T[] {
  const out: T[] = [];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
  return out;
}

describe('LatestQueue', () => {
  it('keeps every message without a key, in order, and only the newest of each key, at its own place', () => {
    const queue = new LatestQueue<string>();
    queue.push('reply 1');
    queue.push('cpu=1', 'cpu');
    queue.push('mem=1', 'mem');
    queue.push('mark');
    queue.push('cpu=2', 'cpu');
    queue.push('reply 2');
    queue.push('mark');
    assert.equal(queue.size, 6);
    assert.equal(queue.peek(), 'reply 1');
    assert.equal(queue.replaced, 1);
    assert.deepEqual(drain(queue), ['reply 1', 'mem=1', 'mark', 'cpu=2', 'reply 2', 'mark']);
    assert.equal(queue.size, 0);
    assert.equal(queue.peek(), undefined);
  });

  it('lets out a subsequence of what was pushed: every keyless message and the newest of each key', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }), { maxLength: 60 }), (keys) => {
        const queue = new LatestQueue<number>();
        keys.forEach((key, i) => queue.push(i, key));
        const out = drain(queue);
        assert.deepEqual(out, [...out].sort((x, y) => x - y), 'in order');
        const expected = keys.flatMap((key, i) => (key === undefined || keys.lastIndexOf(key) === i ? [i] : []));
        assert.deepEqual(out, expected);
      }),
    );
  });

  it('forgets everything on clear', () => {
    const queue = new LatestQueue<number>();
    queue.push(1);
    queue.push(2, 'k');
    queue.clear();
    assert.equal(queue.size, 0);
    assert.equal(queue.shift(), undefined);
  });
});

describe('LatestQueue bytes', () => {
  it('counts the bytes of waiting keyless messages only, down as they leave and to 0 on clear', () => {
    const queue = new LatestQueue<string>();
    queue.push('reply', undefined, 5);
    queue.push('cpu=1', 'cpu', 100);
    queue.push('mark', undefined, 4);
    queue.push('cpu=2', 'cpu', 100);
    assert.equal(queue.unkeyedBytes, 9);
    assert.equal(queue.shift(), 'reply');
    assert.equal(queue.unkeyedBytes, 4);
    assert.equal(queue.shift(), 'mark');
    assert.equal(queue.unkeyedBytes, 0);
    queue.push('again', undefined, 7);
    queue.clear();
    assert.equal(queue.unkeyedBytes, 0);
  });
});
