/**
 * Hostile compressed messages (RFC 7692, permessage-deflate negotiated): decompression bombs
 * fail with 1009 without the server ever holding the inflated message (peak memory measured),
 * corrupt DEFLATE data fails with 1007 (WS_ERR_INFLATE_FAILED in src/protocol/errors.ts), RSV1
 * where RFC 7692 §6 forbids it fails with 1002, and normal clients are served throughout.
 *
 * This file runs in its own process (node --test), so the peak resident size it reads belongs
 * to this server and this attacker only.
 */
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { deflateFilled, deflateMessage } from '../support/deflate-message.js';
import { clientFrame, closePayload, OP } from '../support/frames.js';
import { upgradedPeer, violation } from './raw-peer.js';
import { assertStillServing, startTarget, type Target } from './target.js';

const MAX_PAYLOAD = 1024 * 1024;
const DEFLATE = ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'];
const MiB = 1024 * 1024;

/** Peak resident set size of this process so far, in bytes. */
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

/** What RFC 7692 §7.2.2 says a receiver does with a compressed payload. */
const inflate = (payload: Buffer): Buffer =>
  zlib.inflateRawSync(Buffer.concat([payload, Buffer.of(0, 0, 0xff, 0xff)]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });

describe('decompression bombs', () => {
  let target: Target;
  let bomb: Buffer;
  before(async () => {
    target = await startTarget({ perMessageDeflate: true, maxPayload: MAX_PAYLOAD });
    // 256 MiB of zeros in about 256 KB: a quarter of maxPayload on the wire, 256 times it inflated.
    bomb = await deflateFilled(256 * MiB);
  });
  after(() => target.stop());

  it('negotiates permessage-deflate with a raw client', async () => {
    const peer = await upgradedPeer(target.port, DEFLATE);
    assert.match(peer.header('sec-websocket-extensions') ?? '', /^permessage-deflate/);
    peer.destroy();
  });

  it('fails a 256 KB frame that inflates to 256 MiB with 1009 without allocating it', async () => {
    assert.ok(bomb.length < MAX_PAYLOAD / 2, `the bomb is ${bomb.length} bytes on the wire`);
    const before = peakRss();
    const outcome = await violation(target.port, clientFrame({ opcode: OP.BINARY, payload: bomb, rsv1: true }), DEFLATE, 20_000);
    const grew = peakRss() - before;
    assert.equal(outcome.code, 1009);
    assert.ok(outcome.closed);
    // Inflation stops at maxPayload (1 MiB): the peak may move by a few MiB, never by the 256 MiB.
    assert.ok(grew < 64 * MiB, `peak memory grew by ${(grew / MiB).toFixed(1)} MiB`);
    await assertStillServing(target);
  });

  it('fails the same bomb split into fragments, as text, with 1009', async () => {
    const quarter = Math.ceil(bomb.length / 4);
    const parts = [0, 1, 2, 3].map((i) => bomb.subarray(i * quarter, (i + 1) * quarter));
    const wire = Buffer.concat(parts.map((payload, i) => clientFrame({ opcode: i === 0 ? OP.TEXT : OP.CONTINUATION, rsv1: i === 0, fin: i === 3, payload })));
    const outcome = await violation(target.port, wire, DEFLATE, 20_000);
    assert.equal(outcome.code, 1009);
    assert.ok(outcome.closed);
    await assertStillServing(target);
  });

  it('fails twenty bombs on twenty connections at once, each with 1009, within bounded memory', async () => {
    const before = peakRss();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => violation(target.port, clientFrame({ opcode: OP.BINARY, payload: bomb, rsv1: true }), DEFLATE, 30_000)),
    );
    const grew = peakRss() - before;
    assert.deepEqual(outcomes.map((o) => o.code), Array(20).fill(1009));
    assert.ok(outcomes.every((o) => o.closed));
    assert.ok(grew < 128 * MiB, `peak memory grew by ${(grew / MiB).toFixed(1)} MiB for 20 bombs of 256 MiB`);
    await assertStillServing(target);
  });

  it('delivers a message that inflates to exactly maxPayload, and fails one byte more with 1009', async () => {
    const exact = Buffer.alloc(MAX_PAYLOAD, 0x61);
    const peer = await upgradedPeer(target.port, DEFLATE);
    peer.write(clientFrame({ opcode: OP.TEXT, payload: deflateMessage(exact), rsv1: true }));
    assert.ok(await peer.until(() => peer.frames().some((f) => f.opcode === OP.TEXT), 10_000), 'no echo');
    const echoed = peer.frames().find((f) => f.opcode === OP.TEXT)!;
    assert.ok((echoed.rsv1 ? inflate(echoed.payload) : echoed.payload).equals(exact), 'the echo differs');
    peer.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    assert.ok(await peer.waitClosed(5000));

    const over = await violation(target.port, clientFrame({ opcode: OP.TEXT, payload: deflateMessage(Buffer.alloc(MAX_PAYLOAD + 1, 0x61)), rsv1: true }), DEFLATE);
    assert.equal(over.code, 1009);
    assert.ok(over.closed);
    await assertStillServing(target);
  });
});

