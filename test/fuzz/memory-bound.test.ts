/**
 * Property (d): memory held by a Connection stays bounded by maxPayload, whatever arrives. Random
 * garbage, long fragmented messages that never finish, and frames that declare large lengths but
 * stop early are fed in many chunks; after each batch the test forces a collection and checks
 * that what is still reachable (the connection and its buffers) is within a loose bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { Opcode, type Connection } from '../../src/protocol/index.js';
import { clientFrame } from '../support/frames.js';
import { clientConnection, serverConnection } from '../unit/protocol/wire.js';
import { assertProperty, runs } from './fuzz-options.js';
import { filler } from './stream-model.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MAX_PAYLOAD = 64 * 1024;
const MAX_CHUNK = 16 * 1024;
/** What the connection may hold: one message buffer, one partly read chunk, and slack for the runtime. */
const BOUND = 2 * MAX_PAYLOAD + MAX_CHUNK + 512 * 1024;

type Segment =
  | { kind: 'garbage'; size: number; seed: number }
  /** A fragmented binary message of `fragments` frames that may stop before its end. */
  | { kind: 'message'; fragments: number[]; finish: boolean; pings: number; seed: number }
  /** One frame declaring `declared` bytes of which only `sent` arrive. */
  | { kind: 'partial'; declared: number; sent: number; seed: number };

const segmentArb: fc.Arbitrary<Segment> = fc.oneof(
  fc.record({ kind: fc.constant('garbage' as const), size: fc.integer({ min: 1, max: 200_000 }), seed: fc.nat() }),
  fc.record({
    kind: fc.constant('message' as const),
    fragments: fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 12 }),
    finish: fc.boolean(),
    pings: fc.nat({ max: 4 }),
    seed: fc.nat(),
  }),
  fc.record({
    kind: fc.constant('partial' as const),
    declared: fc.integer({ min: 1, max: MAX_PAYLOAD }),
    sent: fc.integer({ min: 0, max: MAX_PAYLOAD }),
    seed: fc.nat(),
  }),
);

/** The bytes of one segment as `sender` would write them (valid segments stay valid). */
function materialize(segment: Segment, sender: 'client' | 'server'): Uint8Array[] {
  const key = (n: number) => (sender === 'client' ? filler(4, n + 1) : null);
  switch (segment.kind) {
    case 'garbage':
      return [filler(segment.size, segment.seed)];
    case 'message': {
      const out: Uint8Array[] = [];
      segment.fragments.forEach((size, i) => {
        const last = i === segment.fragments.length - 1;
        out.push(
          clientFrame({
            opcode: i === 0 ? Opcode.BINARY : Opcode.CONTINUATION,
            fin: last && segment.finish,
            payload: filler(size, segment.seed + i),
            maskingKey: key(segment.seed + i),
          }),
        );
        if (i < segment.pings) out.push(clientFrame({ opcode: Opcode.PING, payload: filler(i * 30, i), maskingKey: key(i) }));
      });
      return out;
    }
    case 'partial': {
      const frame = clientFrame({ opcode: Opcode.BINARY, payload: filler(segment.declared, segment.seed), maskingKey: key(segment.seed) });
      const header = frame.length - segment.declared;
      return [frame.subarray(0, header + Math.min(segment.sent, segment.declared - 1))];
    }
  }
}

function feedInChunks(conn: Connection, bytes: Uint8Array, chunkSizes: number[]): void {
  let offset = 0;
  let k = 0;
  while (offset < bytes.length) {
    const size = 1 + (chunkSizes[k++ % chunkSizes.length]! % MAX_CHUNK);
    conn.receiveData(bytes.slice(offset, offset + size));
    offset += size;
    // Drop what the connection reports: only what it keeps itself should stay reachable.
    for (const e of conn.takeEvents()) assert.ok(e.type !== 'error' || e.error.code !== 'WS_ERR_INTERNAL', 'internal error');
    conn.takeOutput();
  }
}

/**
 * ArrayBuffers still reachable, relative to `baseline`. Backing stores are freed by a sweeper
 * that may lag one collection behind, so collect until the figure stops falling (at most 4 times).
 */
function retained(baseline: number): number {
  gc();
  let best = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 3; i++) {
    gc();
    const now = process.memoryUsage().arrayBuffers;
    if (now >= best) break;
    best = now;
  }
  return best - baseline;
}

/** Builds and feeds one segment in its own frame, so none of its bytes stay reachable from the caller. */
function feedSegment(conn: Connection, segment: Segment, sender: 'client' | 'server', chunkSizes: number[]): void {
  for (const bytes of materialize(segment, sender)) feedInChunks(conn, bytes, chunkSizes);
}

for (const side of ['server', 'client'] as const) {
  const sender = side === 'server' ? 'client' : 'server';
  describe(`${side} Connection with maxPayload 64 KiB`, () => {
    it('holds at most about one maxPayload of buffers, whatever it is fed and however it is split', () => {
      assertProperty(
        fc.property(
          fc.array(segmentArb, { minLength: 1, maxLength: 12 }),
          fc.array(fc.integer({ min: 0, max: MAX_CHUNK }), { minLength: 1, maxLength: 8 }),
          (segments, chunkSizes) => {
            const conn = side === 'server' ? serverConnection({ maxPayload: MAX_PAYLOAD }) : clientConnection({ maxPayload: MAX_PAYLOAD });
            const baseline = retained(0);
            let worst = 0;
            for (const segment of segments) {
              feedSegment(conn, segment, sender, chunkSizes);
              worst = Math.max(worst, retained(baseline));
            }
            assert.ok(worst < BOUND, `retained ${worst} bytes (bound ${BOUND})`);
            assert.equal(conn.state === 'OPEN' || conn.state === 'CLOSING', true);
          },
        ),
        runs(15, 0.02),
      );
    });

    it('keeps memory flat over 8 MiB of garbage fed in 4 KiB chunks', () => {
      const conn = side === 'server' ? serverConnection({ maxPayload: MAX_PAYLOAD }) : clientConnection({ maxPayload: MAX_PAYLOAD });
      const baseline = retained(0);
      for (let i = 0; i < 2048; i++) {
        conn.receiveData(filler(4096, i));
        conn.takeEvents();
        conn.takeOutput();
      }
      assert.ok(retained(baseline) < BOUND);
    });

    it('keeps at most one message buffer while a fragmented message grows to just under maxPayload', () => {
      const conn = side === 'server' ? serverConnection({ maxPayload: MAX_PAYLOAD }) : clientConnection({ maxPayload: MAX_PAYLOAD });
      const baseline = retained(0);
      const fragment = 1000;
      for (let i = 0; i < MAX_PAYLOAD / fragment - 1; i++) {
        const frame = clientFrame({
          opcode: i === 0 ? Opcode.BINARY : Opcode.CONTINUATION,
          fin: false,
          payload: filler(fragment, i),
          maskingKey: sender === 'client' ? filler(4, i) : null,
        });
        for (let o = 0; o < frame.length; o += 100) conn.receiveData(frame.slice(o, o + 100));
        assert.deepEqual(conn.takeEvents(), []);
      }
      const held = retained(baseline);
      assert.ok(held >= MAX_PAYLOAD / 2, `the message bytes should be held (${held})`);
      assert.ok(held < BOUND, `retained ${held} bytes`);
    });
  });
}
