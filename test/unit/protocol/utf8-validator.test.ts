import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Utf8Validator, isValidUtf8 } from '../../../src/protocol/index.js';
import { hex, utf8 } from '../../support/frames.js';

const valid = [
  ['empty', ''],
  ['ASCII', '61 62 63 7f'],
  ['U+0080 and U+07FF', 'c2 80 df bf'],
  ['U+0800, U+D7FF, U+E000, U+FFFF', 'e0 a0 80 ed 9f bf ee 80 80 ef bf bf'],
  ['U+10000 and U+10FFFF', 'f0 90 80 80 f4 8f bf bf'],
  ['U+FFFE and U+FEFF (noncharacters are valid)', 'ef bf be ef bb bf'],
  ['mixed text', Buffer.from('κόσμε €𝄞 ok').toString('hex')],
] as const;

const invalid = [
  ['overlong NUL (C0 80)', 'c0 80', 0],
  ['overlong / (C0 AF)', 'c0 af', 0],
  ['overlong (C1 BF)', 'c1 bf', 0],
  ['overlong three-byte (E0 80 80)', 'e0 80 80', 1],
  ['overlong three-byte (E0 9F BF)', 'e0 9f bf', 1],
  ['overlong four-byte (F0 80 80 80)', 'f0 80 80 80', 1],
  ['overlong four-byte (F0 8F BF BF)', 'f0 8f bf bf', 1],
  ['high surrogate (ED A0 80)', 'ed a0 80', 1],
  ['low surrogate (ED BF BF)', 'ed bf bf', 1],
  ['beyond U+10FFFF (F4 90 80 80)', 'f4 90 80 80', 1],
  ['F5 lead byte', 'f5 80 80 80', 0],
  ['FE', 'fe', 0],
  ['FF', 'ff', 0],
  ['lone continuation', '61 80', 1],
  ['continuation after a complete character', 'c3 a9 a9', 2],
  ['lead byte followed by ASCII', 'e2 41', 1],
  ['two-byte lead followed by a lead', 'c3 c3 a9', 1],
] as const;

describe('isValidUtf8', () => {
  for (const [name, bytes] of valid) {
    it(`accepts ${name}`, () => assert.equal(isValidUtf8(hex(bytes)), true));
  }
  for (const [name, bytes] of invalid) {
    it(`rejects ${name}`, () => assert.equal(isValidUtf8(hex(bytes)), false));
  }
  for (const bytes of ['c3', 'e2 82', 'f0 9f 98', 'f4 8f bf']) {
    it(`rejects a sequence cut short at the end (${bytes})`, () => assert.equal(isValidUtf8(hex(bytes)), false));
  }

  it('agrees with a fatal TextDecoder on random bytes', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const accepts = (b: Uint8Array) => {
      try {
        decoder.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 12 }),
      fc.array(fc.constantFrom(0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4), { maxLength: 8 }).map((a) => Uint8Array.from(a)),
      fc.string({ unit: 'grapheme' }).map(utf8),
    );
    fc.assert(fc.property(bytes, (b) => isValidUtf8(b) === accepts(b)), { seed: 6455, numRuns: 3000 });
  });
});

describe('Utf8Validator', () => {
  for (const [name, bytes, badIndex] of invalid) {
    it(`fails on the exact byte that breaks ${name}, fed one byte at a time`, () => {
      const v = new Utf8Validator();
      const data = hex(bytes);
      let failedAt = -1;
      for (let i = 0; i < data.length && failedAt < 0; i++) if (!v.update(data, i, i + 1)) failedAt = i;
      assert.equal(failedAt, badIndex);
    });
  }

  it('accepts every valid sample fed one byte at a time, complete at the end', () => {
    for (const [, bytes] of valid) {
      const v = new Utf8Validator();
      const data = hex(bytes);
      for (let i = 0; i < data.length; i++) assert.equal(v.update(data.subarray(i, i + 1)), true);
      assert.equal(v.isComplete(), true);
    }
  });

  it('is incomplete in the middle of a character and complete after it', () => {
    const v = new Utf8Validator();
    assert.equal(v.update(hex('f0 9f')), true);
    assert.equal(v.isComplete(), false);
    assert.equal(v.update(hex('98 80')), true);
    assert.equal(v.isComplete(), true);
  });

  it('keeps the narrowed range of E0/ED/F0/F4 across pieces', () => {
    for (const [lead, bad] of [
      ['e0', '80'],
      ['ed', 'a0'],
      ['f0', '8f'],
      ['f4', '90'],
    ]) {
      const v = new Utf8Validator();
      assert.equal(v.update(hex(lead!)), true);
      assert.equal(v.update(hex(bad!)), false, `${lead} then ${bad}`);
    }
  });

  it('checks only the given range', () => {
    const v = new Utf8Validator();
    assert.equal(v.update(hex('ff 61 62 ff'), 1, 3), true);
    assert.equal(v.isComplete(), true);
  });

  it('starts afresh after reset and after a failure', () => {
    const v = new Utf8Validator();
    v.update(hex('e2 82'));
    v.reset();
    assert.equal(v.isComplete(), true);
    assert.equal(v.update(hex('61')), true);
    assert.equal(v.update(hex('ff')), false);
    assert.equal(v.update(hex('c3 a9')), true);
    assert.equal(v.isComplete(), true);
  });
});
