import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeFrame, frameHeaderSize, writeFrameHeader } from '../../../src/protocol/index.js';
import { MASK, decodeFrames, hex, toHex, utf8 } from '../../support/frames.js';

describe('frameHeaderSize', () => {
  it('picks the 7-bit, 16-bit and 64-bit length forms at their boundaries', () => {
    assert.deepEqual(
      [0, 125, 126, 65535, 65536, 2 ** 32, 2 ** 40].map((n) => frameHeaderSize(n, false)),
      [2, 2, 4, 4, 10, 10, 10],
    );
  });

  it('adds four bytes for a masking key', () => {
    assert.deepEqual([0, 126, 65536].map((n) => frameHeaderSize(n, true)), [6, 8, 14]);
  });
});

describe('writeFrameHeader', () => {
  function header(fin: boolean, rsv1: boolean, opcode: number, length: number, key: Uint8Array | null): string {
    const out = new Uint8Array(20).fill(0xee);
    const size = writeFrameHeader(out, 3, fin, rsv1, opcode, length, key);
    assert.equal(size, frameHeaderSize(length, key !== null));
    assert.equal(out[2], 0xee, 'wrote before the offset');
    assert.equal(out[3 + size], 0xee, 'wrote past the header');
    return toHex(out.subarray(3, 3 + size));
  }

  it('writes a 7-bit length', () => {
    assert.equal(header(true, false, 0x1, 5, null), '81 05');
    assert.equal(header(true, false, 0x2, 125, null), '82 7d');
  });

  it('writes a 16-bit length in network byte order', () => {
    assert.equal(header(true, false, 0x2, 126, null), '82 7e 00 7e');
    assert.equal(header(true, false, 0x2, 256, null), '82 7e 01 00');
    assert.equal(header(true, false, 0x2, 65535, null), '82 7e ff ff');
  });

  it('writes a 64-bit length in network byte order, above 2^32 too', () => {
    assert.equal(header(true, false, 0x2, 65536, null), '82 7f 00 00 00 00 00 01 00 00');
    assert.equal(header(true, false, 0x2, 2 ** 32 + 5, null), '82 7f 00 00 00 01 00 00 00 05');
    assert.equal(header(true, false, 0x2, 2 ** 53 - 1, null), '82 7f 00 1f ff ff ff ff ff ff');
  });

  it('sets FIN, RSV1, the mask bit and the masking key', () => {
    assert.equal(header(false, false, 0x0, 3, null), '00 03');
    assert.equal(header(true, true, 0x1, 3, null), 'c1 03');
    assert.equal(header(true, false, 0x9, 0, MASK), '89 80 37 fa 21 3d');
    assert.equal(header(false, true, 0x2, 300, MASK), '42 fe 01 2c 37 fa 21 3d');
  });
});

describe('encodeFrame', () => {
  it('writes the single-frame unmasked text message of RFC 6455 §5.7', () => {
    assert.equal(toHex(encodeFrame({ opcode: 0x1, payload: utf8('Hello') })), '81 05 48 65 6c 6c 6f');
  });

  it('writes the single-frame masked text message of RFC 6455 §5.7', () => {
    assert.equal(toHex(encodeFrame({ opcode: 0x1, payload: utf8('Hello'), maskingKey: MASK })), '81 85 37 fa 21 3d 7f 9f 4d 51 58');
  });

  it('writes the fragmented message of RFC 6455 §5.7', () => {
    assert.equal(toHex(encodeFrame({ opcode: 0x1, fin: false, payload: utf8('Hel') })), '01 03 48 65 6c');
    assert.equal(toHex(encodeFrame({ opcode: 0x0, payload: utf8('lo') })), '80 02 6c 6f');
  });

  it('writes the ping and masked pong of RFC 6455 §5.7', () => {
    assert.equal(toHex(encodeFrame({ opcode: 0x9, payload: utf8('Hello') })), '89 05 48 65 6c 6c 6f');
    assert.equal(toHex(encodeFrame({ opcode: 0xa, payload: utf8('Hello'), maskingKey: MASK })), '8a 85 37 fa 21 3d 7f 9f 4d 51 58');
  });

  it('writes the 256-byte and 64 KiB binary frames of RFC 6455 §5.7', () => {
    const small = encodeFrame({ opcode: 0x2, payload: new Uint8Array(256) });
    assert.equal(toHex(small.subarray(0, 4)), '82 7e 01 00');
    assert.equal(small.length, 4 + 256);
    const big = encodeFrame({ opcode: 0x2, payload: new Uint8Array(65536) });
    assert.equal(toHex(big.subarray(0, 10)), '82 7f 00 00 00 00 00 01 00 00');
    assert.equal(big.length, 10 + 65536);
  });

  it('sets RSV2 and RSV3 when asked (for tests of peers that must reject them)', () => {
    assert.equal(toHex(encodeFrame({ opcode: 0x1, rsv2: true })), 'a1 00');
    assert.equal(toHex(encodeFrame({ opcode: 0x1, rsv3: true })), '91 00');
    assert.equal(toHex(encodeFrame({ opcode: 0x1, rsv1: true, rsv2: true, rsv3: true, fin: false })), '71 00');
  });

  it('does not modify the payload it masks', () => {
    const payload = utf8('unchanged payload, longer than sixteen bytes');
    const copy = payload.slice();
    encodeFrame({ opcode: 0x2, payload, maskingKey: MASK });
    assert.deepEqual(payload, copy);
  });

  it('round-trips through a decoder for every length form, masked and not', () => {
    for (const length of [0, 1, 125, 126, 127, 1000, 65535, 65536, 70001]) {
      for (const key of [null, hex('01 02 03 04')]) {
        const payload = new Uint8Array(length).map((_, i) => (i * 13 + 5) & 0xff);
        const [frame, ...rest] = decodeFrames(encodeFrame({ opcode: 0x2, payload, maskingKey: key }));
        assert.equal(rest.length, 0);
        assert.equal(frame!.masked, key !== null);
        assert.deepEqual(frame!.payload, payload);
        assert.equal(frame!.lengthBytes, length < 126 ? 0 : length < 65536 ? 2 : 8);
      }
    }
  });
});
