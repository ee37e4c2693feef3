/**
 * The arena's STATE frame (apps/game/game-frames.ts), byte by byte as its header documents it,
 * the input event's schema (apps/game/input-schema.ts), and the movement step both ends share
 * (apps/game/movement.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeState, encodeState, KEY } from '../../../apps/game/game-frames.js';
import { inputSchema } from '../../../apps/game/input-schema.js';
import { ARENA, step } from '../../../apps/game/movement.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytes = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s/g, ''), 'hex'));

describe('game frames', () => {
  it('a STATE is 82, the tick, the count, then 12 bytes per player with positions in 1/16 units', () => {
    const state = { tick: 258, players: [{ id: 1, hue: 137, x: 100.5, y: 20.0625, ack: 5 }, { id: 2, hue: 274, x: 14, y: 526, ack: 0 }] };
    const encoded = encodeState(state);
    assert.equal(encoded.length, 7 + 2 * 12);
    assert.equal(hex(encoded.subarray(0, 7)), '82' + '02010000' + '0200');
    assert.equal(hex(encoded.subarray(7, 19)), '0100' + '8900' + '4806' + '4101' + '05000000');
    assert.deepEqual(decodeState(encoded), state);
  });

  it('a STATE whose length does not match its count, or of another type, reads as null; an empty one is valid', () => {
    const encoded = encodeState({ tick: 1, players: [{ id: 1, hue: 0, x: 20, y: 20, ack: 0 }] });
    assert.equal(decodeState(encoded.subarray(0, encoded.length - 1)), null);
    for (const bad of ['', '82', '82 01000000 00', '83 01000000 0000', '82 01000000 0100']) assert.equal(decodeState(bytes(bad)), null, bad);
    assert.deepEqual(decodeState(encodeState({ tick: 9, players: [] })), { tick: 9, players: [] });
  });
});

describe('input schema', () => {
  const check = (value: unknown) => inputSchema['~standard'].validate(value) as { value?: unknown; issues?: Array<{ message: string; path?: PropertyKey[] }> };

  it('takes exactly {seq, keys}: seq from 1 to 2^32 - 1, keys a key bit set', () => {
    assert.deepEqual(check({ seq: 1, keys: KEY.UP | KEY.RIGHT }).value, { seq: 1, keys: 9 });
    assert.deepEqual(check({ seq: 0xffffffff, keys: 0 }).value, { seq: 0xffffffff, keys: 0 });
  });

  it('names each field that is wrong, and refuses any other field (an input cannot name a player)', () => {
    const paths = (value: unknown) => check(value).issues?.map((issue) => issue.path?.join('.') ?? '');
    assert.deepEqual(paths({ seq: 0, keys: 16 }), ['seq', 'keys']);
    assert.deepEqual(paths({ seq: 2 ** 32, keys: 1.5 }), ['seq', 'keys']);
    assert.deepEqual(paths({ seq: '1', keys: '1' }), ['seq', 'keys']);
    assert.deepEqual(paths({ seq: 1, keys: 1, id: 7 }), ['id']);
    for (const bad of [null, 'up', [1, 1], 7]) assert.deepEqual(paths(bad), [''], JSON.stringify(bad));
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
