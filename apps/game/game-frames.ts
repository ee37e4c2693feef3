/**
 * The arena's STATE frame, for the server and (bundled) the browser: the whole arena of one
 * tick as one binary publication on the `arena` channel, little-endian throughout:
 *
 *   STATE  7 + 12n   [0] 0x82  [1..4] u32 tick  [5..6] u16 n players, then n records of
 *                    [0..1] u16 id  [2..3] u16 hue  [4..5] u16 x * 16  [6..7] u16 y * 16
 *                    [8..11] u32 the last input seq of that player the server applied
 *
 * Positions travel in 1/16 of a unit (the arena is at most 4095 units a side). The decoder
 * returns null for anything that is not exactly one STATE. Inputs, the welcome and the round
 * trip are fdx.v1 events (JSON; apps/game/server.ts), not frames of this file.
 * Must not: depend on Node or the DOM (it runs in both), or allocate more than the frame.
 */

export const STATE_TYPE = 0x82;

export const KEY = { UP: 1, DOWN: 2, LEFT: 4, RIGHT: 8 } as const;
/** Every key bit: an input's `keys` has no other bit set. */
export const KEY_MASK = 0x0f;

export const STATE_HEADER_BYTES = 7;
export const PLAYER_RECORD_BYTES = 12;
/** Positions are sent in units of 1/POSITION_SCALE. */
export const POSITION_SCALE = 16;

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

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export function encodeState({ tick, players }: State): Uint8Array {
  const bytes = new Uint8Array(STATE_HEADER_BYTES + PLAYER_RECORD_BYTES * players.length);
  const data = view(bytes);
  data.setUint8(0, STATE_TYPE);
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

/** Reads a STATE; null unless `bytes` is exactly one. */
export function decodeState(bytes: Uint8Array): State | null {
  if (bytes.length < STATE_HEADER_BYTES) return null;
  const data = view(bytes);
  if (data.getUint8(0) !== STATE_TYPE) return null;
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
  return { tick: data.getUint32(1, true), players };
}
