/**
 * Lent input (Connection#receiveData(chunk, true), FrameReader#push(chunk, true) and settle()):
 * the caller reuses the chunk's memory as soon as the call returns, as a shared read buffer is.
 * Whatever the cuts between reads, the events are the same as for owned chunks, none of them
 * points into the lent memory, and scribbling over it afterwards changes nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameReader, ReadStep } from '../../../src/protocol/frame-reader.js';
import { applyMask, maskInto, type ConnectionEvent } from '../../../src/protocol/index.js';
import { clientFrame, concat, utf8 } from '../../support/frames.js';
import { BINARY, CONT, PING, TEXT, feed, reversingCodec, serverConnection, summarize, takeFrames } from './wire.js';
import type { Connection } from '../../../src/protocol/connection.js';

/** One area reused for every read, scribbled over after each. */
function feedLent(conn: Connection, chunks: Uint8Array[]): { events: ConnectionEvent[]; area: Uint8Array } {
  const area = new Uint8Array(Math.max(1, ...chunks.map((c) => c.length)));
  const events: ConnectionEvent[] = [];
  for (const chunk of chunks) {
    area.set(chunk);
    conn.receiveData(area.subarray(0, chunk.length), true);
    events.push(...conn.takeEvents());
    area.fill(0xee);
  }
  return { events, area };
}

/** `wire` cut at pseudo-random points (deterministic for a seed), pieces of 1 to `most` bytes. */
function cuts(wire: Uint8Array, seed: number, most: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let x = seed;
  for (let at = 0; at < wire.length; ) {
    x = (x * 1103515245 + 12345) >>> 0;
    const take = 1 + ((x >>> 8) % most);
    out.push(wire.subarray(at, at + take));
    at += take;
  }
  return out;
}

function bytes(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + seed) & 0xff);
}

const wire = concat([
  clientFrame({ opcode: TEXT, payload: 'héllo wörld, ünïcode across cuts' }),
  clientFrame({ opcode: BINARY, payload: bytes(700, 1) }),
  clientFrame({ opcode: BINARY, payload: bytes(70_000, 2) }),
  clientFrame({ opcode: TEXT, fin: false, payload: 'frag' }),
  clientFrame({ opcode: PING, payload: 'mid-message ping' }),
  clientFrame({ opcode: CONT, fin: false, payload: bytes(300, 3).map((b) => 0x41 + (b % 26)) }),
  clientFrame({ opcode: CONT, payload: '€nd' }),
  clientFrame({ opcode: PING, payload: bytes(125, 4) }),
  clientFrame({ opcode: BINARY, payload: bytes(5, 5) }),
  clientFrame({ opcode: BINARY, payload: new Uint8Array(0) }),
]);

describe('Connection: lent input', () => {
  for (const [name, most] of [['one byte at a time', 1], ['small reads', 9], ['reads around the header sizes', 15], ['large reads', 40_000], ['one read', wire.length]] as const) {
    it(`gives the same events and pongs as owned input, ${name}, and none of them changes when the memory is reused`, () => {
      for (const seed of [1, 2, 3]) {
        const chunks = most === 1 ? Array.from(wire, (_, i) => wire.subarray(i, i + 1)) : cuts(wire, seed, most);
        const owned = serverConnection();
        const expected = summarize(feed(owned, chunks));
        const lent = serverConnection();
        const { events, area } = feedLent(lent, chunks);
        assert.deepEqual(summarize(events), expected, `seed ${seed}`);
        for (const e of events) if ('data' in e) assert.notEqual(e.data.buffer, area.buffer, `a ${e.type} event holds the lent memory`);
        area.fill(0x55);
        assert.deepEqual(summarize(events), expected, 'events changed when the lent memory was written');
        assert.deepEqual(takeFrames(lent).map((f) => [f.opcode, Buffer.from(f.payload).toString('hex')]), takeFrames(owned).map((f) => [f.opcode, Buffer.from(f.payload).toString('hex')]));
      }
    });
  }

  it('inflates a compressed message that arrived whole in a lent chunk before the call returns', () => {
    const payload = utf8('compressed and whole').slice().reverse();
    const frame = clientFrame({ opcode: TEXT, rsv1: true, payload });
    const conn = serverConnection({ codec: reversingCodec() });
    const { events, area } = feedLent(conn, [concat([frame, frame])]);
    area.fill(0);
    assert.deepEqual(events.map((e) => (e.type === 'message' ? Buffer.from(e.data).toString() : e.type)), ['compressed and whole', 'compressed and whole']);
  });

  it('fails a bad frame in lent input as in owned input, and keeps nothing of it', () => {
    const bad = concat([clientFrame({ opcode: BINARY, payload: bytes(40, 9) }), Uint8Array.of(0x83, 0x80, 1, 2, 3, 4)]);
    const expected = summarize(feed(serverConnection(), [bad]));
    const { events } = feedLent(serverConnection(), [bad]);
    assert.deepEqual(summarize(events), expected);
    assert.equal(expected.at(-1)?.type, 'error');
  });
});

describe('FrameReader: lent chunks', () => {
  const reader = (): FrameReader => new FrameReader({ expectMasked: true, allowRsv1: false, mask: applyMask, maskInto });

  it('marks the pieces of a lent chunk as borrowed, and the pieces of an owned one not', () => {
    const r = reader();
    const frame = clientFrame({ opcode: BINARY, payload: bytes(10, 1) });
    r.push(frame.slice(), true);
    assert.equal(r.next(), ReadStep.HEADER);
    assert.equal(r.next(), ReadStep.PIECE);
    assert.equal(r.borrowed, true);
    assert.equal(r.whole, true);
    r.settle();
    r.push(frame.slice());
    assert.equal(r.next(), ReadStep.HEADER);
    assert.equal(r.next(), ReadStep.PIECE);
    assert.equal(r.borrowed, false);
  });

  it('copies at settle() the header bytes a lent chunk ended with, so the next chunk completes them', () => {
    const r = reader();
    const frame = clientFrame({ opcode: BINARY, payload: bytes(300, 2) });
    const area = frame.slice(0, 5); // 2 + 2 length bytes + 1 of the key
    r.push(area, true);
    assert.equal(r.next(), ReadStep.MORE);
    r.settle();
    area.fill(0);
    r.push(frame.slice(5));
    assert.equal(r.next(), ReadStep.HEADER);
    assert.equal(r.payloadLength, 300);
    assert.equal(r.next(), ReadStep.PIECE);
    assert.deepEqual([...r.piece], [...bytes(300, 2)]);
  });

  it('copies an unmasked lent piece into a target (copyPieceInto), whatever was read of it', () => {
    const r = reader();
    const payload = bytes(1000, 3);
    r.push(clientFrame({ opcode: BINARY, payload }).slice(), true);
    r.next();
    r.next();
    const target = new Uint8Array(1002);
    r.copyPieceInto(target, 2);
    assert.deepEqual([...target.subarray(2)], [...payload]);
  });
});
