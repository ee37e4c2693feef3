/**
 * The arena's binary frames (apps/game/game-frames.ts), byte by byte as its header documents
 * them, and the movement step both ends share (apps/game/movement.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodePageFrame,
  decodeServerFrame,
  encodeInput,
  encodePing,
  encodePong,
  encodeState,
  encodeWelcome,
  KEY,
} from '../../../apps/game/game-frames.js';
import { ARENA, step } from '../../../apps/game/movement.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytes = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s/g, ''), 'hex'));

describe('game frames', () => {
  it('an INPUT is 01, the seq as u32 little-endian, then the keys byte', () => {
    assert.equal(hex(encodeInput({ seq: 0x01020304, keys: KEY.UP | KEY.RIGHT })), '01' + '04030201' + '09');
    assert.deepEqual(decodePageFrame(bytes('01 04030201 09')), { type: 'input', seq: 0x01020304, keys: 9 });
  });

  it('a PING is 02 and the page clock as f64 little-endian', () => {
    assert.equal(hex(encodePing(1.5)), '02' + '000000000000f83f');
    assert.deepEqual(decodePageFrame(encodePing(1234.25)), { type: 'ping', time: 1234.25 });
  });

  it('a page frame that is not exactly an INPUT or a PING reads as null', () => {
    for (const bad of ['', '01', '01 04030201', '01 04030201 09 00', '01 04030201 10', '01 04030201 ff', '03 00', '02 00', '81 0100 0000 1e c003 1c02 f000', '02 000000000000f87f']) {
      assert.equal(decodePageFrame(bytes(bad)), null, bad);
    }
  });

  it('a WELCOME is 81, id, hue, tick rate, arena width and height, speed', () => {
    const welcome = { id: 7, hue: 300, tickHz: 30, width: 960, height: 540, speed: 240 };
    assert.equal(hex(encodeWelcome(welcome)), '81' + '0700' + '2c01' + '1e' + 'c003' + '1c02' + 'f000');
    assert.deepEqual(decodeServerFrame(encodeWelcome(welcome)), { type: 'welcome', ...welcome });
  });

  it('a STATE is 82, the tick, the count, then 12 bytes per player with positions in 1/16 units', () => {
    const state = { tick: 258, players: [{ id: 1, hue: 137, x: 100.5, y: 20.0625, ack: 5 }, { id: 2, hue: 274, x: 14, y: 526, ack: 0 }] };
    const encoded = encodeState(state);
    assert.equal(encoded.length, 7 + 2 * 12);
    assert.equal(hex(encoded.subarray(0, 7)), '82' + '02010000' + '0200');
    assert.equal(hex(encoded.subarray(7, 19)), '0100' + '8900' + '4806' + '4101' + '05000000');
    assert.deepEqual(decodeServerFrame(encoded), { type: 'state', ...state });
  });

  it('a STATE whose length does not match its count reads as null, an empty one is valid', () => {
    const encoded = encodeState({ tick: 1, players: [{ id: 1, hue: 0, x: 20, y: 20, ack: 0 }] });
    assert.equal(decodeServerFrame(encoded.subarray(0, encoded.length - 1)), null);
    assert.deepEqual(decodeServerFrame(encodeState({ tick: 9, players: [] })), { type: 'state', tick: 9, players: [] });
  });

  it('a PONG echoes the ping clock and carries the tick', () => {
    assert.equal(hex(encodePong(1.5, 3)), '83' + '000000000000f83f' + '03000000');
    assert.deepEqual(decodeServerFrame(encodePong(99.5, 12)), { type: 'pong', time: 99.5, tick: 12 });
  });
});

describe('movement', () => {
  const perTick = ARENA.speed / ARENA.tickHz;

  it('one input moves a player one tick in the direction of its keys', () => {
    assert.deepEqual(step({ x: 100, y: 100 }, KEY.RIGHT), { x: 100 + perTick, y: 100 });
    assert.deepEqual(step({ x: 100, y: 100 }, KEY.UP), { x: 100, y: 100 - perTick });
    assert.deepEqual(step({ x: 100, y: 100 }, KEY.LEFT | KEY.RIGHT), { x: 100, y: 100 });
  });

  it('diagonals are no faster than straight lines, and positions stay on the 1/16 grid', () => {
    const to = step({ x: 100, y: 100 }, KEY.DOWN | KEY.RIGHT);
    assert.ok(Math.hypot(to.x - 100, to.y - 100) <= perTick + 0.1);
    assert.equal(to.x * 16, Math.round(to.x * 16));
  });

  it('never leaves the arena', () => {
    let at = { x: 20, y: 20 };
    for (let i = 0; i < 10; i++) at = step(at, KEY.UP | KEY.LEFT);
    assert.deepEqual(at, { x: ARENA.radius, y: ARENA.radius });
    at = { x: ARENA.width - 20, y: ARENA.height - 20 };
    for (let i = 0; i < 10; i++) at = step(at, KEY.DOWN | KEY.RIGHT);
    assert.deepEqual(at, { x: ARENA.width - ARENA.radius, y: ARENA.height - ARENA.radius });
  });
});
