import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Connection,
  Opcode,
  PROTOCOL_ERRORS,
  ProtocolError,
  UsageError,
  encodeFrame,
  type ConnectionEvent,
  type MessageCodec,
} from '../../../src/protocol/index.js';
import { MASK, clientFrame, closePayload, concat, hex, serverFrame, text, toHex, utf8 } from '../../support/frames.js';
import {
  bytewise,
  clientConnection,
  closeCodeOf,
  decodeFrames,
  feed,
  joinChunks,
  serverConnection,
  summarize,
  takeFrames,
} from './wire.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function errorsIn(events: ConnectionEvent[]): ProtocolError[] {
  return events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
}

/** Asserts the events end in exactly one error with `code`, and a close frame with its close code was queued. */
function assertFailed(conn: Connection, events: ConnectionEvent[], code: keyof typeof PROTOCOL_ERRORS, closeCode: number): void {
  const errors = errorsIn(events);
  assert.equal(errors.length, 1, `expected one error, got ${JSON.stringify(summarize(events))}`);
  assert.equal(errors[0]!.code, code);
  assert.equal(errors[0]!.closeCode, closeCode);
  assert.equal(events.at(-1)!.type, 'error');
  assert.equal(conn.error, errors[0]);
  const frames = takeFrames(conn);
  const closes = frames.filter((f) => f.opcode === Opcode.CLOSE);
  assert.equal(closes.length, 1);
  assert.equal(closeCodeOf(closes[0]!), closeCode);
  assert.equal(closes[0]!.masked, conn.side === 'client');
  assert.equal(conn.closeExpected(), true);
}

/** Server receives `bytes` (client frames) whole. */
function serverGets(bytes: Uint8Array, options = {}): { conn: Connection; events: ConnectionEvent[] } {
  const conn = serverConnection(options);
  return { conn, events: feed(conn, [bytes]) };
}

function clientGets(bytes: Uint8Array, options = {}): { conn: Connection; events: ConnectionEvent[] } {
  const conn = clientConnection(options);
  return { conn, events: feed(conn, [bytes]) };
}

/** Feeds one byte at a time; returns the index of the byte after which the first error appeared (-1: none). */
function firstErrorAt(conn: Connection, bytes: Uint8Array): { index: number; error: ProtocolError | null; events: ConnectionEvent[] } {
  const all: ConnectionEvent[] = [];
  for (let i = 0; i < bytes.length; i++) {
    conn.receiveData(Uint8Array.of(bytes[i]!));
    const events = conn.takeEvents();
    all.push(...events);
    const error = errorsIn(events)[0];
    if (error) return { index: i, error, events: all };
  }
  return { index: -1, error: null, events: all };
}

const TEXT = Opcode.TEXT;
const BINARY = Opcode.BINARY;
const CONT = Opcode.CONTINUATION;
const CLOSE = Opcode.CLOSE;
const PING = Opcode.PING;
const PONG = Opcode.PONG;

/** A synchronous stand-in for permessage-deflate: "compression" reverses the bytes. */
function reversingCodec(): MessageCodec & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    shouldCompress: (length) => length >= 4,
    compress: (data) => data.slice().reverse(),
    decompress: (data, maxLength) => {
      calls.push(maxLength);
      if (maxLength > 0 && data.length > maxLength) return new ProtocolError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      if (data.length > 0 && data[0] === 0xff) return new ProtocolError('WS_ERR_INFLATE_FAILED');
      return data.slice().reverse();
    },
  };
}

