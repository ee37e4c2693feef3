/**
 * LiveSequencer: a channel's live feed handed on in offset order without gaps, gaps filled from
 * history, new epochs handed on, a failed fill retried; driven by a scripted history and a fake
 * clock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LiveSequencer } from '../../../src/engine/live-sequencer.js';
import type { EnginePublication, HistoryResult } from '../../../src/realtime/engine.js';
import type { Position } from '../../../src/realtime/protocol.js';
import { FakeClock } from '../../support/fake-clock.js';

/** A channel's history as a store would keep it: epoch, top, kept publications. */
class Store {
  epoch = 'e1';
  top = 0;
  kept = new Map<number, unknown>();
  reads: Array<Position | undefined> = [];
  failNext = 0;
  add(data: unknown): EnginePublication {
    this.kept.set(++this.top, data);
    return { channel: 'c', offset: String(this.top), epoch: this.epoch, data };
  }
  read = async (since?: Position): Promise<HistoryResult> => {
    this.reads.push(since);
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('down');
    }
    const position = { offset: String(this.top), epoch: this.epoch };
    if (!since) return { recovered: true, position, publications: [] };
    const from = Number(since.offset);
    if (since.epoch !== this.epoch || !this.kept.has(from + 1) && from !== this.top) return { recovered: false, position, publications: [] };
    const publications = [];
    for (let offset = from + 1; offset <= this.top; offset++) publications.push({ offset: String(offset), data: this.kept.get(offset) });
    return { recovered: true, position, publications };
  };
}

function setup(store = new Store()) {
  const clock = new FakeClock();
  const seen: string[] = [];
  const sequencer = new LiveSequencer('c', store.read, (p) => seen.push(`${p.epoch}:${p.offset}:${p.data}`), { clock, retryDelayMs: 100 });
  return { store, clock, seen, sequencer };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('LiveSequencer', () => {
  it('hands on consecutive publications at once and drops ones already handed on', async () => {
    const { store, seen, sequencer } = setup();
    await sequencer.start();
    const a = store.add('a');
    const b = store.add('b');
    sequencer.offer(a);
    sequencer.offer(b);
    sequencer.offer(a);
    assert.deepEqual(seen, ['e1:1:a', 'e1:2:b']);
    assert.equal(store.reads.length, 1);
  });

  it('starts after the position read at start: older publications are not handed on', async () => {
    const { store, seen, sequencer } = setup();
    const early = store.add('early');
    await sequencer.start();
    sequencer.offer(early);
    sequencer.offer(store.add('next'));
    assert.deepEqual(seen, ['e1:2:next']);
  });

  it('fills a gap from history before handing on what follows it', async () => {
    const { store, seen, sequencer } = setup();
    await sequencer.start();
    sequencer.offer(store.add('a'));
    store.add('lost');
    store.add('lost too');
    sequencer.offer(store.add('d'));
    sequencer.offer(store.add('e'));
    assert.deepEqual(seen, ['e1:1:a']);
    await settle();
    assert.deepEqual(seen, ['e1:1:a', 'e1:2:lost', 'e1:3:lost too', 'e1:4:d', 'e1:5:e']);
  });

  it('hands on a new epoch from its start and ignores late messages of the old one', async () => {
    const { store, seen, sequencer } = setup();
    await sequencer.start();
    const old = store.add('a');
    sequencer.offer(old);
    store.epoch = 'e2';
    store.top = 0;
    store.kept.clear();
    sequencer.offer(store.add('fresh'));
    sequencer.offer({ ...old, offset: '2' });
    assert.deepEqual(seen, ['e1:1:a', 'e2:1:fresh']);
  });

  it('heal() hands on what was published while the feed was away', async () => {
    const { store, seen, sequencer } = setup();
    await sequencer.start();
    store.add('missed');
    store.add('missed too');
    sequencer.heal();
    await settle();
    assert.deepEqual(seen, ['e1:1:missed', 'e1:2:missed too']);
  });

  it('heal() after history was lost moves to the new epoch and hands on its publications', async () => {
    const { store, seen, sequencer } = setup();
    await sequencer.start();
    sequencer.offer(store.add('a'));
    store.epoch = 'e2';
    store.top = 0;
    store.kept.clear();
    store.add('after restart');
    sequencer.heal();
    await settle();
    await settle();
    assert.deepEqual(seen, ['e1:1:a', 'e2:1:after restart']);
  });

  it('retries a failed fill after a delay, holding what follows the gap', async () => {
    const { store, clock, seen, sequencer } = setup();
    await sequencer.start();
    store.add('lost');
    store.failNext = 1;
    sequencer.offer(store.add('b'));
    await settle();
    assert.deepEqual(seen, []);
    await clock.advance(100);
    await settle();
    assert.deepEqual(seen, ['e1:1:lost', 'e1:2:b']);
  });

  it('retries a heal whose read failed until one succeeds', async () => {
    const { store, clock, seen, sequencer } = setup();
    await sequencer.start();
    store.add('missed');
    store.failNext = 2;
    sequencer.heal();
    await settle();
    await clock.advance(100);
    await settle();
    assert.deepEqual(seen, []);
    await clock.advance(200);
    await settle();
    assert.deepEqual(seen, ['e1:1:missed']);
  });

  it('goes on past a gap that history no longer holds, and counts it', async () => {
    const { store, seen, sequencer } = setup();
    await sequencer.start();
    store.add('trimmed');
    store.kept.clear();
    sequencer.offer(store.add('b'));
    await settle();
    assert.deepEqual(seen, ['e1:2:b']);
    assert.equal(sequencer.unhealedGaps, 1);
  });

  it('marks the first publication handed on past a lost gap afterLoss, even when it comes after the heal', async () => {
    const store = new Store();
    const handed: EnginePublication[] = [];
    const sequencer = new LiveSequencer('c', store.read, (p) => handed.push(p), { clock: new FakeClock() });
    await sequencer.start();
    sequencer.offer(store.add('a'));
    store.add('trimmed');
    store.kept.delete(2);
    sequencer.heal();
    await settle();
    sequencer.offer(store.add('c'));
    sequencer.offer(store.add('d'));
    assert.deepEqual(handed.map((p) => [p.offset, p.afterLoss]), [['1', undefined], ['3', true], ['4', undefined]]);
  });

  it('hands on nothing once stopped', async () => {
    const { store, seen, sequencer } = setup();
    await sequencer.start();
    sequencer.stop();
    sequencer.offer(store.add('a'));
    assert.deepEqual(seen, []);
  });
});
