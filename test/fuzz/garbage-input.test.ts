/**
 * Property (b): whatever bytes arrive, split however, a Connection never throws, reports only
 * documented errors (a PROTOCOL_ERRORS code with its close code), at most one of them and nothing
 * after it, queues at most one close frame (carrying the error's close code or echoing the peer's),
 * masks exactly when it is the client, and reports the same thing whatever the split.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Opcode, PROTOCOL_ERRORS, ProtocolError, type Connection, type ConnectionEvent, type MessageCodec } from '../../src/protocol/index.js';
import { clientFrame, closeCodeOf, concat, decodeFrames, splitAt } from '../support/frames.js';
import { clientConnection, serverConnection, summarize } from '../unit/protocol/wire.js';
import { assertProperty, runs } from './fuzz-options.js';
import { encodeStream, filler, streamArb } from './stream-model.js';

const reversingCodec = (): MessageCodec => ({
  shouldCompress: () => false,
  compress: (d) => d,
  decompress: (d, max) => {
    if (max > 0 && d.length > max) return new ProtocolError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    if (d[0] === 0xff) return new ProtocolError('WS_ERR_INFLATE_FAILED');
    return d.slice().reverse();
  },
});

const optionSets = [
  { name: 'defaults', options: {} },
  { name: 'small limits', options: { maxPayload: 300, maxFragments: 3, maxPendingPongs: 2 } },
  { name: 'a codec', options: { codec: reversingCodec(), maxPayload: 5000 } },
  { name: 'no UTF-8 check, no auto pong', options: { skipUtf8Validation: true, autoPong: false } },
] as const;

/** A frame header with any bits, a length in any of the three forms, maybe a mask, then some payload bytes. */
const frameishArb = fc
  .record({
    b0: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x00, 0x01, 0x02, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8a, 0xc1, 0xc2, 0x41)),
    masked: fc.boolean(),
    lengthForm: fc.constantFrom(0, 1, 2),
    length: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 70000 }), fc.constantFrom(2 ** 31, 2 ** 40, 2 ** 53, 2 ** 63)),
    key: fc.integer({ min: 0, max: 0xffffffff }),
    bodyLength: fc.integer({ min: 0, max: 400 }),
    seed: fc.nat(),
  })
  .map(({ b0, masked, lengthForm, length, key, bodyLength, seed }) => {
    const parts: number[] = [b0];
    const m = masked ? 0x80 : 0;
    if (lengthForm === 0) parts.push(m | Math.min(length, 125));
    else if (lengthForm === 1) parts.push(m | 126, (length >>> 8) & 0xff, length & 0xff);
    else {
      parts.push(m | 127);
      let hi = Math.floor(length / 2 ** 32);
      const lo = length % 2 ** 32;
      for (let i = 3; i >= 0; i--) parts.push(Math.floor(hi / 256 ** i) % 256);
      for (let i = 3; i >= 0; i--) parts.push(Math.floor(lo / 256 ** i) % 256);
      hi = 0;
    }
    if (masked) parts.push(key >>> 24, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff);
    return concat([Uint8Array.from(parts), filler(bodyLength, seed)]);
  });

/** Small well-formed frames of any opcode, so streams get past the first header more often. */
const smallFrameArb = fc
  .record({
    opcode: fc.oneof(fc.constantFrom(0, 1, 2, 8, 9, 10, 3, 11), fc.constant(8)),
    fin: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    rsv1: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    payload: fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom(
        Uint8Array.of(0x03, 0xe8),
        Uint8Array.of(0x0f, 0xa0, 0x6f, 0x6b),
        Uint8Array.of(0x03),
        Uint8Array.of(0xed, 0xa0, 0x80),
        Uint8Array.of(0x0f, 0xa0, 0xc0, 0xaf),
      ),
      // A close payload: any code, then a reason that may or may not be UTF-8.
      fc.tuple(fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 995, max: 1020 })), fc.uint8Array({ maxLength: 6 })).map(([code, reason]) =>
        concat([Uint8Array.of(code >>> 8, code & 0xff), reason]),
      ),
    ),
  });

const encodeSmall = (frame: { opcode: number; fin: boolean; rsv1: boolean; payload: Uint8Array }, masked: boolean) =>
  clientFrame({ ...frame, maskingKey: masked ? Uint8Array.of(1, 2, 3, 4) : null });

