import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidUtf8Message } from '../../../src/node/bytes/is-valid-utf8-message.js';

describe('isValidUtf8Message', () => {
  it('accepts short ASCII, short multi-byte text, and long text', () => {
    assert.equal(isValidUtf8Message(Buffer.from('hello')), true);
    assert.equal(isValidUtf8Message(new Uint8Array(0)), true);
    assert.equal(isValidUtf8Message(Buffer.from('grüße, κόσμε, 🙂')), true);
    assert.equal(isValidUtf8Message(Buffer.from('a'.repeat(63) + 'é')), true);
    assert.equal(isValidUtf8Message(Buffer.from('ab'.repeat(500))), true);
  });

  it('rejects invalid bytes in short and long messages, at the first and the last position', () => {
    const cases = [
      [0xff],
      [0x61, 0x62, 0xc0, 0xaf],
      [...Buffer.from('x'.repeat(63)), 0x80],
      [0xed, 0xa0, 0x80, ...Buffer.from('x'.repeat(100))],
      [...Buffer.from('x'.repeat(100)), 0xf4, 0x90, 0x80, 0x80],
      [...Buffer.from('x'.repeat(10)), 0xe2, 0x82],
    ];
    for (const bytes of cases) assert.equal(isValidUtf8Message(Uint8Array.from(bytes)), false, Buffer.from(bytes).toString('hex'));
  });
});
