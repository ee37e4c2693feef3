/**
 * A clock whose time moves only when a test says so: `now()` for code that reads the time, and
 * timers that fire, in order of due time (then of scheduling), while `advance(ms)` moves the
 * time across them. Promise callbacks settle before each timer and at the end, so code that
 * awaits between timers behaves as it would on a real clock.
 * Must not: read the real time or keep real timers.
 */

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeClock {
  /** The current time in milliseconds; starts far from 0 so that "0" never looks like a time. */
  time: number;
  #timers = new Map<number, Timer>();
  #seq = 0;

  constructor(start = 1_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): number {
    const seq = ++this.#seq;
    this.#timers.set(seq, { at: this.time + Math.max(0, ms), seq, fn });
    return seq;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Due times of the pending timers, relative to now (readable in an assertion's message). */
  get due(): number[] {
    return [...this.#timers.values()].map((timer) => timer.at - this.time);
  }

  /** Moves the time forward by `ms`, firing each timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const next = this.#nextDue(end);
      if (!next) break;
      this.#timers.delete(next.seq);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = end;
    await settle();
  }

  #nextDue(end: number): Timer | undefined {
    let next: Timer | undefined;
    for (const timer of this.#timers.values()) {
      if (timer.at > end) continue;
      if (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq)) next = timer;
    }
    return next;
  }
}

/** Lets pending promise callbacks run: several microtask rounds (for chains of awaits), then one macrotask turn. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
