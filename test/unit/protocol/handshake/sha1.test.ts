/** SHA-1 (FIPS 180-4) as the accept value uses it. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { sha1 } from '../../../../src/protocol/index.js';
import { toHex, utf8 } from '../../../support/frames.js';

const digest = (bytes: Uint8Array) => toHex(sha1(bytes)).replace(/ /g, '');

describe('sha1', () => {
  it('gives the FIPS 180 test vectors', () => {
    assert.equal(digest(utf8('')), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
    assert.equal(digest(utf8('abc')), 'a9993e364706816aba3e25717850c26c9cd0d89d');
    assert.equal(digest(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')), '84983e441c3bd26ebaae4aa1f95129e5e54670f1');
    assert.equal(digest(new Uint8Array(1_000_000).fill(0x61)), '34aa973cd4c4daa4f61eeb2bdbad27316534016f');
  });

  it('matches node:crypto for every length around the padding boundaries', () => {
    for (let length = 0; length <= 200; length++) {
      const data = new Uint8Array(length).map((_, i) => (i * 151 + length) & 0xff);
      assert.equal(digest(data), createHash('sha1').update(data).digest('hex'), `length ${length}`);
    }
  });

  it('returns 20 bytes', () => assert.equal(sha1(utf8('x')).length, 20));
});
