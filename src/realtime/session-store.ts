/**
 * The SessionStore port: what a resumable session keeps between a connection and the next one of
 * the same client, possibly on another process: the channels it was subscribed to (each already
 * authorized). Positions are not kept here: the client knows its own and sends them as `since`.
 * `MemorySessionStore` serves one process; `RedisEngine.sessionStore()` (fullduplex/redis) serves
 * many.
 * Must not: keep a session past its time to live, or fail loudly: a store that cannot answer
 * only costs the client a fresh session.
 */
import { systemClock, type Clock } from './clock.js';

export interface SessionStore {
  /** The channels saved under `id`, or undefined if none (unknown or expired). */
  load(id: string): Promise<string[] | undefined>;
  /** Saves `channels` under `id` for `ttlMs`, replacing what was there. */
  save(id: string, channels: string[], ttlMs: number): Promise<void>;
}

export class MemorySessionStore implements SessionStore {
  readonly #clock: Clock;
  readonly #sessions = new Map<string, { channels: string[]; until: number }>();

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  async load(id: string): Promise<string[] | undefined> {
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.until <= this.#clock.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return [...session.channels];
  }

  async save(id: string, channels: string[], ttlMs: number): Promise<void> {
    const now = this.#clock.now();
    // Expired sessions go when a new one is saved, so the map holds only live ones.
    for (const [key, session] of this.#sessions) if (session.until <= now) this.#sessions.delete(key);
    this.#sessions.set(id, { channels: [...channels], until: now + ttlMs });
  }

  /** Sessions held (for tests and metrics). */
  get size(): number {
    return this.#sessions.size;
  }
}
