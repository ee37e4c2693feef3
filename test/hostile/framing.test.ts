/**
 * Hostile frames after a valid handshake (RFC 6455 §5, §7.4): every violation is answered with a
 * close frame carrying the code src/protocol/errors.ts documents, the server closes the TCP
 * connection, its application sees the same code, and a normal client is served right after.
 * Lengths are declared and not sent: the server must decide from the header alone.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ServerOptions } from 'fullduplex';
import { clientFrame, closePayload, fragmented, OP } from '../support/frames.js';
import { closeOutcome, eventually, upgradedPeer, violation } from './raw-peer.js';
import { assertStillServing, startTarget, type Target } from './target.js';

const targets = new Map<string, Promise<Target>>();
function targetFor(options: Omit<ServerOptions, 'port'> = {}): Promise<Target> {
  const key = JSON.stringify(options);
  if (!targets.has(key)) targets.set(key, startTarget(options));
  return targets.get(key)!;
}
after(async () => {
  for (const target of targets.values()) await (await target).stop();
});

interface ViolationCase {
  name: string;
  bytes: Uint8Array | Uint8Array[];
  code: number;
  options?: Omit<ServerOptions, 'port'>;
}

/** A frame header declaring `length` with the 64-bit form, masked, with no payload after it. */
const declared = (length: bigint, opcode: number = OP.BINARY): Uint8Array => clientFrame({ opcode, declaredLength: length, lengthBits: 64 });

const PROTOCOL_ERROR = 1002;
const TOO_BIG = 1009;

