/**
 * The Clock port: time and timers for the real-time layer, so that every timeout, backoff and
 * history age can be driven by a fake clock in tests. `systemClock` uses the platform's.
 * Must not: import node:* (the browser client uses it too).
 */

export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};
