/**
 * MessageAssembler: fragments into messages (RFC 6455 §5.4), UTF-8 as it arrives (§8.1), the
 * maxPayload and maxFragments limits, and inflation through the codec (RFC 7692). Its own
 * contract is checked directly; the rules are checked through Connection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageAssembler, type PayloadPiece } from '../../../src/protocol/message-assembler.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeFrame, type ConnectionEvent, type MessageCodec } from '../../../src/protocol/index.js';
import { MASK, clientFrame, concat, hex, serverFrame, text, toHex, utf8 } from '../../support/frames.js';
import {
  BINARY, CONT, PING, PONG, TEXT, assertFailed, bytewise, clientConnection, clientGets, closeCodeOf, feed,
  firstErrorAt, reversingCodec, serverConnection, serverGets, summarize, takeFrames,
} from './wire.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('MessageAssembler: fragments (RFC 6455 §5.4)', () => {
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
});

describe('MessageAssembler: inflation through the codec (RFC 7692 §6.2)', () => {
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

describe('MessageAssembler: UTF-8 fails fast (RFC 6455 §8.1)', () => {
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

describe('MessageAssembler: limits (maxPayload, maxFragments)', () => {
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
});

describe('MessageAssembler: its own contract', () => {
  const assembler = (options: Partial<ConstructorParameters<typeof MessageAssembler>[0]> = {}) =>
    new MessageAssembler({ maxPayload: 0, maxFragments: 0, skipUtf8Validation: false, isUtf8: null, codec: null, allocate: (size) => new Uint8Array(size), ...options });
  /** A piece as the frame reader hands it out, already unmasked. */
  const plain = (bytes: Uint8Array, borrowed = false): PayloadPiece => ({ piece: bytes, pieceLength: bytes.length, borrowed, copyPieceInto: (target, offset) => target.set(bytes, offset) });

  it('hands out a message that arrived whole as the very bytes it was given, uncopied', () => {
    const a = assembler();
    const piece = utf8('hello');
    assert.equal(a.frameStart(TEXT, false, true, piece.length), true);
    assert.equal(a.dataPiece(plain(piece)), true);
    assert.equal(a.finish(), piece);
    assert.equal(a.binary, false);
  });

  it('copies a message that arrived whole in lent bytes, so reusing them later changes nothing', () => {
    const a = assembler();
    const piece = utf8('hello');
    assert.equal(a.frameStart(BINARY, false, true, piece.length), true);
    assert.equal(a.dataPiece(plain(piece, true)), true);
    const message = a.finish()!;
    assert.notEqual(message.buffer, piece.buffer);
    piece.fill(0);
    assert.deepEqual([...message], [...utf8('hello')]);
  });

  it('copies a control payload that arrived whole in lent bytes', () => {
    const a = assembler();
    const piece = utf8('ping!');
    a.controlStart(piece.length);
    a.controlPiece(piece, true);
    const payload = a.controlPayload();
    piece.fill(0);
    assert.deepEqual([...payload], [...utf8('ping!')]);
  });

  it('copies the fragments of a message into one buffer and reports its type', () => {
    const a = assembler();
    const first = utf8('ab');
    assert.equal(a.frameStart(BINARY, false, false, 2), true);
    assert.equal(a.dataPiece(plain(first)), true);
    assert.equal(a.frameStart(CONT, false, true, 3), true);
    assert.equal(a.dataPiece(plain(utf8('cde'))), true);
    const message = a.finish()!;
    assert.equal(text(message), 'abcde');
    assert.notEqual(message.buffer, first.buffer);
    assert.equal(a.binary, true);
  });

  it('assembles fragments in a buffer from its allocate option, and checks their UTF-8 as they arrive', () => {
    const sizes: number[] = [];
    const a = assembler({ allocate: (size) => (sizes.push(size), new Uint8Array(size).fill(0x21)) });
    assert.equal(a.frameStart(TEXT, false, false, 2), true);
    assert.equal(a.dataPiece(plain(utf8('ab'))), true);
    assert.equal(a.frameStart(CONT, false, true, 2), true);
    assert.equal(a.dataPiece(plain(utf8('cd'))), true);
    assert.equal(text(a.finish()!), 'abcd');
    assert.ok(sizes.length > 0, 'allocate was not used');
    assert.equal(a.frameStart(TEXT, false, false, 2), true);
    assert.equal(a.dataPiece(plain(hex('61 ff'))), false);
    assert.equal(a.error?.code, 'WS_ERR_INVALID_UTF8');
  });

  it('refuses a frame whose declared length passes maxPayload before any byte is stored', () => {
    const a = assembler({ maxPayload: 4 });
    assert.equal(a.frameStart(TEXT, false, false, 3), true);
    assert.equal(a.dataPiece(plain(utf8('abc'))), true);
    assert.equal(a.frameStart(CONT, false, true, 2), false);
    assert.equal(a.error?.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    assert.equal(a.error?.closeCode, 1009);
  });

  it('reports invalid UTF-8 through a false result and its error, in the piece where it arrives', () => {
    const a = assembler();
    assert.equal(a.frameStart(TEXT, false, false, 2), true);
    assert.equal(a.dataPiece(plain(hex('61 ff'))), false);
    assert.equal(a.error?.code, 'WS_ERR_INVALID_UTF8');
  });

  it('keeps a control payload that arrived whole as a view, and copies one that arrived in pieces', () => {
    const a = assembler();
    const whole = utf8('ping');
    a.controlStart(4);
    a.controlPiece(whole);
    assert.equal(a.controlPayload(), whole);
    const parts = [utf8('pi'), utf8('ng')];
    a.controlStart(4);
    for (const p of parts) a.controlPiece(p);
    const gathered = a.controlPayload();
    assert.equal(text(gathered), 'ping');
    assert.notEqual(gathered.buffer, parts[0]!.buffer);
    a.controlStart(0);
    assert.equal(a.controlPayload().length, 0);
  });
});