const VIOLATIONS: ViolationCase[] = [
  // §5.1: a client masks every frame.
  { name: 'an unmasked text frame', bytes: clientFrame({ opcode: OP.TEXT, payload: 'hi', maskingKey: null }), code: PROTOCOL_ERROR },
  { name: 'an unmasked ping', bytes: clientFrame({ opcode: OP.PING, payload: 'hi', maskingKey: null }), code: PROTOCOL_ERROR },
  { name: 'an unmasked close frame', bytes: clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000), maskingKey: null }), code: PROTOCOL_ERROR },
  { name: 'an unmasked continuation inside a message', bytes: [clientFrame({ opcode: OP.TEXT, payload: 'a', fin: false }), clientFrame({ opcode: OP.CONTINUATION, payload: 'b', maskingKey: null })], code: PROTOCOL_ERROR },
  // §5.2: RSV bits without an extension that defines them.
  { name: 'RSV1 on a text frame without permessage-deflate', bytes: clientFrame({ opcode: OP.TEXT, payload: 'hi', rsv1: true }), code: PROTOCOL_ERROR },
  { name: 'RSV2 on a text frame', bytes: clientFrame({ opcode: OP.TEXT, payload: 'hi', rsv2: true }), code: PROTOCOL_ERROR },
  { name: 'RSV3 on a binary frame', bytes: clientFrame({ opcode: OP.BINARY, payload: 'hi', rsv3: true }), code: PROTOCOL_ERROR },
  { name: 'all RSV bits on a ping', bytes: clientFrame({ opcode: OP.PING, rsv1: true, rsv2: true, rsv3: true }), code: PROTOCOL_ERROR },
  { name: 'RSV2 on a continuation frame', bytes: [clientFrame({ opcode: OP.TEXT, payload: 'a', fin: false }), clientFrame({ opcode: OP.CONTINUATION, payload: 'b', rsv2: true })], code: PROTOCOL_ERROR },
  // §5.2: reserved opcodes.
  ...[0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf].map((opcode) => ({
    name: `reserved opcode 0x${opcode.toString(16)}`,
    bytes: clientFrame({ opcode, payload: 'x' }),
    code: PROTOCOL_ERROR,
  })),
  { name: 'reserved opcode 0x3 inside a fragmented message', bytes: [clientFrame({ opcode: OP.TEXT, payload: 'a', fin: false }), clientFrame({ opcode: 0x3, payload: 'b' })], code: PROTOCOL_ERROR },
  // §5.5: control frames are never fragmented and carry at most 125 bytes.
  { name: 'a fragmented ping', bytes: clientFrame({ opcode: OP.PING, payload: 'p', fin: false }), code: PROTOCOL_ERROR },
  { name: 'a fragmented pong', bytes: clientFrame({ opcode: OP.PONG, payload: 'p', fin: false }), code: PROTOCOL_ERROR },
  { name: 'a fragmented close', bytes: clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000), fin: false }), code: PROTOCOL_ERROR },
  { name: 'a ping of 126 bytes', bytes: clientFrame({ opcode: OP.PING, payload: Buffer.alloc(126, 0x61) }), code: PROTOCOL_ERROR },
  { name: 'a pong of 126 bytes', bytes: clientFrame({ opcode: OP.PONG, payload: Buffer.alloc(126, 0x61) }), code: PROTOCOL_ERROR },
  { name: 'a close frame of 126 bytes', bytes: clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000, 'r'.repeat(124)) }), code: PROTOCOL_ERROR },
  { name: 'a ping declaring 2^16 bytes', bytes: clientFrame({ opcode: OP.PING, declaredLength: 65536n, lengthBits: 64 }), code: PROTOCOL_ERROR },
  // §5.4: fragmentation.
  { name: 'a continuation without a message to continue', bytes: clientFrame({ opcode: OP.CONTINUATION, payload: 'orphan' }), code: PROTOCOL_ERROR },
  { name: 'an unfinished continuation without a message', bytes: clientFrame({ opcode: OP.CONTINUATION, payload: 'orphan', fin: false }), code: PROTOCOL_ERROR },
  { name: 'a continuation after a finished message', bytes: [clientFrame({ opcode: OP.TEXT, payload: 'done' }), clientFrame({ opcode: OP.CONTINUATION, payload: 'more' })], code: PROTOCOL_ERROR },
  { name: 'a new text frame inside a fragmented message', bytes: [clientFrame({ opcode: OP.TEXT, payload: 'a', fin: false }), clientFrame({ opcode: OP.TEXT, payload: 'b' })], code: PROTOCOL_ERROR },
  { name: 'a new binary frame inside a fragmented text message', bytes: [clientFrame({ opcode: OP.TEXT, payload: 'a', fin: false }), clientFrame({ opcode: OP.BINARY, payload: 'b', fin: false })], code: PROTOCOL_ERROR },
  // §5.2: lengths.
  { name: 'a 5-byte payload length in 16 bits', bytes: clientFrame({ opcode: OP.TEXT, payload: 'hello', lengthBits: 16 }), code: PROTOCOL_ERROR },
  { name: 'a 200-byte payload length in 64 bits', bytes: clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(200), lengthBits: 64 }), code: PROTOCOL_ERROR },
  { name: 'a 64-bit length with its top bit set', bytes: declared(0x8000000000000000n), code: PROTOCOL_ERROR },
  { name: 'a 64-bit length of all ones', bytes: declared(0xffffffffffffffffn), code: PROTOCOL_ERROR },
  { name: 'a declared length of 2^63 - 1', bytes: declared(2n ** 63n - 1n), code: TOO_BIG },
  { name: 'a declared length of 2^53', bytes: declared(2n ** 53n), code: TOO_BIG },
  { name: 'a declared length of 2^40', bytes: declared(2n ** 40n), code: TOO_BIG },
  { name: 'a declared length of 2^40 with maxPayload 0 (no limit)', bytes: declared(2n ** 40n), code: TOO_BIG, options: { maxPayload: 0 } },
  { name: 'a declared length of 2^48 with maxPayload 0 (no limit)', bytes: declared(2n ** 48n, OP.TEXT), code: TOO_BIG, options: { maxPayload: 0 } },
  { name: 'a declared length of 2^32', bytes: declared(2n ** 32n), code: TOO_BIG },
  { name: 'a declared length one byte over maxPayload', bytes: declared(1024n * 1024n + 1n), code: TOO_BIG, options: { maxPayload: 1024 * 1024 } },
  {
    name: 'fragments that together pass maxPayload',
    bytes: [clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(40_000), fin: false }), clientFrame({ opcode: OP.CONTINUATION, payload: Buffer.alloc(40_000), fin: false }), clientFrame({ opcode: OP.CONTINUATION, declaredLength: 40_000n })],
    code: TOO_BIG,
    options: { maxPayload: 100_000 },
  },
  // §5.5.1 and §7.4: close payloads.
  { name: 'a close payload of one byte', bytes: clientFrame({ opcode: OP.CLOSE, payload: Buffer.of(0x03) }), code: PROTOCOL_ERROR },
  ...[0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535].map((closeCode) => ({
    name: `close code ${closeCode}`,
    bytes: clientFrame({ opcode: OP.CLOSE, payload: closePayload(closeCode, 'bye') }),
    code: PROTOCOL_ERROR,
  })),
];

