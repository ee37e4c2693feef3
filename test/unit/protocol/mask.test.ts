import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyMask, maskInto } from '../../../src/protocol/index.js';
import { MASK, hex, toHex, utf8 } from '../../support/frames.js';

function reference(data: Uint8Array, key: Uint8Array, phase = 0): Uint8Array {
  return data.map((b, i) => b ^ key[(phase + i) & 3]!);
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('applyMask', () => {
  it('masks "Hello" with the key of RFC 6455 §5.7', () => {
    const data = utf8('Hello');
    applyMask(data, MASK);
    assert.equal(toHex(data), '7f 9f 4d 51 58');
  });

  it('is its own inverse', () => {
    const original = pattern(1000, 7);
    const data = original.slice();
    applyMask(data, hex('de ad be ef'));
    assert.notDeepEqual(data, original);
    applyMask(data, hex('de ad be ef'));
    assert.deepEqual(data, original);
  });

  it('gives the same result piece by piece, with the phase, as in one go', () => {
    const key = hex('a1 b2 c3 d4');
    const original = pattern(257, 3);
    const whole = original.slice();
    applyMask(whole, key);
    for (const cuts of [[1], [3, 4, 5], [17, 100, 101, 250], [2, 6, 10, 14, 18]]) {
      const data = original.slice();
      let start = 0;
      for (const end of [...cuts, data.length]) {
        applyMask(data.subarray(start, end), key, start);
        start = end;
      }
      assert.deepEqual(data, whole, `cuts ${cuts.join(',')}`);
    }
  });

  it('matches a byte-wise reference for every length 0-70 at every alignment and phase', () => {
    const key = hex('13 57 9b df');
    const backing = pattern(80, 11);
    for (let offset = 0; offset < 4; offset++) {
      for (let length = 0; length <= 70; length++) {
        for (let phase = 0; phase < 4; phase++) {
          const copy = backing.slice();
          const view = copy.subarray(offset, offset + length);
          const expected = reference(view, key, phase);
          applyMask(view, key, phase);
          assert.deepEqual(view, expected);
          assert.deepEqual(copy.subarray(0, offset), backing.subarray(0, offset), 'touched bytes before the view');
          assert.deepEqual(copy.subarray(offset + length), backing.subarray(offset + length), 'touched bytes after the view');
        }
      }
    }
  });

  it('matches the reference around the word-loop threshold and on large data, in reused and fresh buffers', () => {
    const key = hex('a5 01 ff 3c');
    const lengths = [370, 383, 384, 385, 386, 387, 400, 1021, 4096, 16387];
    // Two backing buffers in turn, so cached 32-bit views must follow the buffer they belong to.
    const backings = [pattern(16400, 5), pattern(16400, 9)];
    let round = 0;
    for (const length of lengths) {
      for (let offset = 0; offset < 4; offset++) {
        for (const phase of [0, 1, 3]) {
          const original = backings[round++ % 2]!;
          const copy = Buffer.from(original);
          const view = copy.subarray(offset, offset + length);
          const expected = reference(new Uint8Array(view), key, phase);
          applyMask(view, key, phase);
          assert.deepEqual(new Uint8Array(view), expected, `length ${length} offset ${offset} phase ${phase}`);
          assert.deepEqual(new Uint8Array(copy.subarray(offset + length)), original.subarray(offset + length));
        }
      }
    }
  });
});

describe('maskInto', () => {
  it('writes the masked bytes at the target offset and leaves the source alone', () => {
    const key = hex('01 02 03 04');
    for (let srcOffset = 0; srcOffset < 4; srcOffset++) {
      for (let targetOffset = 0; targetOffset < 6; targetOffset++) {
        for (const length of [0, 1, 15, 16, 17, 33, 64, 99]) {
          const source = pattern(length + 8, length + srcOffset).subarray(srcOffset, srcOffset + length);
          const before = source.slice();
          const target = new Uint8Array(length + 12).fill(0xaa);
          maskInto(source, target, targetOffset, key, 2);
          assert.deepEqual(source, before);
          assert.deepEqual(target.subarray(targetOffset, targetOffset + length), reference(before, key, 2));
          assert.ok(target.subarray(0, targetOffset).every((b) => b === 0xaa));
          assert.ok(target.subarray(targetOffset + length).every((b) => b === 0xaa));
        }
      }
    }
  });

  it('masks in place when target and source are the same bytes', () => {
    const data = pattern(40, 5);
    const expected = reference(data, MASK);
    maskInto(data, data, 0, MASK);
    assert.deepEqual(data, expected);
  });
});
