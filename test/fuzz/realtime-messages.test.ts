/**
 * The real-time server under arbitrary message sequences (fdx.v1, docs/protocol.md), presence
 * on every channel but "b": it never throws, answers every request exactly once, never answers an id twice, and closes only with
 * a documented code.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RealtimeServer } from '../../src/realtime/server/realtime-server.js';
import { MemoryEngine } from '../../src/realtime/memory-engine.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeTransport } from '../unit/realtime/fakes.js';
import { SEED, runs } from './fuzz-options.js';

const channel = fc.oneof(fc.constantFrom('a', 'b', 'room:1'), fc.string({ maxLength: 5 }), fc.anything());
const position = fc.oneof(fc.record({ offset: fc.constantFrom('0', '1', '2', '99', 'x'), epoch: fc.string({ maxLength: 4 }) }), fc.anything());
const message = fc.oneof(
  fc.record({ type: fc.constant('subscribe'), channel, since: fc.option(position, { nil: undefined }) }),
  fc.record({ type: fc.constant('unsubscribe'), channel }),
  fc.record({ type: fc.constant('publish'), channel, data: fc.jsonValue(), key: fc.option(fc.constantFrom('k1', 'k2', ''), { nil: undefined }) }),
  fc.record({ type: fc.constant('set-presence'), channel, meta: fc.oneof(fc.jsonValue(), fc.string({ minLength: 2000, maxLength: 2001 })) }),
  fc.record({ type: fc.constant('event'), event: fc.constantFrom('echo', 'fail', 'slow', 'nope', ''), data: fc.jsonValue() }),
  fc.record({ type: fc.constantFrom('ping', 'pong', 'connect', 'reply', 'pub', 'join', 'drain', 'what'), data: fc.anything() }),
  fc.anything(),
);
/** Each step: a message (requests get a fresh numeric id), raw text, or time passing. */
const step = fc.oneof(
  { weight: 6, arbitrary: message.map((m) => ({ kind: 'message' as const, m })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((text) => ({ kind: 'text' as const, text })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((ms) => ({ kind: 'time' as const, ms })) },
);

const DOCUMENTED_CLOSES = new Set([1001, 1012, 4000, 4001, 4500, 4501, 4502]);

it('never throws, answers each request once, and closes only with documented codes', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
      const clock = new FakeClock();
      const server = new RealtimeServer({ clock, engine: new MemoryEngine({ clock }), requestTimeoutMs: 1000, publishBurst: 1000, presence: (name) => name !== 'b' });
      server.on('echo', (data) => data);
      server.on('fail', () => {
        throw new Error('x');
      });
      server.on('slow', () => new Promise((resolve) => setTimeout(resolve, 1)));
      const t = new FakeTransport();
      server.accept(t);
      t.receive({ type: 'connect', id: 0 });
      const expected = new Set<number>();
      let id = 0;
      for (const s of steps) {
        if (s.kind === 'time') await clock.advance(s.ms);
        else if (s.kind === 'text') t.receive(s.text);
        else {
          const m = s.m as Record<string, unknown>;
          if (m !== null && typeof m === 'object' && !Array.isArray(m) && ['subscribe', 'unsubscribe', 'publish', 'event', 'set-presence'].includes(m['type'] as string)) {
            expected.add(++id);
            t.receive({ ...m, id });
          } else {
            t.receive(JSON.stringify(m) ?? 'undefined');
          }
        }
      }
      await clock.advance(2000);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await clock.advance(2000);
      const replies = new Map<unknown, number>();
      for (const text of t.sent) {
        const m = JSON.parse(text);
        if (m.type === 'reply') replies.set(m.id, (replies.get(m.id) ?? 0) + 1);
      }
      for (const [replyId, count] of replies) assert.equal(count, 1, `id ${String(replyId)} answered ${count} times`);
      if (t.closed) assert.ok(DOCUMENTED_CLOSES.has(t.closed.code), `closed with ${t.closed.code}`);
      else for (const want of expected) assert.ok(replies.has(want), `request ${want} got no reply`);
      await server.close();
    }),
    { seed: SEED, numRuns: runs(150), includeErrorInReport: true },
  );
});
