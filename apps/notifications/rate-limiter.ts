/**
 * A token bucket (the notification endpoint has one): `burst` messages at once, then `perSecond` on average. Refused
 * messages are strikes; an accepted message takes one strike back, so a client that keeps
 * sending while refused reaches `maxStrikes` and the server can stop listening to it.
 * Must not: use timers (tokens are computed from the clock when a message arrives).
 */
export interface RateLimits {
  burst: number;
  perSecond: number;
  maxStrikes: number;
}

export type RateVerdict = 'accept' | 'refuse' | 'flooding';

export class RateLimiter {
  readonly #limits: RateLimits;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;
  #strikes = 0;

  constructor(limits: RateLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
    this.#tokens = limits.burst;
    this.#updatedAt = now();
  }

  /** Takes a token for one message. */
  take(): RateVerdict {
    const now = this.#now();
    const refill = ((now - this.#updatedAt) / 1000) * this.#limits.perSecond;
    this.#tokens = Math.min(this.#limits.burst, this.#tokens + Math.max(0, refill));
    this.#updatedAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      this.#strikes = Math.max(0, this.#strikes - 1);
      return 'accept';
    }
    this.#strikes++;
    return this.#strikes >= this.#limits.maxStrikes ? 'flooding' : 'refuse';
  }
}
