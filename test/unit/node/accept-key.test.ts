import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptKey } from '../../../src/node/bytes/accept-key.js';
import { acceptValue } from '../../../src/protocol/index.js';

describe('acceptKey', () => {
  it('computes the accept value of RFC 6455 §1.3 and agrees with the core for other keys', () => {
    assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    for (const key of ['AQIDBAUGBwgJCgsMDQ4PEA==', 'x3JJHMbDL1EzLkh9GBhXDw==', '////////////////////w==']) {
      assert.equal(acceptKey(key), acceptValue(key));
    }
  });
});