describe('hostile frames', () => {
  for (const c of VIOLATIONS) {
    it(`answers ${c.name} with ${c.code}, closes TCP and keeps serving`, async () => {
      const target = await targetFor(c.options);
      const outcome = await violation(target.port, c.bytes);
      assert.equal(outcome.code, c.code);
      assert.ok(outcome.closed, 'the server did not close the connection');
      assert.equal(outcome.frames.at(-1)?.opcode, OP.CLOSE, 'the close frame is the last frame');
      assert.ok(outcome.frames.every((f) => !f.masked), 'the server masked a frame');
      assert.ok(await eventually(() => target.wss.clients.size === 0));
      assert.equal(target.closeCodes.at(-1), c.code, "the application's close event");
      await assertStillServing(target);
    });
  }
});

describe('close frames the server must echo', () => {
  for (const closeCode of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
    it(`echoes close code ${closeCode} and closes TCP first`, async () => {
      const target = await targetFor();
      const outcome = await violation(target.port, clientFrame({ opcode: OP.CLOSE, payload: closePayload(closeCode, 'why') }));
      assert.equal(outcome.code, closeCode);
      assert.ok(outcome.closed);
      assert.ok(await eventually(() => target.wss.clients.size === 0));
      assert.equal(target.closeCodes.at(-1), closeCode);
    });
  }

  it('answers an empty close frame with a close frame and closes TCP', async () => {
    const target = await targetFor();
    const outcome = await violation(target.port, clientFrame({ opcode: OP.CLOSE }));
    const close = outcome.frames.find((f) => f.opcode === OP.CLOSE);
    assert.ok(close, 'no close frame');
    assert.ok(close.payload.length === 0 || close.payload.readUInt16BE(0) === 1000);
    assert.ok(outcome.closed);
    assert.ok(await eventually(() => target.wss.clients.size === 0));
    assert.equal(target.closeCodes.at(-1), 1005);
  });

  it('accepts a close reason of 123 bytes, the most that fits', async () => {
    const target = await targetFor();
    const reason = 'r'.repeat(123);
    const outcome = await violation(target.port, clientFrame({ opcode: OP.CLOSE, payload: closePayload(4321, reason) }));
    assert.equal(outcome.code, 4321);
    assert.ok(outcome.closed);
  });

  it('ignores everything after a close frame', async () => {
    const target = await targetFor();
    const outcome = await violation(target.port, Buffer.concat([
      clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }),
      clientFrame({ opcode: OP.TEXT, payload: 'after close' }),
      clientFrame({ opcode: 0x3 }),
    ]));
    assert.equal(outcome.code, 1000);
    assert.ok(outcome.closed);
    assert.ok(outcome.frames.every((f) => f.opcode === OP.CLOSE), 'something after the close was processed');
    await assertStillServing(target);
  });
});

describe('legal frames a hostile suite must not break', () => {
  it('answers a ping between the fragments of a message, then delivers the message', async () => {
    const target = await targetFor();
    const peer = await upgradedPeer(target.port);
    peer.write(Buffer.concat([
      clientFrame({ opcode: OP.TEXT, payload: 'frag', fin: false }),
      clientFrame({ opcode: OP.PING, payload: 'in between' }),
      clientFrame({ opcode: OP.CONTINUATION, payload: 'mented' }),
    ]));
    assert.ok(await peer.until(() => peer.frames().some((f) => f.opcode === OP.TEXT), 5000));
    const frames = peer.frames();
    assert.equal(frames[0]!.opcode, OP.PONG);
    assert.equal(frames[0]!.payload.toString(), 'in between');
    assert.equal(frames[1]!.payload.toString(), 'fragmented');
    peer.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    assert.equal((await closeOutcome(peer)).code, 1000);
  });

  it('delivers empty messages, empty fragments and a zero-length final fragment', async () => {
    const target = await targetFor();
    const peer = await upgradedPeer(target.port);
    peer.write(Buffer.concat([clientFrame({ opcode: OP.TEXT }), fragmented(['', 'a', '', 'b', ''])]));
    assert.ok(await peer.until(() => peer.frames().filter((f) => f.opcode === OP.TEXT).length === 2, 5000));
    assert.deepEqual(peer.frames().map((f) => f.payload.toString()), ['', 'ab']);
    peer.destroy();
    await assertStillServing(target);
  });
});
