/**
 * Property (a): a valid frame sequence reads the same however the transport splits it. The
 * events for the whole input, for random splits and for one byte at a time all equal the model's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { concat, splitAt } from '../support/frames.js';
import { bytewise, clientConnection, feed, serverConnection, summarize } from '../unit/protocol/wire.js';
import { assertProperty, runs } from './fuzz-options.js';
import { encodeStream, expectedEvents, splitArb, streamArb } from './stream-model.js';

const BYTEWISE_LIMIT = 20000;

function chunksOf(bytes: Uint8Array, split: { bytewise: boolean; cuts: number[] }): Uint8Array[] {
  if (split.bytewise && bytes.length <= BYTEWISE_LIMIT) return bytewise(bytes);
  return splitAt(bytes, split.cuts.map((c) => (bytes.length > 1 ? 1 + (c % (bytes.length - 1)) : 0)));
}

for (const receiver of ['server', 'client'] as const) {
  const sender = receiver === 'server' ? 'client' : 'server';
  const open = () => (receiver === 'server' ? serverConnection({ maxPendingPongs: 1000 }) : clientConnection({ maxPendingPongs: 1000 }));

  describe(`${receiver} receiving frames a ${sender} wrote`, () => {
    it('reports the modelled events whether the input arrives whole, split at random points or one byte at a time', () => {
      assertProperty(
        fc.property(streamArb, splitArb, fc.integer({ min: 1, max: 1000 }), (spec, split, keySeed) => {
          const wire = encodeStream(spec, sender, keySeed);
          const expected = expectedEvents(spec);

          const whole = open();
          const wholeEvents = summarize(feed(whole, [wire]));
          assert.deepEqual(wholeEvents, expected);
          const wholeOutput = concat(whole.takeOutput());

          const pieces = open();
          const pieceEvents = summarize(feed(pieces, chunksOf(wire, split)));
          assert.deepEqual(pieceEvents, expected);
          assert.deepEqual(concat(pieces.takeOutput()), wholeOutput, 'output differs with the split');
          assert.equal(pieces.state, whole.state);
        }),
        runs(150),
      );
    });

    it('reads every stream one byte at a time exactly as whole', () => {
      const small = streamArb.filter((spec) => spec.messages.every((m) => m.payload.length < 2000));
      assertProperty(
        fc.property(small, (spec) => {
          const wire = encodeStream(spec, sender);
          const a = open();
          const b = open();
          assert.deepEqual(summarize(feed(b, bytewise(wire))), summarize(feed(a, [wire])));
          assert.deepEqual(concat(b.takeOutput()), concat(a.takeOutput()));
        }),
        runs(60),
      );
    });
  });
}
