/**
 * Counts a connection's messages per one-second window. A Yjs update cannot be refused alone
 * (the client would never resend it and the documents would part), so past the limit the
 * connection is closed, and the editor in the page reconnects and resyncs.
 * Must not: use timers (the window is read from the clock when a message arrives).
 */
export class FloodGuard {
  readonly #maxPerSecond: number;
  readonly #now: () => number;
  #windowStartedAt: number;
  #count = 0;

  constructor(maxPerSecond: number, now: () => number = Date.now) {
    this.#maxPerSecond = maxPerSecond;
    this.#now = now;
    this.#windowStartedAt = now();
  }

  /** Counts one message; false once the current second holds more than the limit. */
  admit(): boolean {
    const now = this.#now();
    if (now - this.#windowStartedAt >= 1000) {
      this.#windowStartedAt = now;
      this.#count = 0;
    }
    this.#count++;
    return this.#count <= this.#maxPerSecond;
  }
}
