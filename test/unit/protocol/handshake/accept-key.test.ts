/** The Sec-WebSocket-Accept value, RFC 6455 §4.2.2 item 5.4. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptValue } from '../../../../src/protocol/index.js';
import { asciiBytes } from '../../../../src/protocol/handshake/accept-key.js';
import { toHex } from '../../../support/frames.js';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

describe('acceptValue', () => {
  it('computes the accept value of the RFC 6455 §1.3 example key', () => {
    assert.equal(acceptValue(RFC_KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('matches the accept value computed with node:crypto', async () => {
    const { createHash } = await import('node:crypto');
    for (const key of ['AAAAAAAAAAAAAAAAAAAAAA==', '/////////////////////w==', 'x3JJHMbDL1EzLkh9GBhXDw==']) {
      const expected = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      assert.equal(acceptValue(key), expected);
    }
  });
});

describe('asciiBytes', () => {
  it('turns each character into its low byte', () => {
    assert.equal(toHex(asciiBytes('A z~')), '41 20 7a 7e');
  });
});
