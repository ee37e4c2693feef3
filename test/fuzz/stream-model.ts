/**
 * A model of valid WebSocket traffic for the properties: messages (text or binary, split into
 * fragments, with pings and pongs between fragments) and an optional closing frame, encoded as
 * either side would send them, together with the events a receiver must report.
 */
import fc from 'fast-check';
import { Opcode } from '../../src/protocol/index.js';
import { clientFrame, closePayload, concat, toHex, utf8 } from '../support/frames.js';
import type { EventSummary } from '../unit/protocol/wire.js';

export interface ControlSpec {
  opcode: typeof Opcode.PING | typeof Opcode.PONG;
  data: Uint8Array;
}

export interface MessageSpec {
  binary: boolean;
  payload: Uint8Array;
  /** Fragment boundaries inside the payload (sorted, may repeat: empty fragments). */
  cuts: number[];
  /** Control frames sent after fragment i, keyed by fragment index. */
  controls: Array<{ after: number; frame: ControlSpec }>;
}

export interface StreamSpec {
  messages: MessageSpec[];
  close: { code: number; reason: string } | null;
}

/** Deterministic filler bytes for large payloads (generating them through fast-check is slow). */
export function filler(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const controlArb: fc.Arbitrary<ControlSpec> = fc.record({
  opcode: fc.constantFrom(Opcode.PING, Opcode.PONG),
  data: fc.uint8Array({ maxLength: 125 }),
});

const payloadArb = (binary: boolean): fc.Arbitrary<Uint8Array> =>
  binary
    ? fc.oneof(
        { weight: 6, arbitrary: fc.uint8Array({ maxLength: 200 }) },
        { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 126, max: 66000 }), fc.nat()).map(([n, s]) => filler(n, s)) },
      )
    : fc.string({ unit: 'grapheme', maxLength: 80 }).map(utf8);

export const messageArb: fc.Arbitrary<MessageSpec> = fc.boolean().chain((binary) =>
  payloadArb(binary).chain((payload) =>
    fc.record({
      binary: fc.constant(binary),
      payload: fc.constant(payload),
      cuts: fc.array(fc.integer({ min: 0, max: payload.length }), { maxLength: 5 }).map((c) => c.sort((a, b) => a - b)),
      controls: fc.array(fc.record({ after: fc.nat({ max: 5 }), frame: controlArb }), { maxLength: 3 }),
    }),
  ),
);

const validCloseCode = fc.oneof(
  fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014),
  fc.integer({ min: 3000, max: 4999 }),
);

export const streamArb: fc.Arbitrary<StreamSpec> = fc.record({
  messages: fc.array(messageArb, { minLength: 1, maxLength: 6 }),
  close: fc.option(fc.record({ code: validCloseCode, reason: fc.string({ maxLength: 30 }).filter((r) => utf8(r).length <= 123) }), {
    nil: null,
  }),
});

/** The frames of a stream, in order, as the sending side would write them. */
export function encodeStream(spec: StreamSpec, sender: 'client' | 'server', keySeed = 1): Uint8Array {
  const frames: Uint8Array[] = [];
  let n = keySeed;
  const key = () => (sender === 'client' ? filler(4, n++) : null);
  for (const m of spec.messages) {
    const bounds = [0, ...m.cuts, m.payload.length];
    const count = bounds.length - 1;
    for (let i = 0; i < count; i++) {
      frames.push(
        clientFrame({
          opcode: i === 0 ? (m.binary ? Opcode.BINARY : Opcode.TEXT) : Opcode.CONTINUATION,
          fin: i === count - 1,
          payload: m.payload.subarray(bounds[i]!, bounds[i + 1]!),
          maskingKey: key(),
        }),
      );
      for (const c of m.controls) {
        if (Math.min(c.after, count - 1) === i) frames.push(clientFrame({ opcode: c.frame.opcode, payload: c.frame.data, maskingKey: key() }));
      }
    }
  }
  if (spec.close) frames.push(clientFrame({ opcode: Opcode.CLOSE, payload: closePayload(spec.close.code, spec.close.reason), maskingKey: key() }));
  return concat(frames);
}

/** The events a receiver must report for a stream. */
export function expectedEvents(spec: StreamSpec): EventSummary[] {
  const events: EventSummary[] = [];
  for (const m of spec.messages) {
    const count = m.cuts.length + 1;
    const controlsAfter = (i: number) => {
      for (const c of m.controls) {
        if (Math.min(c.after, count - 1) === i) events.push({ type: c.frame.opcode === Opcode.PING ? 'ping' : 'pong', hex: toHex(c.frame.data) });
      }
    };
    for (let i = 0; i < count - 1; i++) controlsAfter(i);
    events.push({ type: 'message', binary: m.binary, hex: toHex(m.payload) });
    // Control frames after the last fragment arrive after the message is complete.
    controlsAfter(count - 1);
  }
  if (spec.close) events.push({ type: 'close', code: spec.close.code, reason: toHex(utf8(spec.close.reason)) });
  return events;
}

/** Random cut points for a byte stream; `bytewise` picks one-byte chunks instead. */
export const splitArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat(), { maxLength: 40 }).map((cuts) => ({ bytewise: false, cuts })) },
  { weight: 1, arbitrary: fc.constant({ bytewise: true, cuts: [] as number[] }) },
);