const bytesArb = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(frameishArb, fc.tuple(smallFrameArb, fc.boolean()).map(([f, m]) => encodeSmall(f, m)), fc.uint8Array({ maxLength: 20 })), { maxLength: 8 })
      .map(concat),
  },
  {
    weight: 2,
    // Small frames all masked or all unmasked: one side or the other gets past the masking rule.
    arbitrary: fc.tuple(fc.array(smallFrameArb, { maxLength: 6 }), fc.boolean()).map(([frames, m]) => concat(frames.map((f) => encodeSmall(f, m)))),
  },
  {
    weight: 2,
    // A valid stream with a few bytes flipped or cut.
    arbitrary: fc
      .tuple(streamArb, fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }), fc.nat())
      .map(([spec, masked, flips, cut]) => {
        const wire = encodeStream(spec, masked ? 'client' : 'server');
        for (const [at, x] of flips) if (wire.length > 0) wire[at % wire.length]! ^= x;
        return wire.subarray(0, wire.length - (cut % Math.max(1, Math.min(wire.length, 50))));
      }),
  },
);

const splitArb = fc.array(fc.nat(), { maxLength: 30 });

const closeCodeFor = (code: string) => PROTOCOL_ERRORS[code as keyof typeof PROTOCOL_ERRORS]?.closeCode;

function run(open: () => Connection, chunks: Uint8Array[], eof: boolean) {
  const conn = open();
  const events: ConnectionEvent[] = [];
  assert.doesNotThrow(() => {
    for (const chunk of chunks) {
      conn.receiveData(chunk);
      events.push(...conn.takeEvents());
    }
    if (eof) conn.receiveEof();
    events.push(...conn.takeEvents());
  });
  return { conn, events, output: concat(conn.takeOutput()) };
}

function checkOutcome(side: 'server' | 'client', options: { maxPayload?: number; skipUtf8Validation?: boolean }, outcome: ReturnType<typeof run>) {
  const { conn, events, output } = outcome;
  const errors = events.filter((e) => e.type === 'error');
  assert.ok(errors.length <= 1, 'more than one error');
  const closes = events.filter((e) => e.type === 'close');
  assert.ok(closes.length + errors.length <= 1, 'events after a close or an error');
  if (errors.length + closes.length === 1) assert.ok(['error', 'close'].includes(events.at(-1)!.type), 'events after the end');

  const frames = decodeFrames(output);
  for (const f of frames) assert.equal(f.masked, side === 'client', 'masking rule broken');
  const closeFrames = frames.filter((f) => f.opcode === Opcode.CLOSE);
  assert.ok(closeFrames.length <= 1, 'more than one close frame');
  if (closeFrames.length === 1) assert.equal(frames.at(-1)!.opcode, Opcode.CLOSE, 'a frame after the close frame');

  const error = errors[0];
  if (error) {
    const e = (error as { error: ProtocolError }).error;
    assert.ok(e instanceof ProtocolError);
    assert.ok(e.code in PROTOCOL_ERRORS, `undocumented code ${e.code}`);
    assert.notEqual(e.code, 'WS_ERR_INTERNAL', `internal error: ${e.message}`);
    assert.equal(e.closeCode, closeCodeFor(e.code));
    assert.equal(conn.error, e);
    assert.equal(conn.closeExpected(), true);
    assert.equal(closeFrames.length, 1);
    assert.equal(closeCodeOf(closeFrames[0]!), e.closeCode);
  }
  const close = closes[0] as { code: number } | undefined;
  if (close) {
    assert.equal(closeFrames.length, 1);
    assert.equal(closeCodeOf(closeFrames[0]!), close.code === 1005 ? null : close.code);
  }
  if (!error && !close) assert.equal(closeFrames.length, 0, 'a close frame without a reason');

  for (const e of events) {
    if (e.type !== 'message') continue;
    if (options.maxPayload) assert.ok(e.data.length <= options.maxPayload, 'message over maxPayload');
    if (!e.binary && !options.skipUtf8Validation) new TextDecoder('utf-8', { fatal: true }).decode(e.data);
  }
}

for (const side of ['server', 'client'] as const) {
  describe(`${side} Connection fed arbitrary bytes`, () => {
    for (const { name, options } of optionSets) {
      it(`never throws and fails only in documented ways, the same for every split (${name})`, () => {
        const open = () => (side === 'server' ? serverConnection(options) : clientConnection(options));
        assertProperty(
          fc.property(bytesArb, splitArb, fc.boolean(), (bytes, cuts, eof) => {
            const whole = run(open, [bytes.slice()], eof);
            checkOutcome(side, options, whole);
            const pieces = run(open, splitAt(bytes, cuts.map((c) => c % (bytes.length + 1))), eof);
            checkOutcome(side, options, pieces);
            assert.deepEqual(summarize(pieces.events), summarize(whole.events), 'events depend on the split');
            assert.deepEqual(pieces.output, whole.output, 'output depends on the split');
          }),
          runs(200, 0.5),
        );
      });
    }
  });
}
