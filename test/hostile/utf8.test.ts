/**
 * Invalid UTF-8 in every position a peer can put it (RFC 6455 §8.1, §5.5.1): text messages
 * whole or fragmented, bytes split across fragment boundaries and across TCP writes, message
 * ends inside a sequence, close reasons. Each fails the connection with 1007; valid sequences
 * split the same ways are delivered intact; binary messages and ping payloads are not text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clientFrame, closePayload, fragmented, OP } from '../support/frames.js';
import { closeOutcome, upgradedPeer, violation } from './raw-peer.js';
import { assertStillServing, startTarget, type Target } from './target.js';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const INVALID_UTF8 = 1007;

/** Invalid sequences, each the whole payload of a text message. */
const INVALID: Array<[name: string, payload: Buffer]> = [
  ['a lone 0xff', bytes('ff')],
  ['0xfe inside ASCII', Buffer.concat([Buffer.from('hello '), bytes('fe'), Buffer.from(' world')])],
  ['a lone continuation byte', bytes('80')],
  ['an overlong NUL (c0 80)', bytes('c080')],
  ['an overlong slash (e0 80 af)', bytes('e080af')],
  ['an overlong 4-byte form (f0 80 80 af)', bytes('f08080af')],
  ['a UTF-16 surrogate (ed a0 80)', bytes('eda080')],
  ['a low surrogate (ed bf bf)', bytes('edbfbf')],
  ['a code point above U+10FFFF (f4 90 80 80)', bytes('f4908080')],
  ['a 5-byte form (f8 88 80 80 80)', bytes('f888808080')],
  ['a lead byte followed by ASCII', bytes('e2 41 41')],
  ['a message ending inside a 3-byte sequence', Buffer.concat([Buffer.from('ok '), bytes('e282')])],
  ['a message ending after the lead byte of a 4-byte sequence', bytes('f0')],
  ['invalid bytes at the end of a 64 KiB message', Buffer.concat([Buffer.alloc(65536, 0x61), bytes('ff')])],
];

describe('invalid UTF-8', () => {
  let target: Target;
  before(async () => {
    target = await startTarget();
  });
  after(() => target.stop());

  const failsWith1007 = async (parts: Uint8Array | Uint8Array[]): Promise<void> => {
    const outcome = await violation(target.port, parts);
    assert.equal(outcome.code, INVALID_UTF8);
    assert.ok(outcome.closed, 'the server did not close the connection');
    assert.ok(outcome.frames.every((f) => f.opcode !== OP.TEXT), 'the server delivered invalid text');
    await assertStillServing(target);
  };

  for (const [name, payload] of INVALID) {
    it(`fails a text frame with ${name} with 1007`, () => failsWith1007(clientFrame({ opcode: OP.TEXT, payload })));
  }

  it('fails with 1007 when a valid first fragment is followed by an invalid one', () =>
    failsWith1007(fragmented([Buffer.from('fine so far '), bytes('ff'), Buffer.from('end')])));

  it('fails with 1007 when a sequence split across fragments turns out invalid (e2 82 | 41)', () =>
    failsWith1007(fragmented([bytes('e2 82'), Buffer.from('A')])));

  it('fails with 1007 when a 4-byte lead ends one fragment and the next starts with ASCII', () =>
    failsWith1007(fragmented([bytes('f0'), Buffer.from('abc')])));

  it('fails with 1007 when a surrogate is split across three fragments', () =>
    failsWith1007(fragmented([bytes('ed'), bytes('a0'), bytes('80')])));

  it('fails with 1007 when the last fragment ends inside a sequence', () =>
    failsWith1007(fragmented([Buffer.from('abc'), bytes('f0 9f 98')])));

  it('fails with 1007 when the final fragment is empty and the message ends inside a sequence', () =>
    failsWith1007(fragmented([bytes('c3'), Buffer.alloc(0)])));

  it('fails with 1007 as soon as the bad byte arrives, before the message is finished', async () => {
    // Only the first fragment is ever sent: the server must not wait for the end of the message.
    await failsWith1007(clientFrame({ opcode: OP.TEXT, payload: Buffer.concat([Buffer.from('abc'), bytes('c0 80')]), fin: false }));
  });

  it('fails with 1007 when the bad byte arrives in a later TCP write of the same frame', async () => {
    const whole = clientFrame({ opcode: OP.TEXT, payload: Buffer.concat([Buffer.alloc(3000, 0x62), bytes('ed a0 80'), Buffer.alloc(3000, 0x62)]) });
    // Split inside the surrogate: the server sees the frame in pieces (or joined: the same answer).
    const cut = whole.length - 3000 - 2;
    await failsWith1007([whole.subarray(0, cut), whole.subarray(cut)]);
  });

  it('fails with 1007 on invalid UTF-8 in a close reason', () =>
    failsWith1007(clientFrame({ opcode: OP.CLOSE, payload: Buffer.concat([closePayload(1000), bytes('ff fe')]) })));

  it('fails with 1007 on a close reason that ends inside a sequence', () =>
    failsWith1007(clientFrame({ opcode: OP.CLOSE, payload: Buffer.concat([closePayload(4000, 'bye '), bytes('e2 82')]) })));

  it('fails with 1007 on a surrogate in a close reason', () =>
    failsWith1007(clientFrame({ opcode: OP.CLOSE, payload: Buffer.concat([closePayload(1001), bytes('ed b0 80')]) })));
});

