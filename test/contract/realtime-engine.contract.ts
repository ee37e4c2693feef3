/**
 * The Engine contract (src/realtime/engine.ts), one suite for every implementation: positions,
 * atomic history + live, idempotent keys, bounded history, recovery all-or-nothing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine, EnginePublication } from '../../src/realtime/engine.js';

export interface EngineFixture {
  /** A fresh engine with history bounded to `historySize` publications. */
  make(options: { historySize: number }): Promise<Engine>;
  /** Lets history age past its time limit (fake clock, or waiting). */
  age?(engine: Engine): Promise<void>;
  /** Another engine on the same store as `engine` (another process); absent for one-process engines. */
  peer?(engine: Engine): Promise<Engine>;
}

/** Bytes (a Uint8Array, whatever its subclass) equal to `expected`, or the same JSON value. */
function assertSameData(actual: unknown, expected: unknown, where: string): void {
  if (!(expected instanceof Uint8Array)) return assert.deepEqual(actual, expected, where);
  assert.ok(actual instanceof Uint8Array, `${where}: bytes came back as ${typeof actual}`);
  assert.equal(Buffer.compare(actual, expected), 0, `${where}: other bytes`);
}

export function describeEngineContract(name: string, fixture: EngineFixture): void {
  describe(`Engine contract: ${name}`, () => {
    it('assigns consecutive offsets within one epoch', async () => {
      const engine = await fixture.make({ historySize: 10 });
      const a = await engine.publish('c', 1);
      const b = await engine.publish('c', 2);
      assert.equal(a.offset, '1');
      assert.equal(b.offset, '2');
      assert.equal(a.epoch, b.epoch);
      assert.equal(a.duplicate, false);
      const other = await engine.publish('d', 1);
      assert.equal(other.offset, '1');
      await engine.close();
    });

    it('delivers live in offset order what history holds', async () => {
      const engine = await fixture.make({ historySize: 10 });
      const live: EnginePublication[] = [];
      const stop = await engine.subscribe('c', (p) => live.push(p));
      for (let i = 0; i < 5; i++) await engine.publish('c', { i });
      const history = await engine.history('c', { offset: '0', epoch: live[0]!.epoch });
      assert.equal(history.recovered, true);
      assert.deepEqual(history.publications, live.map(({ offset, data }) => ({ offset, data })));
      assert.deepEqual(history.position, { offset: '5', epoch: live[0]!.epoch });
      await stop();
      await engine.publish('c', 'after');
      assert.equal(live.length, 5);
      await engine.close();
    });

    it('reports the current position of an empty channel as offset 0', async () => {
      const engine = await fixture.make({ historySize: 10 });
      const history = await engine.history('empty');
      assert.equal(history.recovered, true);
      assert.equal(history.position.offset, '0');
      assert.deepEqual(history.publications, []);
      await engine.close();
    });

    it('does not store or deliver twice a publication whose key it has seen', async () => {
      const engine = await fixture.make({ historySize: 10 });
      const live: EnginePublication[] = [];
      await engine.subscribe('c', (p) => live.push(p));
      const first = await engine.publish('c', 'x', { key: 'k1' });
      const again = await engine.publish('c', 'x', { key: 'k1' });
      const other = await engine.publish('c', 'y', { key: 'k2' });
      assert.deepEqual(again, { offset: first.offset, epoch: first.epoch, duplicate: true });
      assert.equal(other.offset, '2');
      assert.equal(live.length, 2);
      await engine.close();
    });

    it('recovers everything after a position inside the window, in order', async () => {
      const engine = await fixture.make({ historySize: 5 });
      let epoch = '';
      for (let i = 1; i <= 8; i++) epoch = (await engine.publish('c', i)).epoch;
      const result = await engine.history('c', { offset: '4', epoch });
      assert.equal(result.recovered, true);
      assert.deepEqual(result.publications.map((p) => p.data), [5, 6, 7, 8]);
      const atTop = await engine.history('c', { offset: '8', epoch });
      assert.deepEqual([atTop.recovered, atTop.publications.length], [true, 0]);
      await engine.close();
    });

    it('returns recovered: false and nothing past the window, for another epoch or a future offset', async () => {
      const engine = await fixture.make({ historySize: 5 });
      let epoch = '';
      for (let i = 1; i <= 8; i++) epoch = (await engine.publish('c', i)).epoch;
      for (const since of [{ offset: '2', epoch }, { offset: '4', epoch: `${epoch}x` }, { offset: '9', epoch }, { offset: 'x', epoch }]) {
        const result = await engine.history('c', since);
        assert.equal(result.recovered, false, JSON.stringify(since));
        assert.deepEqual(result.publications, []);
        assert.deepEqual(result.position, { offset: '8', epoch });
      }
      const edge = await engine.history('c', { offset: '3', epoch });
      assert.equal(edge.recovered, true);
      assert.equal(edge.publications.length, 5);
      await engine.close();
    });

    if (fixture.age) {
      it('drops publications older than the history age: recovery from before them fails', async () => {
        const engine = await fixture.make({ historySize: 100 });
        const first = await engine.publish('c', 1);
        await engine.publish('c', 2);
        await fixture.age!(engine);
        const result = await engine.history('c', { offset: '0', epoch: first.epoch });
        assert.equal(result.recovered, false);
        const live: EnginePublication[] = [];
        await engine.subscribe('c', (p) => live.push(p));
        const next = await engine.publish('c', 3);
        const fromNext = await engine.history('c', { offset: String(Number(next.offset) - 1), epoch: next.epoch });
        assert.deepEqual([fromNext.recovered, fromNext.publications.length], [true, 1]);
        await engine.close();
      });
    }

    it('keeps bytes exactly, live (in this process and another) and in history, beside JSON data', async () => {
      const engine = await fixture.make({ historySize: 10 });
      const other = fixture.peer ? await fixture.peer(engine) : engine;
      const here: EnginePublication[] = [];
      const there: EnginePublication[] = [];
      await engine.subscribe('bin', (p) => here.push(p));
      await other.subscribe('bin', (p) => there.push(p));
      const values: unknown[] = [
        new Uint8Array(256).map((_, i) => i),
        new Uint8Array(0),
        'b',
        'bee',
        { b: 'x' },
        Buffer.from('not JSON at all \u0000'),
        new Uint8Array(100_000).map((_, i) => (i * 7) % 256),
      ];
      for (const value of values) await engine.publish('bin', value);
      for (let waited = 0; there.length < values.length && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      const history = await other.history('bin', { offset: '0', epoch: here[0]!.epoch });
      assert.equal(history.recovered, true);
      values.forEach((value, i) => {
        assertSameData(here[i]?.data, value, `live here, #${i}`);
        assertSameData(there[i]?.data, value, `live in another process, #${i}`);
        assertSameData(history.publications[i]?.data, value, `history, #${i}`);
      });
      if (other !== engine) await other.close();
      await engine.close();
    });

    it("hands a publication's latest to live handlers only, not to history", async () => {
      const engine = await fixture.make({ historySize: 10 });
      const other = fixture.peer ? await fixture.peer(engine) : engine;
      const there: EnginePublication[] = [];
      await other.subscribe('dash', (p) => there.push(p));
      await engine.publish('dash', { cpu: 1 }, { latest: 'cpu' });
      await engine.publish('dash', 'plain');
      for (let waited = 0; there.length < 2 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      assert.equal(there[0]!.latest, 'cpu');
      assert.equal(there[1]!.latest, undefined);
      const history = await engine.history('dash', { offset: '0', epoch: there[0]!.epoch });
      assert.deepEqual(history.publications, [{ offset: '1', data: { cpu: 1 } }, { offset: '2', data: 'plain' }]);
      if (other !== engine) await other.close();
      await engine.close();
    });

    it('rejects with UNAVAILABLE once closed', async () => {
      const engine = await fixture.make({ historySize: 5 });
      await engine.close();
      await assert.rejects(engine.publish('c', 1), { code: 'UNAVAILABLE' });
    });
  });
}
