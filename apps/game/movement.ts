/**
 * How a player moves, the same on the server (authoritative) and in the page (prediction): one
 * input moves a player for one tick in the direction of its keys, diagonals no faster than
 * straight lines, and never out of the arena. Positions are quantized to the wire's 1/16 unit
 * after each step, so that a page replaying its inputs from the server's position lands where
 * the server will.
 * Must not: depend on Node or the DOM, or on time (a step is one tick).
 */
import { KEY, POSITION_SCALE } from './game-frames.js';

export const ARENA = {
  width: 960,
  height: 540,
  /** Player radius: a player's centre stays this far inside the walls. */
  radius: 14,
  /** Units per second. */
  speed: 240,
  tickHz: 30,
} as const;

export interface Position {
  x: number;
  y: number;
}

const quantize = (value: number) => Math.round(value * POSITION_SCALE) / POSITION_SCALE;
const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/** The position after one tick of `keys` (a KEY bit set), from `from`. */
export function step(from: Position, keys: number): Position {
  let dx = (keys & KEY.RIGHT ? 1 : 0) - (keys & KEY.LEFT ? 1 : 0);
  let dy = (keys & KEY.DOWN ? 1 : 0) - (keys & KEY.UP ? 1 : 0);
  if (dx !== 0 && dy !== 0) {
    dx *= Math.SQRT1_2;
    dy *= Math.SQRT1_2;
  }
  const distance = ARENA.speed / ARENA.tickHz;
  return {
    x: quantize(clamp(from.x + dx * distance, ARENA.radius, ARENA.width - ARENA.radius)),
    y: quantize(clamp(from.y + dy * distance, ARENA.radius, ARENA.height - ARENA.radius)),
  };
}