describe('valid UTF-8 split in hostile places', () => {
  let target: Target;
  before(async () => {
    target = await startTarget();
  });
  after(() => target.stop());

  const echoed = async (parts: Uint8Array[]): Promise<Buffer> => {
    const peer = await upgradedPeer(target.port);
    for (const part of parts) peer.write(part);
    assert.ok(await peer.until(() => peer.frames().some((f) => f.opcode === OP.TEXT || f.opcode === OP.BINARY), 5000), 'no echo');
    const message = peer.frames().find((f) => f.opcode === OP.TEXT || f.opcode === OP.BINARY)!;
    peer.write(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    assert.equal((await closeOutcome(peer)).code, 1000);
    return message.payload;
  };

  it('delivers a 4-byte character split byte by byte across four fragments', async () => {
    const emoji = Buffer.from('😀');
    const got = await echoed([fragmented([...emoji].map((b) => Buffer.of(b)))]);
    assert.equal(got.toString(), '😀');
  });

  it('delivers text whose characters straddle every fragment boundary', async () => {
    const text = Buffer.from('€uro ünïcödé 𝄞 clef '.repeat(20));
    const pieces: Buffer[] = [];
    for (let i = 0; i < text.length; i += 7) pieces.push(text.subarray(i, i + 7));
    assert.equal((await echoed([fragmented(pieces)])).toString(), text.toString());
  });

  it('delivers text split inside a character across TCP writes', async () => {
    const whole = clientFrame({ opcode: OP.TEXT, payload: '€€€€' });
    assert.equal((await echoed([whole.subarray(0, whole.length - 2), whole.subarray(whole.length - 2)])).toString(), '€€€€');
  });

  it('delivers invalid UTF-8 in a binary message untouched', async () => {
    const payload = bytes('ff fe c0 80 ed a0 80');
    assert.deepEqual(await echoed([clientFrame({ opcode: OP.BINARY, payload })]), payload);
  });

  it('answers a ping whose payload is not UTF-8 with the same bytes', async () => {
    const peer = await upgradedPeer(target.port);
    peer.write(clientFrame({ opcode: OP.PING, payload: bytes('ff c0 80') }));
    assert.ok(await peer.until(() => peer.frames().some((f) => f.opcode === OP.PONG), 5000));
    assert.deepEqual(peer.frames()[0]!.payload, bytes('ff c0 80'));
    peer.destroy();
    await assertStillServing(target);
  });
});
