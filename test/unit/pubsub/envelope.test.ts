import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEnvelope, encodeEnvelope, newOriginId, sameOrigin } from '../../../src/pubsub/envelope.js';

describe('envelope', () => {
  it('encodes version 1, the flags, the origin id and the payload, as hex on the wire', () => {
    const origin = Uint8Array.from({ length: 16 }, (_, i) => i);
    const bytes = encodeEnvelope(origin, true, false, Uint8Array.from([0xaa, 0xbb]));
    assert.equal(Buffer.from(bytes).toString('hex'), '0101' + '000102030405060708090a0b0c0d0e0f' + 'aabb');
    const decoded = decodeEnvelope(bytes)!;
    assert.deepEqual([decoded.binary, decoded.compress], [true, false]);
    assert.ok(sameOrigin(decoded.origin, origin));
    assert.deepEqual([...decoded.payload], [0xaa, 0xbb]);
    assert.equal(encodeEnvelope(origin, false, true, new Uint8Array(0))[1], 0x02);
  });

  it('ignores bytes that are not an envelope: too short, or another version', () => {
    assert.equal(decodeEnvelope(new Uint8Array(17)), null);
    const other = encodeEnvelope(newOriginId(), false, false, new Uint8Array(1));
    other[0] = 2;
    assert.equal(decodeEnvelope(other), null);
  });

  it('draws distinct origin ids', () => {
    assert.equal(sameOrigin(newOriginId(), newOriginId()), false);
  });
});
