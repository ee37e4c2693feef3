/**
 * The PresenceStore port in one process: per channel, entries by node and user with their
 * expiry, and the channel's handlers. Several servers of one process may share one store (each
 * is its own node), which is how tests stand in for processes without Redis.
 * Must not: keep an expired entry past the next read or write of its channel.
 */
import { systemClock, type Clock } from './clock.js';
import type { PresenceChange, PresenceEntry, PresenceHandler, PresenceStore } from './presence-store.js';
import { RealtimeError } from './realtime-error.js';

export interface MemoryPresenceStoreOptions {
  /** How long an entry lives after its last write, in ms. Default 15000. */
  ttlMs?: number;
  clock?: Clock;
}

export const PRESENCE_STORE_DEFAULTS = {
  ttlMs: 15_000,
} as const;

interface Stored {
  entry: PresenceEntry;
  expiresAt: number;
}

interface ChannelState {
  /** `node + '\n' + user` -> entry. */
  entries: Map<string, Stored>;
  handlers: Set<PresenceHandler>;
}

export class MemoryPresenceStore implements PresenceStore {
  readonly ttlMs: number;
  readonly #clock: Clock;
  readonly #channels = new Map<string, ChannelState>();
  #closed = false;

  constructor(options: MemoryPresenceStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? PRESENCE_STORE_DEFAULTS.ttlMs;
    if (!(this.ttlMs > 0)) throw new TypeError('ttlMs must be a number > 0');
    this.#clock = options.clock ?? systemClock;
  }

  async write(channel: string, change: PresenceChange, options: { notify?: boolean } = {}): Promise<void> {
    const state = this.#state(channel);
    const expiresAt = this.#clock.now() + this.ttlMs;
    for (const entry of change.set) state.entries.set(entry.node + '\n' + entry.user, { entry: { ...entry }, expiresAt });
    for (const user of change.remove) state.entries.delete(change.node + '\n' + user);
    this.#purge(channel, state);
    if (options.notify === false) return;
    for (const handler of [...state.handlers]) handler(change);
  }

  async read(channel: string): Promise<PresenceEntry[]> {
    const state = this.#state(channel);
    this.#purge(channel, state);
    return [...state.entries.values()].map((stored) => ({ ...stored.entry }));
  }

  async subscribe(channel: string, handler: PresenceHandler): Promise<() => Promise<void>> {
    const state = this.#state(channel);
    const own = (change: PresenceChange): void => handler(change);
    state.handlers.add(own);
    return async () => {
      state.handlers.delete(own);
      this.#purge(channel, state);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
  }

  #state(channel: string): ChannelState {
    if (this.#closed) throw new RealtimeError('UNAVAILABLE', 'the presence store is closed');
    let state = this.#channels.get(channel);
    if (!state) this.#channels.set(channel, (state = { entries: new Map(), handlers: new Set() }));
    return state;
  }

  /** Drops expired entries, and the channel itself once it holds nothing. */
  #purge(channel: string, state: ChannelState): void {
    const now = this.#clock.now();
    for (const [key, stored] of state.entries) if (stored.expiresAt <= now) state.entries.delete(key);
    if (state.entries.size === 0 && state.handlers.size === 0) this.#channels.delete(channel);
  }
}
