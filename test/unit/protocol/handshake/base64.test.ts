/** Base64 encoding, RFC 4648 §4. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base64Encode } from '../../../../src/protocol/index.js';
import { utf8 } from '../../../support/frames.js';

describe('base64Encode', () => {
  it('matches Buffer base64 for lengths 0-40', () => {
    for (let length = 0; length <= 40; length++) {
      const data = new Uint8Array(length).map((_, i) => (i * 97 + 255 - length) & 0xff);
      assert.equal(base64Encode(data), Buffer.from(data).toString('base64'));
    }
  });

  it('gives the RFC 4648 §10 test vectors', () => {
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [input, output] of vectors) assert.equal(base64Encode(utf8(input)), output);
  });
});