describe('corrupt and misplaced compression', () => {
  let target: Target;
  before(async () => {
    target = await startTarget({ perMessageDeflate: true, maxPayload: MAX_PAYLOAD });
  });
  after(() => target.stop());

  const cases: Array<[name: string, wire: Uint8Array, code: number, headers?: string[]]> = [
    ['a reserved DEFLATE block type (corrupt data)', clientFrame({ opcode: OP.BINARY, payload: Buffer.of(0xff, 0xff, 0xff, 0xff), rsv1: true }), 1007],
    ['a stored block whose length check fails', clientFrame({ opcode: OP.BINARY, payload: Buffer.of(0x00, 0x05, 0x00, 0x00, 0x00, 0x61), rsv1: true }), 1007],
    // A fixed-Huffman block whose first symbol copies from distance 1, before any output.
    ['a distance that reaches before the start of the window', clientFrame({ opcode: OP.BINARY, payload: Buffer.of(0x03, 0x02, 0x00), rsv1: true }), 1007],
    ['a compressed text that inflates to invalid UTF-8', clientFrame({ opcode: OP.TEXT, payload: deflateMessage(Buffer.of(0x61, 0xff, 0x62)), rsv1: true }), 1007],
    ['RSV1 on a continuation frame', Buffer.concat([clientFrame({ opcode: OP.TEXT, payload: deflateMessage('abc'), rsv1: true, fin: false }), clientFrame({ opcode: OP.CONTINUATION, payload: deflateMessage('def'), rsv1: true })]), 1002],
    ['RSV1 on a ping', clientFrame({ opcode: OP.PING, payload: 'p', rsv1: true }), 1002],
    ['RSV1 on a close frame', clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000), rsv1: true }), 1002],
    ['RSV1 when the client did not offer permessage-deflate', clientFrame({ opcode: OP.TEXT, payload: deflateMessage('abc'), rsv1: true }), 1002, []],
  ];

  for (const [name, wire, code, headers] of cases) {
    it(`answers ${name} with ${code}, closes TCP and keeps serving`, async () => {
      const outcome = await violation(target.port, wire, headers ?? DEFLATE);
      assert.equal(outcome.code, code);
      assert.ok(outcome.closed);
      await assertStillServing(target);
    });
  }

  it('delivers a compressed message split across fragments', async () => {
    const compressed = deflateMessage('compressed and fragmented, '.repeat(10));
    const cut = Math.floor(compressed.length / 2);
    const peer = await upgradedPeer(target.port, DEFLATE);
    peer.write(Buffer.concat([
      clientFrame({ opcode: OP.TEXT, payload: compressed.subarray(0, cut), rsv1: true, fin: false }),
      clientFrame({ opcode: OP.CONTINUATION, payload: compressed.subarray(cut) }),
    ]));
    assert.ok(await peer.until(() => peer.frames().some((f) => f.opcode === OP.TEXT), 5000));
    const echoed = peer.frames().find((f) => f.opcode === OP.TEXT)!;
    const text = (echoed.rsv1 ? inflate(echoed.payload) : echoed.payload).toString();
    assert.equal(text, 'compressed and fragmented, '.repeat(10));
    peer.destroy();
    await assertStillServing(target);
  });
});
