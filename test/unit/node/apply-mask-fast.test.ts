import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyMaskFast, maskIntoFast, sharedReadArea } from '../../../src/node/bytes/apply-mask-fast.js';

function reference(data: Uint8Array, key: Uint8Array, phase: number): Uint8Array {
  return Uint8Array.from(data, (b, i) => b ^ key[(phase + i) & 3]!);
}

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('applyMaskFast', () => {
  it('matches a byte-wise reference for every phase, at lengths around its threshold and its 64 KiB blocks', () => {
    const key = Uint8Array.from([0x9e, 0x01, 0x77, 0xf0]);
    const lengths = [0, 1, 511, 512, 513, 527, 1000, 4096, 16384 + 3, 65535, 65536, 65537, 3 * 65536 + 21];
    for (const length of lengths) {
      for (let phase = 0; phase < 4; phase++) {
        for (const offset of [0, 1, 3]) {
          const backing = pattern(length + offset + 8, length + phase);
          const original = Buffer.from(backing);
          const view = backing.subarray(offset, offset + length);
          const expected = reference(view, key, phase);
          applyMaskFast(view, key, phase);
          assert.ok(Buffer.from(view).equals(Buffer.from(expected)), `length ${length} phase ${phase} offset ${offset}`);
          assert.ok(backing.subarray(0, offset).equals(original.subarray(0, offset)), 'bytes before the view changed');
          assert.ok(backing.subarray(offset + length).equals(original.subarray(offset + length)), 'bytes after the view changed');
        }
      }
    }
  });

  it('keeps no bytes between calls: a short call after a long one is unaffected', () => {
    const key = Uint8Array.from([1, 2, 3, 4]);
    applyMaskFast(pattern(70000, 7), key, 0);
    const small = pattern(600, 9);
    const expected = reference(small, key, 2);
    applyMaskFast(small, key, 2);
    assert.ok(small.equals(Buffer.from(expected)));
  });

  it('maskIntoFast writes the masked bytes at the target offset and leaves the source and the rest of the target as they were', () => {
    const key = Uint8Array.from([0x9e, 0x01, 0x77, 0xf0]);
    for (const length of [0, 5, 511, 512, 4096 + 1, 16384, 65536 + 7]) {
      for (let phase = 0; phase < 4; phase++) {
        const source = pattern(length + 1, length + phase).subarray(1);
        const before = Buffer.from(source);
        const target = pattern(length + 10, 3);
        const untouched = Buffer.from(target);
        maskIntoFast(source, target, 6, key, phase);
        const where = `length ${length} phase ${phase}`;
        assert.ok(target.subarray(6, 6 + length).equals(Buffer.from(reference(source, key, phase))), where);
        assert.ok(source.equals(before), `${where}: the source changed`);
        assert.ok(target.subarray(0, 6).equals(untouched.subarray(0, 6)), `${where}: bytes before the offset changed`);
        assert.ok(target.subarray(6 + length).equals(untouched.subarray(6 + length)), `${where}: bytes after the copy changed`);
      }
    }
  });

  it('masks bytes of the read area where they are, to the byte, at any offset and phase', () => {
    const area = sharedReadArea();
    assert.ok(area !== null, 'WebAssembly SIMD is available');
    assert.equal(area.length, 65536);
    const key = Uint8Array.from([0x3c, 0xa5, 0x0f, 0xd2]);
    for (const length of [0, 1, 15, 16, 17, 63, 64, 65, 127, 1000, 16384 + 5, 65536 - 40]) {
      for (let phase = 0; phase < 4; phase++) {
        for (const offset of [0, 1, 7, 33]) {
          if (offset + length > area.length) continue;
          area.set(pattern(area.length, length * 4 + phase));
          const before = Buffer.from(area);
          const view = area.subarray(offset, offset + length);
          const expected = reference(view, key, phase);
          applyMaskFast(view, key, phase);
          const where = `length ${length} phase ${phase} offset ${offset}`;
          assert.ok(Buffer.from(view).equals(Buffer.from(expected)), where);
          assert.ok(area.subarray(0, offset).equals(before.subarray(0, offset)), `${where}: bytes before changed`);
          assert.ok(area.subarray(offset + length).equals(before.subarray(offset + length)), `${where}: bytes after changed`);
        }
      }
    }
  });
});
