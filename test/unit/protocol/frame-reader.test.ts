/**
 * FrameReader: the header state machine of RFC 6455 §5.2, its length and masking rules, the
 * order of fragments (§5.4) and the shape of control frames (§5.5). Its own contract is checked
 * directly; the rules are checked through Connection, as a peer's bytes meet them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameReader, ReadStep } from '../../../src/protocol/frame-reader.js';
import { applyMask, maskInto, PROTOCOL_ERRORS } from '../../../src/protocol/index.js';
import { clientFrame, concat, hex, serverFrame, splitAt, text, toHex, utf8 } from '../../support/frames.js';
import {
  BINARY, CLOSE, CONT, PING, PONG, TEXT, assertFailed, bytewise, clientConnection, clientGets, errorsIn, feed,
  reversingCodec, serverConnection, serverGets, summarize, takeFrames,
} from './wire.js';

describe('FrameReader: reading frames', () => {
  it('decodes the masked "Hello" of RFC 6455 §5.7 on the server', () => {
    const { events } = serverGets(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));
    assert.deepEqual(summarize(events), [{ type: 'message', binary: false, hex: toHex(utf8('Hello')) }]);
  });

  it('decodes the unmasked "Hello" of RFC 6455 §5.7 on the client', () => {
    const { events } = clientGets(hex('81 05 48 65 6c 6c 6f'));
    assert.equal(events.length, 1);
    assert.equal(text((events[0] as { data: Uint8Array }).data), 'Hello');
  });

  it('decodes the fragmented "Hello" of RFC 6455 §5.7', () => {
    const { events } = clientGets(hex('01 03 48 65 6c 80 02 6c 6f'));
    assert.deepEqual(summarize(events), [{ type: 'message', binary: false, hex: toHex(utf8('Hello')) }]);
  });

  it('decodes the same message whether the header arrives whole or one byte at a time', () => {
    const wire = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    const conn = serverConnection();
    assert.deepEqual(summarize(feed(conn, bytewise(wire))), summarize(serverGets(wire).events));
  });

  for (const [name, length, header] of [
    ['a 125-byte payload with a 7-bit length', 125, '82 7d'],
    ['a 126-byte payload with a 16-bit length', 126, '82 7e 00 7e'],
    ['a 65535-byte payload with a 16-bit length', 65535, '82 7e ff ff'],
    ['a 65536-byte payload with a 64-bit length', 65536, '82 7f 00 00 00 00 00 01 00 00'],
  ] as const) {
    it(`reads ${name}`, () => {
      const payload = new Uint8Array(length).map((_, i) => (i * 7) & 0xff);
      const wire = concat([hex(header), payload]);
      const { events } = clientGets(wire);
      assert.equal(events.length, 1);
      const e = events[0]!;
      assert.equal(e.type, 'message');
      assert.deepEqual((e as { data: Uint8Array }).data, payload);
    });
  }

  it('reads a 64-bit length masked frame split inside its length field', () => {
    const payload = new Uint8Array(70000).fill(0x61);
    const wire = clientFrame({ opcode: BINARY, payload });
    assert.equal(toHex(wire.subarray(0, 10)), '82 ff 00 00 00 00 00 01 11 70');
    const conn = serverConnection();
    const events = feed(conn, [wire.subarray(0, 5), wire.subarray(5, 13), wire.subarray(13)]);
    assert.equal(events.length, 1);
    assert.deepEqual((events[0] as { data: Uint8Array }).data, payload);
  });

  it('reads empty text and binary messages', () => {
    const { events } = serverGets(concat([clientFrame({ opcode: TEXT }), clientFrame({ opcode: BINARY })]));
    assert.deepEqual(summarize(events), [
      { type: 'message', binary: false, hex: '' },
      { type: 'message', binary: true, hex: '' },
    ]);
  });
});

describe('FrameReader: minimal length encoding (RFC 6455 §5.2)', () => {
  for (const [name, header] of [
    ['125 in a 16-bit length', '82 7e 00 7d'],
    ['0 in a 16-bit length', '82 7e 00 00'],
    ['65535 in a 64-bit length', '82 7f 00 00 00 00 00 00 ff ff'],
    ['126 in a 64-bit length', '82 7f 00 00 00 00 00 00 00 7e'],
    ['0 in a 64-bit length', '82 7f 00 00 00 00 00 00 00 00'],
  ] as const) {
    it(`fails with 1002 when ${name} is not minimal`, () => {
      const { conn, events } = clientGets(hex(header));
      assertFailed(conn, events, 'WS_ERR_NON_MINIMAL_LENGTH', 1002);
    });
  }

  it('fails with 1002 when a 64-bit length has its most significant bit set', () => {
    const { conn, events } = clientGets(hex('82 7f 80 00 00 00 00 00 00 00'));
    assertFailed(conn, events, 'WS_ERR_INVALID_PAYLOAD_LENGTH', 1002);
  });

  it('fails with 1002 on the top bit even when the rest of the length is 0xff', () => {
    const { conn, events } = serverGets(hex('82 ff ff ff ff ff ff ff ff ff 37 fa 21 3d'));
    assertFailed(conn, events, 'WS_ERR_INVALID_PAYLOAD_LENGTH', 1002);
  });

  for (const [name, header] of [
    ['2^40', '82 7f 00 00 01 00 00 00 00 00'],
    ['2^53 - 1', '82 7f 00 1f ff ff ff ff ff ff'],
    ['2^63 - 1', '82 7f 7f ff ff ff ff ff ff ff'],
  ] as const) {
    it(`fails with 1009 when a frame declares ${name} bytes, from the header alone`, () => {
      const { conn, events } = clientGets(hex(header));
      assertFailed(conn, events, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009);
    });

    it(`fails with 1009 when a frame declares ${name} bytes even with maxPayload 0 (no limit)`, () => {
      const conn = clientConnection({ maxPayload: 0 });
      const events = feed(conn, [hex(header), hex('00 01 02')]);
      assertFailed(conn, events, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009);
    });
  }
});

describe('FrameReader: masking (RFC 6455 §5.1, §5.3)', () => {
  it('fails with 1002 when a server receives an unmasked frame', () => {
    const { conn, events } = serverGets(hex('81 05 48 65 6c 6c 6f'));
    assertFailed(conn, events, 'WS_ERR_EXPECTED_MASK', 1002);
  });

  it('fails with 1002 when a server receives an unmasked control frame', () => {
    const { conn, events } = serverGets(hex('89 00'));
    assertFailed(conn, events, 'WS_ERR_EXPECTED_MASK', 1002);
  });

  it('fails with 1002 when a client receives a masked frame', () => {
    const { conn, events } = clientGets(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));
    assertFailed(conn, events, 'WS_ERR_UNEXPECTED_MASK', 1002);
  });

  it('unmasks a payload whose masking key and payload arrive in separate chunks', () => {
    const conn = serverConnection();
    const events = feed(conn, [hex('81 85 37'), hex('fa 21'), hex('3d 7f 9f'), hex('4d'), hex('51 58')]);
    assert.deepEqual(summarize(events), [{ type: 'message', binary: false, hex: toHex(utf8('Hello')) }]);
  });
});

describe('FrameReader: opcodes and reserved bits (RFC 6455 §5.2, RFC 7692 §6)', () => {
  for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    it(`fails with 1002 on reserved opcode 0x${opcode.toString(16)} (server and client)`, () => {
      const s = serverGets(clientFrame({ opcode }));
      assertFailed(s.conn, s.events, 'WS_ERR_INVALID_OPCODE', 1002);
      const c = clientGets(serverFrame({ opcode, payload: utf8('x') }));
      assertFailed(c.conn, c.events, 'WS_ERR_INVALID_OPCODE', 1002);
    });
  }

  it('fails with 1002 on a reserved opcode in the middle of a fragmented message', () => {
    const wire = concat([clientFrame({ opcode: TEXT, fin: false, payload: utf8('a') }), clientFrame({ opcode: 0x3 })]);
    const { conn, events } = serverGets(wire);
    assertFailed(conn, events, 'WS_ERR_INVALID_OPCODE', 1002);
  });

  for (const [bit, code] of [
    ['rsv1', 'WS_ERR_UNEXPECTED_RSV_1'],
    ['rsv2', 'WS_ERR_UNEXPECTED_RSV_2'],
    ['rsv3', 'WS_ERR_UNEXPECTED_RSV_3'],
  ] as const) {
    it(`fails with 1002 when ${bit.toUpperCase()} is set and no extension was negotiated`, () => {
      for (const opcode of [TEXT, BINARY, PING]) {
        const s = serverGets(clientFrame({ opcode, [bit]: true, payload: utf8('x') }));
        assertFailed(s.conn, s.events, code, 1002);
        const c = clientGets(serverFrame({ opcode, [bit]: true, payload: utf8('x') }));
        assertFailed(c.conn, c.events, code, 1002);
      }
    });
  }

  it('fails with 1002 on RSV2 or RSV3 even when a codec was negotiated', () => {
    for (const bit of ['rsv2', 'rsv3'] as const) {
      const { conn, events } = serverGets(clientFrame({ opcode: TEXT, [bit]: true }), { codec: reversingCodec() });
      assertFailed(conn, events, bit === 'rsv2' ? 'WS_ERR_UNEXPECTED_RSV_2' : 'WS_ERR_UNEXPECTED_RSV_3', 1002);
    }
  });

  it('fails with 1002 on RSV1 on a continuation frame even when a codec was negotiated', () => {
    const wire = concat([
      clientFrame({ opcode: TEXT, fin: false, payload: utf8('a') }),
      clientFrame({ opcode: CONT, rsv1: true, payload: utf8('b') }),
    ]);
    const { conn, events } = serverGets(wire, { codec: reversingCodec() });
    assertFailed(conn, events, 'WS_ERR_UNEXPECTED_RSV_1', 1002);
  });

  it('fails with 1002 on RSV1 on a control frame even when a codec was negotiated', () => {
    const { conn, events } = serverGets(clientFrame({ opcode: PING, rsv1: true }), { codec: reversingCodec() });
    assertFailed(conn, events, 'WS_ERR_UNEXPECTED_RSV_1', 1002);
  });
});

describe('FrameReader: fragment order and control frames (RFC 6455 §5.4, §5.5)', () => {
  it('accepts control frames of exactly 125 bytes', () => {
    const payload = new Uint8Array(125).fill(0x2a);
    const { conn, events } = serverGets(clientFrame({ opcode: PING, payload }));
    assert.deepEqual(summarize(events), [{ type: 'ping', hex: toHex(payload) }]);
    assert.deepEqual(takeFrames(conn)[0]!.payload, payload);
  });

  for (const [name, opcode] of [
    ['ping', PING],
    ['pong', PONG],
    ['close', CLOSE],
  ] as const) {
    it(`fails with 1002 when a ${name} frame is longer than 125 bytes`, () => {
      const s = serverGets(clientFrame({ opcode, payload: new Uint8Array(126) }));
      assertFailed(s.conn, s.events, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002);
      const c = clientGets(serverFrame({ opcode, payload: new Uint8Array(65536) }).subarray(0, 20));
      assertFailed(c.conn, c.events, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002);
    });

    it(`fails with 1002 when a ${name} frame is fragmented`, () => {
      const s = serverGets(clientFrame({ opcode, fin: false }));
      assertFailed(s.conn, s.events, 'WS_ERR_EXPECTED_FIN', 1002);
      const c = clientGets(hex(`${(opcode).toString(16).padStart(2, '0')} 00`));
      assertFailed(c.conn, c.events, 'WS_ERR_EXPECTED_FIN', 1002);
    });
  }

  it('fails with 1002 on a continuation frame with no message to continue', () => {
    const { conn, events } = serverGets(clientFrame({ opcode: CONT, payload: utf8('x') }));
    assertFailed(conn, events, 'WS_ERR_UNEXPECTED_CONTINUATION', 1002);
  });

  it('fails with 1002 on a continuation frame after a message was completed', () => {
    const wire = hex('01 01 61 80 01 62 80 01 63');
    const { conn, events } = clientGets(wire);
    assert.deepEqual(summarize(events).slice(0, 1), [{ type: 'message', binary: false, hex: '61 62' }]);
    assertFailed(conn, events, 'WS_ERR_UNEXPECTED_CONTINUATION', 1002);
  });

  it('fails with 1002 when a new data frame starts while a fragmented message is open', () => {
    for (const opcode of [TEXT, BINARY]) {
      const wire = concat([clientFrame({ opcode: BINARY, fin: false, payload: utf8('a') }), clientFrame({ opcode, payload: utf8('b') })]);
      const { conn, events } = serverGets(wire);
      assertFailed(conn, events, 'WS_ERR_EXPECTED_CONTINUATION', 1002);
    }
  });
});

describe('FrameReader: never throws while receiving', () => {
  it('returns events instead of throwing for every single-byte-prefixed garbage header', () => {
    for (let b0 = 0; b0 < 256; b0++) {
      for (const side of ['server', 'client'] as const) {
        const conn = side === 'server' ? serverConnection() : clientConnection();
        assert.doesNotThrow(() => conn.receiveData(Uint8Array.of(b0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4)));
        for (const e of errorsIn(conn.takeEvents())) assert.equal(e.closeCode, PROTOCOL_ERRORS[e.code as keyof typeof PROTOCOL_ERRORS].closeCode);
      }
    }
  });

  it('ignores empty chunks', () => {
    const conn = serverConnection();
    conn.receiveData(new Uint8Array(0));
    assert.deepEqual(conn.takeEvents(), []);
    assert.equal(conn.state, 'OPEN');
  });
});

describe('FrameReader: its own contract', () => {
  const serverReader = () => new FrameReader({ expectMasked: true, allowRsv1: false, mask: applyMask, maskInto });
  const NAMES = ['more', 'header', 'piece', 'error'];

  /** Runs the reader to MORE; each step as a word, its piece as text, and "end" when it ended a frame. */
  function steps(reader: FrameReader): string[] {
    const out: string[] = [];
    for (let step = reader.next(); step !== ReadStep.MORE; step = reader.next()) {
      let word = NAMES[step]!;
      if (step === ReadStep.PIECE) word += ` ${text(reader.piece)}${reader.whole ? ' (whole)' : ''}`;
      if (step !== ReadStep.ERROR && reader.frameEnded) word += ' end';
      out.push(word);
    }
    return out;
  }

  it('reports a header, then one piece unmasked in place in the chunk it was given, which ends the frame', () => {
    const reader = serverReader();
    const chunk = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    reader.push(chunk);
    assert.equal(reader.next(), ReadStep.HEADER);
    assert.deepEqual([reader.fin, reader.rsv1, reader.opcode, reader.payloadLength, reader.frameEnded], [true, false, TEXT, 5, false]);
    assert.equal(reader.next(), ReadStep.PIECE);
    assert.equal(text(reader.piece), 'Hello');
    assert.equal(reader.whole, true);
    assert.equal(reader.frameEnded, true);
    assert.equal(reader.piece.buffer, chunk.buffer);
    assert.equal(toHex(chunk.subarray(6)), toHex(utf8('Hello')));
    assert.equal(reader.next(), ReadStep.MORE);
  });

  it('unmasks a piece once, on its way into the caller\'s buffer, when the caller copies it rather than reads it', () => {
    const reader = serverReader();
    const frame = clientFrame({ opcode: BINARY, payload: utf8('abcdefgh') });
    const [first, second] = splitAt(frame, [9]);
    const target = new Uint8Array(8);
    reader.push(first!);
    assert.deepEqual([reader.next(), reader.next()], [ReadStep.HEADER, ReadStep.PIECE]);
    assert.equal(reader.pieceLength, 3);
    reader.copyPieceInto(target, 0);
    // The copied piece stays masked in the input until it is read.
    assert.notEqual(text(first!.subarray(6)), 'abc');
    assert.equal(text(reader.piece), 'abc');
    reader.push(second!);
    assert.equal(reader.next(), ReadStep.PIECE);
    // Read first, then copied: the copy is of the unmasked bytes, not unmasked again.
    assert.equal(text(reader.piece), 'defgh');
    reader.copyPieceInto(target, 3);
    assert.equal(text(target), 'abcdefgh');
    assert.equal(reader.frameEnded, true);
  });

  it('answers MORE until a header is complete, and hands a payload split across chunks out piece by piece', () => {
    const reader = serverReader();
    const seen: string[] = [];
    for (const byte of clientFrame({ opcode: BINARY, payload: utf8('abc') })) {
      reader.push(Uint8Array.of(byte));
      seen.push(...steps(reader));
    }
    assert.deepEqual(seen, ['header', 'piece a', 'piece b', 'piece c end']);
  });

  it('reports an empty frame as a header that ends its frame, with no piece', () => {
    const reader = serverReader();
    reader.push(clientFrame({ opcode: PING }));
    assert.deepEqual(steps(reader), ['header end']);
    assert.equal(reader.payloadLength, 0);
  });

  it('reports a violation once, with its error, and then ignores all input', () => {
    const reader = serverReader();
    reader.push(serverFrame({ opcode: TEXT, payload: utf8('x') }));
    assert.equal(reader.next(), ReadStep.ERROR);
    assert.equal(reader.error?.code, 'WS_ERR_EXPECTED_MASK');
    assert.equal(reader.error?.closeCode, PROTOCOL_ERRORS.WS_ERR_EXPECTED_MASK.closeCode);
    assert.equal(reader.discarding, true);
    reader.push(clientFrame({ opcode: TEXT, payload: utf8('y') }));
    assert.equal(reader.next(), ReadStep.MORE);
  });

  it('tracks the order of fragments itself: a continuation after a final frame is a violation', () => {
    const reader = serverReader();
    reader.push(concat([clientFrame({ opcode: TEXT, fin: false, payload: utf8('a') }), clientFrame({ opcode: CONT, payload: utf8('b') })]));
    assert.deepEqual(steps(reader), ['header', 'piece a (whole) end', 'header', 'piece b (whole) end']);
    reader.push(clientFrame({ opcode: CONT, payload: utf8('c') }));
    assert.deepEqual(steps(reader), ['error']);
    assert.equal(reader.error?.code, 'WS_ERR_UNEXPECTED_CONTINUATION');
  });
});
