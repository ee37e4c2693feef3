/**
 * The arena game's binary frames, for the server and (bundled) the browser: one encoder and one
 * decoder per frame, little-endian throughout. The layout, byte by byte:
 *
 *   page -> server
 *     INPUT    6 bytes   [0] 0x01  [1..4] u32 seq (rises by one per input)  [5] u8 keys
 *                        keys: bit 0 up, bit 1 down, bit 2 left, bit 3 right; bits 4-7 zero
 *     PING     9 bytes   [0] 0x02  [1..8] f64 the page's clock (ms), echoed in PONG
 *   server -> page
 *     WELCOME 12 bytes   [0] 0x81  [1..2] u16 your player id  [3..4] u16 your hue (0-359)
 *                        [5] u8 ticks per second  [6..7] u16 arena width  [8..9] u16 height
 *                        [10..11] u16 speed (units per second)
 *     STATE  7 + 12n     [0] 0x82  [1..4] u32 tick  [5..6] u16 n players, then n records of
 *                        [0..1] u16 id  [2..3] u16 hue  [4..5] u16 x * 16  [6..7] u16 y * 16
 *                        [8..11] u32 the last input seq of that player the server applied
 *     PONG    13 bytes   [0] 0x83  [1..8] f64 the PING's clock  [9..12] u32 tick
 *
 * Positions travel in 1/16 of a unit (the arena is at most 4095 units a side). A decoder returns
 * null for anything that is not exactly one of these frames: the server closes such a page.
 * Must not: depend on Node or the DOM (it runs in both), or allocate more than the frame.
 */

export const FRAME = {
  INPUT: 0x01,
  PING: 0x02,
  WELCOME: 0x81,
  STATE: 0x82,
  PONG: 0x83,
} as const;

export const KEY = { UP: 1, DOWN: 2, LEFT: 4, RIGHT: 8 } as const;
const KEY_MASK = 0x0f;

export const INPUT_BYTES = 6;
export const PING_BYTES = 9;
export const WELCOME_BYTES = 12;
export const STATE_HEADER_BYTES = 7;
export const PLAYER_RECORD_BYTES = 12;
export const PONG_BYTES = 13;
/** Positions are sent in units of 1/POSITION_SCALE. */
export const POSITION_SCALE = 16;

export interface Input {
  seq: number;
  keys: number;
}

export interface Welcome {
  id: number;
  hue: number;
  tickHz: number;
  width: number;
  height: number;
  speed: number;
}

export interface PlayerState {
  id: number;
  hue: number;
  x: number;
  y: number;
  /** The last input seq of this player the server applied (0: none yet). */
  ack: number;
}

export interface State {
  tick: number;
  players: PlayerState[];
}

export type PageFrame = ({ type: 'input' } & Input) | { type: 'ping'; time: number };

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export function encodeInput({ seq, keys }: Input): Uint8Array {
  const bytes = new Uint8Array(INPUT_BYTES);
  const data = view(bytes);
  data.setUint8(0, FRAME.INPUT);
  data.setUint32(1, seq, true);
  data.setUint8(5, keys);
  return bytes;
}

export function encodePing(time: number): Uint8Array {
  const bytes = new Uint8Array(PING_BYTES);
  const data = view(bytes);
  data.setUint8(0, FRAME.PING);
  data.setFloat64(1, time, true);
  return bytes;
}

/** Reads a page's frame; null unless it is exactly an INPUT or a PING. */
export function decodePageFrame(bytes: Uint8Array): PageFrame | null {
  if (bytes.length === 0) return null;
  const data = view(bytes);
  const type = data.getUint8(0);
  if (type === FRAME.INPUT && bytes.length === INPUT_BYTES) {
    const keys = data.getUint8(5);
    if ((keys & ~KEY_MASK) !== 0) return null;
    return { type: 'input', seq: data.getUint32(1, true), keys };
  }
  if (type === FRAME.PING && bytes.length === PING_BYTES) {
    const time = data.getFloat64(1, true);
    return Number.isFinite(time) ? { type: 'ping', time } : null;
  }
  return null;
}

export function encodeWelcome(welcome: Welcome): Uint8Array {
  const bytes = new Uint8Array(WELCOME_BYTES);
  const data = view(bytes);
  data.setUint8(0, FRAME.WELCOME);
  data.setUint16(1, welcome.id, true);
  data.setUint16(3, welcome.hue, true);
  data.setUint8(5, welcome.tickHz);
  data.setUint16(6, welcome.width, true);
  data.setUint16(8, welcome.height, true);
  data.setUint16(10, welcome.speed, true);
  return bytes;
}

export function encodeState({ tick, players }: State): Uint8Array {
  const bytes = new Uint8Array(STATE_HEADER_BYTES + PLAYER_RECORD_BYTES * players.length);
  const data = view(bytes);
  data.setUint8(0, FRAME.STATE);
  data.setUint32(1, tick >>> 0, true);
  data.setUint16(5, players.length, true);
  let at = STATE_HEADER_BYTES;
  for (const player of players) {
    data.setUint16(at, player.id, true);
    data.setUint16(at + 2, player.hue, true);
    data.setUint16(at + 4, Math.round(player.x * POSITION_SCALE), true);
    data.setUint16(at + 6, Math.round(player.y * POSITION_SCALE), true);
    data.setUint32(at + 8, player.ack >>> 0, true);
    at += PLAYER_RECORD_BYTES;
  }
  return bytes;
}

export function encodePong(time: number, tick: number): Uint8Array {
  const bytes = new Uint8Array(PONG_BYTES);
  const data = view(bytes);
  data.setUint8(0, FRAME.PONG);
  data.setFloat64(1, time, true);
  data.setUint32(9, tick >>> 0, true);
  return bytes;
}

export type ServerFrame = ({ type: 'welcome' } & Welcome) | ({ type: 'state' } & State) | { type: 'pong'; time: number; tick: number };

/** Reads a server's frame; null unless it is exactly a WELCOME, STATE or PONG. */
export function decodeServerFrame(bytes: Uint8Array): ServerFrame | null {
  if (bytes.length === 0) return null;
  const data = view(bytes);
  const type = data.getUint8(0);
  if (type === FRAME.WELCOME && bytes.length === WELCOME_BYTES) {
    return {
      type: 'welcome',
      id: data.getUint16(1, true),
      hue: data.getUint16(3, true),
      tickHz: data.getUint8(5),
      width: data.getUint16(6, true),
      height: data.getUint16(8, true),
      speed: data.getUint16(10, true),
    };
  }
  if (type === FRAME.STATE && bytes.length >= STATE_HEADER_BYTES) {
    const count = data.getUint16(5, true);
    if (bytes.length !== STATE_HEADER_BYTES + count * PLAYER_RECORD_BYTES) return null;
    const players: PlayerState[] = [];
    for (let i = 0, at = STATE_HEADER_BYTES; i < count; i++, at += PLAYER_RECORD_BYTES) {
      players.push({
        id: data.getUint16(at, true),
        hue: data.getUint16(at + 2, true),
        x: data.getUint16(at + 4, true) / POSITION_SCALE,
        y: data.getUint16(at + 6, true) / POSITION_SCALE,
        ack: data.getUint32(at + 8, true),
      });
    }
    return { type: 'state', tick: data.getUint32(1, true), players };
  }
  if (type === FRAME.PONG && bytes.length === PONG_BYTES) {
    return { type: 'pong', time: data.getFloat64(1, true), tick: data.getUint32(9, true) };
  }
  return null;
}