describe('Connection: reading frames', () => {
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

describe('Connection: minimal length encoding (RFC 6455 §5.2)', () => {
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

describe('Connection: masking (RFC 6455 §5.1, §5.3)', () => {
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

describe('Connection: opcodes and reserved bits (RFC 6455 §5.2)', () => {
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

  it('accepts RSV1 on the first frame of a message when a codec was negotiated, and decodes through it', () => {
    const codec = reversingCodec();
    const wire = concat([
      clientFrame({ opcode: TEXT, rsv1: true, fin: false, payload: utf8('ol') }),
      clientFrame({ opcode: PING, payload: utf8('p') }),
      clientFrame({ opcode: CONT, payload: utf8('leh') }),
    ]);
    const { events } = serverGets(wire, { codec, maxPayload: 1000 });
    assert.deepEqual(summarize(events), [
      { type: 'ping', hex: toHex(utf8('p')) },
      { type: 'message', binary: false, hex: toHex(utf8('hello')) },
    ]);
    assert.deepEqual(codec.calls, [1000]);
  });

  it('does not pass messages without RSV1 through the codec', () => {
    const codec = reversingCodec();
    const { events } = serverGets(clientFrame({ opcode: TEXT, payload: utf8('abc') }), { codec });
    assert.deepEqual(summarize(events), [{ type: 'message', binary: false, hex: toHex(utf8('abc')) }]);
    assert.deepEqual(codec.calls, []);
  });

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

  it('fails with the codec error when a compressed message cannot be decoded', () => {
    const { conn, events } = serverGets(clientFrame({ opcode: BINARY, rsv1: true, payload: hex('ff 00') }), { codec: reversingCodec() });
    assertFailed(conn, events, 'WS_ERR_INFLATE_FAILED', 1007);
  });

  it('fails with 1007 when a compressed text message decodes to invalid UTF-8', () => {
    const { conn, events } = serverGets(clientFrame({ opcode: TEXT, rsv1: true, payload: hex('80 61') }), { codec: reversingCodec() });
    assertFailed(conn, events, 'WS_ERR_INVALID_UTF8', 1007);
  });

  it('fails with 1011 instead of throwing when a codec throws', () => {
    const codec: MessageCodec = {
      shouldCompress: () => false,
      compress: (d) => d,
      decompress: () => {
        throw new Error('boom');
      },
    };
    const conn = serverConnection({ codec });
    let events: ConnectionEvent[] = [];
    assert.doesNotThrow(() => {
      events = feed(conn, [clientFrame({ opcode: BINARY, rsv1: true, payload: utf8('x') })]);
    });
    assertFailed(conn, events, 'WS_ERR_INTERNAL', 1011);
  });
});

describe('Connection: fragmentation and control frames (RFC 6455 §5.4, §5.5)', () => {
  it('reassembles a fragmented message with a ping and a pong interleaved, answering the ping', () => {
    const wire = concat([
      clientFrame({ opcode: TEXT, fin: false, payload: utf8('fra') }),
      clientFrame({ opcode: PING, payload: utf8('p1') }),
      clientFrame({ opcode: CONT, fin: false, payload: utf8('gme') }),
      clientFrame({ opcode: PONG, payload: utf8('q') }),
      clientFrame({ opcode: CONT, fin: false, payload: new Uint8Array(0) }),
      clientFrame({ opcode: CONT, payload: utf8('nted') }),
    ]);
    for (const chunks of [[wire], bytewise(wire)]) {
      const conn = serverConnection();
      const events = feed(conn, chunks);
      assert.deepEqual(summarize(events), [
        { type: 'ping', hex: toHex(utf8('p1')) },
        { type: 'pong', hex: toHex(utf8('q')) },
        { type: 'message', binary: false, hex: toHex(utf8('fragmented')) },
      ]);
      const out = takeFrames(conn);
      assert.equal(out.length, 1);
      assert.equal(out[0]!.opcode, PONG);
      assert.equal(text(out[0]!.payload), 'p1');
      assert.equal(out[0]!.masked, false);
    }
  });

  it('reassembles a fragmented binary message', () => {
    const wire = hex('02 02 01 02 00 01 03 80 03 04 05 06');
    const { events } = clientGets(wire);
    assert.deepEqual(summarize(events), [{ type: 'message', binary: true, hex: '01 02 03 04 05 06' }]);
  });

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

describe('Connection: UTF-8 fails fast (RFC 6455 §8.1)', () => {
  /** Client frames for a text message in two fragments; returns the wire and the offset of each payload. */
  function twoFragments(first: Uint8Array, second: Uint8Array, side: 'server' | 'client') {
    const build = side === 'server' ? clientFrame : serverFrame;
    const f1 = build({ opcode: TEXT, fin: false, payload: first });
    const f2 = build({ opcode: CONT, payload: second });
    const headerSize = side === 'server' ? 6 : 2;
    return { wire: concat([f1, f2]), firstAt: headerSize, secondAt: f1.length + headerSize };
  }

  const cases = [
    { name: 'a surrogate (ED A0 80) in the middle of the second fragment', first: '61 62 63', second: '64 65 ed a0 80 66', bad: ['second', 3] },
    { name: 'a code point above U+10FFFF (F4 90 80 80) in the first fragment', first: '61 f4 90 80 80', second: '62', bad: ['first', 2] },
    { name: 'an overlong two-byte sequence (C0 AF)', first: '61 c0 af', second: '62', bad: ['first', 1] },
    { name: 'an overlong three-byte sequence (E0 80 AF)', first: '61', second: '62 e0 80 af', bad: ['second', 2] },
    { name: 'an overlong four-byte sequence (F0 8F BF BF)', first: 'f0 8f bf bf', second: '62', bad: ['first', 1] },
    { name: 'a lone continuation byte', first: '61 62', second: '80 61', bad: ['second', 0] },
    { name: 'a byte that never appears in UTF-8 (FF)', first: '61 ff', second: '', bad: ['first', 1] },
    { name: 'a surrogate split across the fragment boundary (ED | A0 80)', first: '61 ed', second: 'a0 80', bad: ['second', 0] },
    { name: 'an overlong split across the fragment boundary (E0 | 80 80)', first: '61 e0', second: '80 80 61', bad: ['second', 0] },
    { name: 'F4 90 split across the fragment boundary (F4 | 90 80 80)', first: 'f4', second: '90 80 80', bad: ['second', 0] },
    { name: 'a sequence cut short by an ASCII byte in the next fragment (E2 82 | 41)', first: 'e2 82', second: '41', bad: ['second', 0] },
  ] as const;

  for (const side of ['server', 'client'] as const) {
    for (const c of cases) {
      it(`${side}: reports 1007 in the chunk that carries the invalid byte, fed one byte at a time: ${c.name}`, () => {
        const { wire, firstAt, secondAt } = twoFragments(hex(c.first), hex(c.second), side);
        const expectedIndex = (c.bad[0] === 'first' ? firstAt : secondAt) + c.bad[1];
        const conn = side === 'server' ? serverConnection() : clientConnection();
        const { index, error, events } = firstErrorAt(conn, wire);
        assert.equal(index, expectedIndex);
        assert.equal(error!.code, 'WS_ERR_INVALID_UTF8');
        assert.equal(error!.closeCode, 1007);
        assert.equal(events.filter((e) => e.type === 'message').length, 0);
        assert.equal(closeCodeOf(takeFrames(conn).at(-1)!), 1007);
      });
    }
  }

  it('reports 1007 when the whole invalid message arrives in one chunk', () => {
    const { conn, events } = serverGets(clientFrame({ opcode: TEXT, payload: hex('ed a0 80') }));
    assertFailed(conn, events, 'WS_ERR_INVALID_UTF8', 1007);
  });

  it('reports 1007 at the end of a single-frame message that stops inside a sequence', () => {
    const { conn, events } = clientGets(hex('81 03 61 e2 82'));
    assertFailed(conn, events, 'WS_ERR_INVALID_UTF8', 1007);
  });

  it('reports 1007 on the last byte of a fragmented message that stops inside a sequence', () => {
    const wire = hex('01 02 61 f0 80 02 9f 98');
    const { index, error } = firstErrorAt(clientConnection(), wire);
    assert.equal(index, wire.length - 1);
    assert.equal(error!.code, 'WS_ERR_INVALID_UTF8');
  });

  it('reports 1007 on an empty final fragment after a truncated sequence', () => {
    const wire = hex('01 02 61 e2 80 00');
    const { index, error } = firstErrorAt(clientConnection(), wire);
    assert.equal(index, wire.length - 1);
    assert.equal(error!.code, 'WS_ERR_INVALID_UTF8');
  });

  it('accepts multi-byte characters split across fragments and chunks', () => {
    const message = 'a€𝄞ü-ok';
    const bytes = utf8(message);
    const wire = concat([
      clientFrame({ opcode: TEXT, fin: false, payload: bytes.subarray(0, 2) }),
      clientFrame({ opcode: CONT, fin: false, payload: bytes.subarray(2, 5) }),
      clientFrame({ opcode: CONT, payload: bytes.subarray(5) }),
    ]);
    const events = feed(serverConnection(), bytewise(wire));
    assert.deepEqual(summarize(events), [{ type: 'message', binary: false, hex: toHex(bytes) }]);
  });

  it('accepts invalid UTF-8 in binary messages', () => {
    const { events } = serverGets(clientFrame({ opcode: BINARY, payload: hex('ed a0 80 ff') }));
    assert.deepEqual(summarize(events), [{ type: 'message', binary: true, hex: 'ed a0 80 ff' }]);
  });

  it('skips the check with skipUtf8Validation', () => {
    const wire = concat([clientFrame({ opcode: TEXT, fin: false, payload: hex('ff') }), clientFrame({ opcode: CONT, payload: hex('e2') })]);
    const events = feed(serverConnection({ skipUtf8Validation: true }), bytewise(wire));
    assert.deepEqual(summarize(events), [{ type: 'message', binary: false, hex: 'ff e2' }]);
  });

  it('uses the isUtf8 option on whole messages', () => {
    const seen: string[] = [];
    const isUtf8 = (b: Uint8Array) => {
      seen.push(toHex(b));
      return false;
    };
    const { conn, events } = serverGets(clientFrame({ opcode: TEXT, payload: utf8('ok') }), { isUtf8 });
    assert.deepEqual(seen, ['6f 6b']);
    assertFailed(conn, events, 'WS_ERR_INVALID_UTF8', 1007);
  });

  it('checks the next text message from a clean state after a valid one', () => {
    const wire = concat([clientFrame({ opcode: TEXT, fin: false, payload: hex('61') }), clientFrame({ opcode: CONT, payload: hex('62') }), clientFrame({ opcode: TEXT, payload: hex('c3 a9') })]);
    const events = feed(serverConnection(), bytewise(wire));
    assert.deepEqual(summarize(events), [
      { type: 'message', binary: false, hex: '61 62' },
      { type: 'message', binary: false, hex: 'c3 a9' },
    ]);
  });
});

describe('Connection: close frames (RFC 6455 §5.5.1, §7.4)', () => {
  const validCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
  const invalidCodes = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 5001, 65535];

  for (const code of validCodes) {
    it(`accepts close code ${code} and echoes it with the reason`, () => {
      const { conn, events } = serverGets(clientFrame({ opcode: CLOSE, payload: closePayload(code, 'bye') }));
      assert.deepEqual(summarize(events), [{ type: 'close', code, reason: toHex(utf8('bye')) }]);
      assert.equal(conn.closeCode, code);
      assert.equal(text(conn.closeReason), 'bye');
      const out = takeFrames(conn);
      assert.equal(out.length, 1);
      assert.equal(out[0]!.opcode, CLOSE);
      assert.deepEqual(out[0]!.payload, closePayload(code, 'bye'));
    });
  }

  for (const code of invalidCodes) {
    it(`fails with 1002 on close code ${code}`, () => {
      const s = serverGets(clientFrame({ opcode: CLOSE, payload: closePayload(code) }));
      assertFailed(s.conn, s.events, 'WS_ERR_INVALID_CLOSE_CODE', 1002);
      assert.equal(s.conn.closeReceived, false);
      const c = clientGets(serverFrame({ opcode: CLOSE, payload: closePayload(code, 'r') }));
      assertFailed(c.conn, c.events, 'WS_ERR_INVALID_CLOSE_CODE', 1002);
    });
  }

  it('fails with 1002 on a one-byte close payload', () => {
    const { conn, events } = clientGets(hex('88 01 03'));
    assertFailed(conn, events, 'WS_ERR_INVALID_CLOSE_PAYLOAD', 1002);
  });

  it('fails with 1007 on a close reason that is not UTF-8', () => {
    const { conn, events } = clientGets(hex('88 05 03 e8 61 ed a0'));
    assertFailed(conn, events, 'WS_ERR_INVALID_CLOSE_UTF8', 1007);
    const s = serverGets(clientFrame({ opcode: CLOSE, payload: hex('03 e8 c0 80') }));
    assertFailed(s.conn, s.events, 'WS_ERR_INVALID_CLOSE_UTF8', 1007);
  });

  it('reports 1005 for an empty close frame and answers with an empty close frame', () => {
    const { conn, events } = serverGets(hex('88 80 37 fa 21 3d'));
    assert.deepEqual(summarize(events), [{ type: 'close', code: 1005, reason: '' }]);
    assert.equal(conn.closeCode, 1005);
    const out = takeFrames(conn);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.opcode, CLOSE);
    assert.equal(out[0]!.payload.length, 0);
  });

  it('reads a close frame whose reason arrives one byte at a time', () => {
    const wire = clientFrame({ opcode: CLOSE, payload: closePayload(4001, 'déjà vu') });
    const conn = serverConnection();
    const events = feed(conn, bytewise(wire));
    assert.deepEqual(summarize(events), [{ type: 'close', code: 4001, reason: toHex(utf8('déjà vu')) }]);
    assert.deepEqual(takeFrames(conn)[0]!.payload, closePayload(4001, 'déjà vu'));
  });

  it('ignores every byte after a close frame, in the same chunk and later', () => {
    const wire = concat([
      clientFrame({ opcode: CLOSE, payload: closePayload(1000) }),
      clientFrame({ opcode: TEXT, payload: utf8('late') }),
      clientFrame({ opcode: PING }),
      hex('ff ff ff'),
    ]);
    const conn = serverConnection();
    const events = feed(conn, [wire, clientFrame({ opcode: TEXT, payload: utf8('later') }), hex('00 00')]);
    assert.deepEqual(summarize(events), [{ type: 'close', code: 1000, reason: '' }]);
    assert.equal(conn.error, null);
    const out = takeFrames(conn);
    assert.deepEqual(out.map((f) => f.opcode), [CLOSE]);
  });

  it('moves OPEN -> CLOSING -> CLOSED when this side closes first', () => {
    const conn = serverConnection();
    assert.equal(conn.state, 'OPEN');
    assert.equal(conn.closeCode, 1006);
    conn.sendClose(1000, utf8('done'));
    assert.equal(conn.state, 'CLOSING');
    assert.equal(conn.closeExpected(), false);
    feed(conn, [clientFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    assert.equal(conn.state, 'CLOSED');
    assert.equal(conn.closeExpected(), true);
    const out = takeFrames(conn);
    assert.equal(out.length, 1, 'no reply to the peer close: one was sent already');
    assert.deepEqual(out[0]!.payload, closePayload(1000, 'done'));
  });

  it('expects the server to close the transport once the peer started the close and it answered', () => {
    const conn = serverConnection();
    feed(conn, [clientFrame({ opcode: CLOSE, payload: closePayload(1001) })]);
    assert.equal(conn.closeSent, true);
    assert.equal(conn.closeReceived, true);
    assert.equal(conn.closeExpected(), true);
  });

  it('never expects the client to close the transport after a clean close handshake', () => {
    const a = clientConnection();
    a.sendClose(1000);
    assert.equal(a.closeExpected(), false);
    feed(a, [serverFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    assert.equal(a.state, 'CLOSED');
    assert.equal(a.closeExpected(), false);
    const b = clientConnection();
    feed(b, [serverFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    assert.equal(b.closeSent, true);
    assert.equal(b.closeExpected(), false);
  });

  it('expects either side to close the transport after it failed the connection', () => {
    for (const conn of [serverConnection(), clientConnection()]) {
      conn.fail(new ProtocolError('WS_ERR_INVALID_OPCODE'));
      assert.equal(conn.closeExpected(), true);
      assert.equal(conn.state, 'CLOSING');
    }
  });

  it('leaves close code 1006 and CLOSED state when the transport ends without a close frame', () => {
    const conn = clientConnection();
    conn.receiveEof();
    assert.equal(conn.state, 'CLOSED');
    assert.equal(conn.closeCode, 1006);
    conn.receiveData(hex('81 01 61'));
    assert.deepEqual(conn.takeEvents(), []);
    assert.throws(() => conn.send(utf8('x'), false), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CLOSED');
    conn.sendClose(1000);
    conn.fail(new ProtocolError('WS_ERR_INVALID_OPCODE'));
    assert.deepEqual(conn.takeOutput(), []);
    assert.deepEqual(conn.takeEvents(), []);
  });
});

describe('Connection: at most one close frame is sent', () => {
  function closeFrames(conn: Connection) {
    return takeFrames(conn).filter((f) => f.opcode === CLOSE);
  }

  it('sends one close frame when sendClose is called twice', () => {
    const conn = serverConnection();
    conn.sendClose(1000);
    conn.sendClose(4000, utf8('again'));
    conn.sendClose();
    const closes = closeFrames(conn);
    assert.equal(closes.length, 1);
    assert.equal(closeCodeOf(closes[0]!), 1000);
  });

  it('sends no second close frame when the connection fails after sendClose', () => {
    const conn = serverConnection();
    conn.sendClose(1001);
    const events = feed(conn, [hex('81 01 61')]);
    assert.equal(errorsIn(events)[0]!.code, 'WS_ERR_EXPECTED_MASK');
    const closes = closeFrames(conn);
    assert.equal(closes.length, 1);
    assert.equal(closeCodeOf(closes[0]!), 1001);
    assert.equal(conn.closeExpected(), true);
  });

  it('sends no second close frame when fail is called twice or after a failure', () => {
    const conn = clientConnection();
    feed(conn, [hex('83 00')]);
    conn.fail(new ProtocolError('WS_ERR_INVALID_UTF8'));
    conn.sendClose(1000);
    feed(conn, [serverFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    const closes = closeFrames(conn);
    assert.equal(closes.length, 1);
    assert.equal(closeCodeOf(closes[0]!), 1002);
    assert.equal(conn.error!.code, 'WS_ERR_INVALID_OPCODE');
  });

  it('sends no second close frame when sendClose follows a received close', () => {
    const conn = clientConnection();
    feed(conn, [serverFrame({ opcode: CLOSE, payload: closePayload(3000) })]);
    conn.sendClose(1000);
    const closes = closeFrames(conn);
    assert.equal(closes.length, 1);
    assert.equal(closeCodeOf(closes[0]!), 3000);
  });

  it('sends no second close frame when fail follows a completed close handshake', () => {
    const conn = serverConnection();
    conn.sendClose(1000);
    feed(conn, [clientFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    conn.fail(new ProtocolError('WS_ERR_INTERNAL'));
    assert.equal(closeFrames(conn).length, 1);
  });

  it('keeps the close frame count at one even if output was taken in between', () => {
    const conn = serverConnection();
    conn.sendClose(1000);
    assert.equal(closeFrames(conn).length, 1);
    conn.sendClose(1000);
    feed(conn, [clientFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    assert.equal(closeFrames(conn).length, 0);
  });

  it('stops answering pings once its close frame was sent', () => {
    const conn = serverConnection();
    conn.sendClose(1000);
    takeFrames(conn);
    const events = feed(conn, [clientFrame({ opcode: PING, payload: utf8('x') })]);
    assert.deepEqual(summarize(events), [{ type: 'ping', hex: '78' }]);
    assert.deepEqual(takeFrames(conn), []);
  });
});

describe('Connection: limits', () => {
  it('fails with 1009 on the header of the fragment that would pass maxPayload, before its payload arrives', () => {
    const conn = serverConnection({ maxPayload: 1000 });
    const first = clientFrame({ opcode: BINARY, fin: false, payload: new Uint8Array(600) });
    const second = clientFrame({ opcode: CONT, payload: new Uint8Array(401) });
    const events = feed(conn, [first, second.subarray(0, 8)]);
    assertFailed(conn, events, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009);
  });

  it('accepts a fragmented message of exactly maxPayload bytes', () => {
    const conn = serverConnection({ maxPayload: 1000 });
    const wire = concat([
      clientFrame({ opcode: BINARY, fin: false, payload: new Uint8Array(600).fill(1) }),
      clientFrame({ opcode: CONT, payload: new Uint8Array(400).fill(2) }),
    ]);
    const events = feed(conn, [wire]);
    assert.equal(events.length, 1);
    assert.equal((events[0] as { data: Uint8Array }).data.length, 1000);
  });

  it('fails with 1009 on a single frame one byte over maxPayload', () => {
    const { conn, events } = serverGets(clientFrame({ opcode: TEXT, payload: new Uint8Array(101) }), { maxPayload: 100 });
    assertFailed(conn, events, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009);
  });

  it('does not count control frames toward maxPayload', () => {
    const wire = concat([
      clientFrame({ opcode: TEXT, fin: false, payload: utf8('12345') }),
      clientFrame({ opcode: PING, payload: new Uint8Array(100) }),
      clientFrame({ opcode: CONT, payload: utf8('67890') }),
    ]);
    const { events } = serverGets(wire, { maxPayload: 10 });
    assert.deepEqual(events.map((e) => e.type), ['ping', 'message']);
  });

  it('fails with 1009 from a declared length alone, without allocating it', () => {
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const conn = serverConnection({ maxPayload: 1 << 20 });
    const events = feed(conn, [hex('82 ff 00 00 00 00 40 00 00 00 37 fa 21 3d'), new Uint8Array(1000)]);
    assertFailed(conn, events, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009);
    assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
  });

  it('with maxPayload 0, buffers the bytes that arrived rather than the length a frame declares', () => {
    const conn = serverConnection({ maxPayload: 0 });
    const before = process.memoryUsage().arrayBuffers;
    // Declares 2^39 bytes, sends 10.
    const events = feed(conn, [hex('82 ff 00 00 00 80 00 00 00 00 37 fa 21 3d'), new Uint8Array(10)]);
    assert.deepEqual(summarize(events), []);
    assert.equal(conn.state, 'OPEN');
    assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
  });

  it('accepts 4 MiB in 65,536 fragments of 64 bytes, equal to the input, with memory growth under 3x the payload', () => {
    const total = 4 * 1024 * 1024;
    const size = 64;
    const expected = new Uint8Array(total);
    for (let i = 0; i < total; i++) expected[i] = (i * 31 + (i >>> 8)) & 0xff;
    const frameSize = 6 + size;
    const wire = new Uint8Array((total / size) * frameSize);
    for (let f = 0, o = 0; f < total / size; f++, o += frameSize) {
      wire.set(
        encodeFrame({
          opcode: f === 0 ? BINARY : CONT,
          fin: f === total / size - 1,
          payload: expected.subarray(f * size, (f + 1) * size),
          maskingKey: MASK,
        }),
        o,
      );
    }
    const conn = serverConnection();
    gc();
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const events: ConnectionEvent[] = [];
    const step = 4093; // chunks that never line up with frames
    for (let o = 0, n = 0; o < wire.length; o += step, n++) {
      conn.receiveData(wire.subarray(o, Math.min(o + step, wire.length)));
      events.push(...conn.takeEvents());
      if (n % 64 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    assert.equal(events.length, 1);
    const message = events[0] as { type: string; data: Uint8Array; binary: boolean };
    assert.equal(message.type, 'message');
    assert.equal(message.binary, true);
    assert.equal(message.data.length, total);
    assert.ok(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.length).equals(expected), 'message differs from input');
    assert.ok(peak < 3 * total, `arrayBuffers grew by ${peak} bytes for a ${total}-byte message`);
    // Freed backing stores may be swept one collection late.
    gc();
    gc();
    const retained = process.memoryUsage().arrayBuffers - before;
    assert.ok(retained < total + (1 << 20), `retained ${retained} bytes`);
  });

  it('accepts maxFragments frames and fails with 1009 on one more', () => {
    const fragments = (n: number) =>
      concat(Array.from({ length: n }, (_, i) => clientFrame({ opcode: i === 0 ? TEXT : CONT, fin: i === n - 1, payload: utf8('x') })));
    const ok = serverGets(fragments(4), { maxFragments: 4 });
    assert.deepEqual(summarize(ok.events), [{ type: 'message', binary: false, hex: '78 78 78 78' }]);
    const over = serverGets(fragments(5), { maxFragments: 4 });
    assertFailed(over.conn, over.events, 'WS_ERR_TOO_MANY_FRAGMENTS', 1009);
  });

  it('counts fragments per message, not per connection', () => {
    const twoFrames = concat([clientFrame({ opcode: BINARY, fin: false, payload: utf8('a') }), clientFrame({ opcode: CONT, payload: utf8('b') })]);
    const { events } = serverGets(concat([twoFrames, twoFrames, twoFrames]), { maxFragments: 2 });
    assert.deepEqual(events.map((e) => e.type), ['message', 'message', 'message']);
  });

  it('answers only the newest ping once maxPendingPongs pongs are waiting', () => {
    const conn = serverConnection({ maxPendingPongs: 2 });
    const pings = Array.from({ length: 6 }, (_, i) => clientFrame({ opcode: PING, payload: utf8(`p${i}`) }));
    const events = feed(conn, pings);
    assert.equal(events.length, 6);
    const out = takeFrames(conn);
    // Two pongs within the cap, then one answer for the newest of the pings past it.
    assert.deepEqual(out.map((f) => [f.opcode, text(f.payload)]), [
      [PONG, 'p0'],
      [PONG, 'p1'],
      [PONG, 'p5'],
    ]);
    // Taking the output frees the budget again.
    feed(conn, [clientFrame({ opcode: PING, payload: utf8('q0') }), clientFrame({ opcode: PING, payload: utf8('q1') })]);
    assert.deepEqual(takeFrames(conn).map((f) => text(f.payload)), ['q0', 'q1']);
  });

  it('keeps the byte count of queued output right when a pong is replaced', () => {
    const conn = clientConnection({ maxPendingPongs: 1 });
    feed(conn, [serverFrame({ opcode: PING, payload: utf8('a') }), serverFrame({ opcode: PING, payload: utf8('longer') })]);
    const bytes = conn.outputBytes;
    const chunks = conn.takeOutput();
    assert.equal(bytes, joinChunks(chunks).length);
    const frames = decodeFrames(joinChunks(chunks));
    assert.deepEqual(frames.map((f) => text(f.payload)), ['a', 'longer']);
    assert.ok(frames.every((f) => f.masked));
    assert.equal(conn.outputBytes, 0);
  });

  it('sends a pong waiting past the cap before its own close frame', () => {
    const conn = serverConnection({ maxPendingPongs: 1 });
    feed(conn, [clientFrame({ opcode: PING, payload: utf8('a') }), clientFrame({ opcode: PING, payload: utf8('b') })]);
    conn.sendClose(1000);
    assert.deepEqual(takeFrames(conn).map((f) => [f.opcode, text(f.payload)]), [
      [PONG, 'a'],
      [PONG, 'b'],
      [0x8, text(new Uint8Array([0x03, 0xe8]))],
    ]);
  });

  it('does not answer pings when autoPong is off', () => {
    const conn = serverConnection({ autoPong: false });
    const events = feed(conn, [clientFrame({ opcode: PING, payload: utf8('x') })]);
    assert.equal(events[0]!.type, 'ping');
    assert.deepEqual(conn.takeOutput(), []);
  });
});

describe('Connection: sending', () => {
  it('masks every client frame with a fresh key from generateMask', () => {
    let n = 0;
    const conn = clientConnection({
      generateMask: (k) => {
        n++;
        k.set([n, 0x80 | n, 0x40 + n, 0xff - n]);
      },
    });
    conn.send(utf8('hello'), false);
    conn.send(new Uint8Array(3000).fill(7), true);
    conn.sendPing(utf8('pi'));
    conn.sendPong(utf8('po'));
    conn.sendClose(1000, utf8('bye'));
    const frames = takeFrames(conn);
    assert.deepEqual(frames.map((f) => f.opcode), [TEXT, BINARY, PING, PONG, CLOSE]);
    frames.forEach((f, i) => {
      assert.equal(f.masked, true);
      assert.deepEqual([...f.maskingKey!], [i + 1, 0x80 | (i + 1), 0x40 + i + 1, 0xff - i - 1]);
    });
    assert.equal(text(frames[0]!.payload), 'hello');
    assert.deepEqual(frames[1]!.payload, new Uint8Array(3000).fill(7));
    assert.equal(frames[1]!.lengthBytes, 2);
    assert.deepEqual(frames[4]!.payload, closePayload(1000, 'bye'));
  });

  it('writes the exact masked bytes of RFC 6455 §5.7 with its masking key', () => {
    const conn = clientConnection({ generateMask: (k) => k.set(MASK) });
    conn.send(utf8('Hello'), false);
    assert.equal(toHex(joinChunks(conn.takeOutput())), '81 85 37 fa 21 3d 7f 9f 4d 51 58');
  });

  it('never masks server frames', () => {
    const conn = serverConnection();
    conn.send(utf8('Hello'), false);
    conn.send(new Uint8Array(70000), true);
    conn.sendPing();
    conn.sendClose(1000);
    const bytes = joinChunks(conn.takeOutput());
    assert.equal(toHex(bytes.subarray(0, 7)), '81 05 48 65 6c 6c 6f');
    const frames = decodeFrames(bytes);
    assert.ok(frames.every((f) => !f.masked));
    assert.equal(frames[1]!.lengthBytes, 8);
    assert.equal(toHex(bytes.subarray(-4)), '88 02 03 e8');
  });

  it('leaves the caller\'s buffer untouched when a client masks a payload it does not own', () => {
    const data = new Uint8Array(5000).fill(0x41);
    const conn = clientConnection();
    conn.send(data, true);
    assert.ok(data.every((b) => b === 0x41));
    assert.ok(takeFrames(conn)[0]!.payload.every((b) => b === 0x41));
  });

  it('sends a fragmented message with fin: false then continuation frames', () => {
    const conn = clientConnection();
    conn.send(utf8('one '), false, false);
    conn.sendPing(utf8('mid'));
    conn.send(utf8('two '), true, false);
    conn.send(utf8('three'), true, true);
    conn.send(utf8('next'), true);
    const frames = takeFrames(conn);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, text(f.payload)]),
      [
        [TEXT, false, 'one '],
        [PING, true, 'mid'],
        [CONT, false, 'two '],
        [CONT, true, 'three'],
        [BINARY, true, 'next'],
      ],
    );
    // What this side sends, the other side reads back.
    const server = serverConnection();
    server.receiveData(joinChunks(conn.takeOutput()));
  });

  it('produces frames that a peer connection reads back as the same messages', () => {
    const client = clientConnection();
    client.send(utf8('héllo'), false, false);
    client.send(utf8(' wörld'), false);
    client.send(new Uint8Array(66000).fill(3), true);
    const server = serverConnection();
    const events = feed(server, client.takeOutput());
    assert.deepEqual(
      events.map((e) => (e.type === 'message' ? [e.binary, e.data.length] : e.type)),
      [
        [false, utf8('héllo wörld').length],
        [true, 66000],
      ],
    );
    server.send(utf8('back'), false);
    assert.equal(text((feed(client, server.takeOutput())[0] as { data: Uint8Array }).data), 'back');
  });

  it('compresses messages through the codec with RSV1 on the first frame only, and small ones plain', () => {
    const conn = serverConnection({ codec: reversingCodec() });
    conn.send(utf8('abcdef'), false);
    conn.send(utf8('ab'), false);
    conn.send(utf8('abcdef'), false, false);
    conn.send(utf8('gh'), false);
    conn.send(utf8('uncompressed'), true, true, false, false);
    const frames = takeFrames(conn);
    assert.deepEqual(
      frames.map((f) => [f.rsv1, f.opcode, f.fin, text(f.payload)]),
      [
        [true, TEXT, true, 'fedcba'],
        [false, TEXT, true, 'ab'],
        [true, TEXT, false, 'fedcba'],
        [false, CONT, true, 'hg'],
        [false, BINARY, true, 'uncompressed'],
      ],
    );
  });

  it('queues a prepared frame byte for byte on the server, and refuses it on the client or inside a fragmented message', () => {
    const frame = hex('81 02 68 69');
    const server = serverConnection();
    server.sendFrame(frame);
    assert.equal(toHex(joinChunks(server.takeOutput())), '81 02 68 69');
    server.send(utf8('a'), false, false);
    assert.throws(() => server.sendFrame(frame), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_FRAGMENT_OPEN');
    assert.throws(() => clientConnection().sendFrame(frame), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_PREPARED_CLIENT');
    server.sendClose(1000);
    assert.throws(() => server.sendFrame(frame), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CLOSE_SENT');
  });

  it('throws UsageError WS_ERR_CLOSE_SENT on send, sendPing and sendPong after a close frame was sent', () => {
    const conn = serverConnection();
    conn.sendClose(1000);
    takeFrames(conn);
    for (const call of [() => conn.send(utf8('x'), false), () => conn.sendPing(), () => conn.sendPong()]) {
      assert.throws(call, (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CLOSE_SENT');
    }
    assert.deepEqual(conn.takeOutput(), []);
  });

  it('throws UsageError WS_ERR_CLOSE_SENT when sending after the connection failed', () => {
    const conn = serverConnection();
    feed(conn, [hex('81 00')]);
    assert.throws(() => conn.send(utf8('x'), false), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CLOSE_SENT');
  });

  it('throws UsageError WS_ERR_CONTROL_TOO_LONG on a control payload over 125 bytes, and queues nothing', () => {
    const conn = clientConnection();
    conn.sendPing(new Uint8Array(125));
    takeFrames(conn);
    assert.throws(() => conn.sendPing(new Uint8Array(126)), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CONTROL_TOO_LONG');
    assert.throws(() => conn.sendPong(new Uint8Array(200)), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CONTROL_TOO_LONG');
    assert.deepEqual(conn.takeOutput(), []);
  });

  for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000]) {
    it(`throws UsageError WS_ERR_INVALID_CLOSE_CODE for sendClose(${code}) and stays open`, () => {
      const conn = serverConnection();
      assert.throws(() => conn.sendClose(code), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_INVALID_CLOSE_CODE');
      assert.equal(conn.closeSent, false);
      assert.equal(conn.state, 'OPEN');
      conn.sendClose(1000);
      assert.equal(takeFrames(conn).length, 1);
    });
  }

  it('throws UsageError for a close reason without a code or longer than 123 bytes', () => {
    const conn = serverConnection();
    assert.throws(() => conn.sendClose(undefined, utf8('why')), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_INVALID_CLOSE_ARGS');
    assert.throws(
      () => conn.sendClose(1000, new Uint8Array(124).fill(0x61)),
      (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CLOSE_REASON_TOO_LONG',
    );
    conn.sendClose(1000, new Uint8Array(123).fill(0x61));
    const out = takeFrames(conn);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.payload.length, 125);
  });

  it('sends an empty close frame for sendClose() with no code', () => {
    const conn = serverConnection();
    conn.sendClose();
    assert.equal(toHex(joinChunks(conn.takeOutput())), '88 00');
  });

  it('throws UsageError when a client has no mask source', () => {
    assert.throws(() => new Connection({ side: 'client' }), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_NO_MASK_SOURCE');
  });

  it('counts queued bytes in outputBytes and resets it when output is taken', () => {
    const conn = serverConnection();
    conn.send(new Uint8Array(2000), true);
    conn.sendPing(utf8('x'));
    assert.equal(conn.outputBytes, 4 + 2000 + 3);
    conn.takeOutput();
    assert.equal(conn.outputBytes, 0);
  });
});

describe('Connection: never throws while receiving', () => {
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
