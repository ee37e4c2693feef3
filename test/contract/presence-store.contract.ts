/**
 * The PresenceStore contract (src/realtime/presence-store.ts), one suite for every
 * implementation: entries of several nodes, removal per node, changes handed to subscribers in
 * write order, expiry after ttlMs unless refreshed, UNAVAILABLE once closed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PresenceChange, PresenceEntry, PresenceStore } from '../../src/realtime/presence-store.js';
import { RealtimeError } from '../../src/realtime/realtime-error.js';

export interface PresenceStoreFixture {
  /** Two stores over one backing store (two processes' views of it), entries living `ttlMs`. */
  make(options: { ttlMs: number }): Promise<{ stores: [PresenceStore, PresenceStore]; wait(ms: number): Promise<void> }>;
}

const entry = (node: string, user: string, meta: unknown = null, connections = 1): PresenceEntry => ({ node, user, connections, meta, at: 1_000 });
const sorted = (entries: PresenceEntry[]) => [...entries].sort((a, b) => (a.node + a.user).localeCompare(b.node + b.user));

/** Resolves once `changes` holds `n` changes (the handler may run after a round trip). */
async function until(changes: unknown[], n: number, wait: (ms: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < 200 && changes.length < n; i++) await wait(10);
}

export function describePresenceStoreContract(name: string, fixture: PresenceStoreFixture): void {
  describe(`PresenceStore contract: ${name}`, () => {
    it('keeps the entries of every node, visible from every store', async () => {
      const { stores: [a, b] } = await fixture.make({ ttlMs: 10_000 });
      await a.write('room:1', { node: 'A', set: [entry('A', 'ada', { name: 'Ada' }, 2), entry('A', 'bob')], remove: [] });
      await b.write('room:1', { node: 'B', set: [entry('B', 'ada')], remove: [] });
      const expected = sorted([entry('A', 'ada', { name: 'Ada' }, 2), entry('A', 'bob'), entry('B', 'ada')]);
      assert.deepEqual(sorted(await a.read('room:1')), expected);
      assert.deepEqual(sorted(await b.read('room:1')), expected);
      assert.deepEqual(await a.read('room:2'), [], 'channels are apart');
      await a.close();
      await b.close();
    });

    it('replaces an entry on rewrite and removes only the writing node\'s entry of a user', async () => {
      const { stores: [a, b] } = await fixture.make({ ttlMs: 10_000 });
      await a.write('r', { node: 'A', set: [entry('A', 'ada', 1)], remove: [] });
      await b.write('r', { node: 'B', set: [entry('B', 'ada', 2)], remove: [] });
      await a.write('r', { node: 'A', set: [entry('A', 'ada', 3)], remove: [] });
      await a.write('r', { node: 'A', set: [], remove: ['ada', 'nobody'] });
      assert.deepEqual(await b.read('r'), [entry('B', 'ada', 2)]);
      await a.close();
      await b.close();
    });

    it('hands every change to the subscribers of its channel, in write order, and none after unsubscribing', async () => {
      const { stores: [a, b], wait } = await fixture.make({ ttlMs: 10_000 });
      const seenA: PresenceChange[] = [];
      const seenB: PresenceChange[] = [];
      const stopA = await a.subscribe('room:x', (change) => seenA.push(change));
      const stopB = await b.subscribe('room:x', (change) => seenB.push(change));
      const other: PresenceChange[] = [];
      const stopOther = await b.subscribe('room:y', (change) => other.push(change));
      const changes: PresenceChange[] = [];
      for (let i = 0; i < 5; i++) changes.push({ node: 'A', set: [entry('A', `u${i}`, i)], remove: i > 0 ? [`u${i - 1}`] : [] });
      for (const change of changes) await a.write('room:x', change);
      await a.write('room:x', { node: 'A', set: [entry('A', 'quiet')], remove: [] }, { notify: false });
      await until(seenB, 5, wait);
      await wait(50);
      assert.deepEqual(seenA, changes, 'the writer\'s own subscriber too');
      assert.deepEqual(seenB, changes, 'another store\'s subscriber, in order, without the quiet write');
      assert.deepEqual(other, []);
      await stopB();
      await a.write('room:x', { node: 'A', set: [], remove: ['u4'] });
      await until(seenA, 6, wait);
      await wait(50);
      assert.equal(seenA.length, 6);
      assert.equal(seenB.length, 5);
      await stopA();
      await stopOther();
      await a.close();
      await b.close();
    });

    it('keeps each subscriber of a channel on one store apart: one unsubscribing leaves the others hearing', async () => {
      const { stores: [a, b], wait } = await fixture.make({ ttlMs: 10_000 });
      const first: PresenceChange[] = [];
      const second: PresenceChange[] = [];
      const stopFirst = await b.subscribe('room:z', (change) => first.push(change));
      const stopSecond = await b.subscribe('room:z', (change) => second.push(change));
      await stopFirst();
      const change: PresenceChange = { node: 'A', set: [entry('A', 'ada')], remove: [] };
      await a.write('room:z', change);
      await until(second, 1, wait);
      assert.deepEqual([first, second], [[], [change]]);
      await stopSecond();
      await a.close();
      await b.close();
    });

    it('lets an entry expire ttlMs after its last write, unless it was written again', async () => {
      const { stores: [a, b], wait } = await fixture.make({ ttlMs: 400 });
      await a.write('t', { node: 'A', set: [entry('A', 'ada'), entry('A', 'bob')], remove: [] });
      await wait(250);
      await a.write('t', { node: 'A', set: [entry('A', 'bob')], remove: [] }, { notify: false });
      await wait(250);
      assert.deepEqual(await b.read('t'), [entry('A', 'bob')], 'ada expired, bob was refreshed');
      await wait(250);
      assert.deepEqual(await b.read('t'), []);
      await a.close();
      await b.close();
    });

    it('rejects with UNAVAILABLE once closed', async () => {
      const { stores: [a, b] } = await fixture.make({ ttlMs: 10_000 });
      await a.close();
      const isUnavailable = (error: unknown) => error instanceof RealtimeError && error.code === 'UNAVAILABLE';
      await assert.rejects(a.read('r'), isUnavailable);
      await assert.rejects(a.write('r', { node: 'A', set: [entry('A', 'x')], remove: [] }), isUnavailable);
      await assert.rejects(a.subscribe('r', () => {}), isUnavailable);
      await b.close();
    });
  });
}
