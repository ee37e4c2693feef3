/**
 * The Engine port in one process: per channel a top offset, an epoch, a history bounded by count
 * and age, an idempotency-key window and the live handlers. Everything happens synchronously
 * inside publish, which is what makes it atomic here.
 * Must not: keep anything unbounded (history by size and age, keys by window and count).
 */
import { systemClock, type Clock } from './clock.js';
import type { Engine, EnginePublication, EnginePublishResult, HistoryResult, LiveHandler, PublishOptions } from './engine.js';
import type { Position, PublicationBody } from './protocol.js';
import { RealtimeError } from './realtime-error.js';

export interface MemoryEngineOptions {
  /** Publications kept per channel. Default 100. */
  historySize?: number;
  /** How long a publication stays in history, in ms. Default 300000 (5 minutes). */
  historyTtlMs?: number;
  /** How long a publish key is remembered, in ms. Default 120000. */
  idempotencyWindowMs?: number;
  /** Most keys remembered per channel (the oldest go first). Default 10000. */
  maxIdempotencyKeys?: number;
  clock?: Clock;
}

export const MEMORY_ENGINE_DEFAULTS = {
  historySize: 100,
  historyTtlMs: 300_000,
  idempotencyWindowMs: 120_000,
  maxIdempotencyKeys: 10_000,
} as const;

interface Stored extends PublicationBody {
  at: number;
}

interface ChannelState {
  epoch: string;
  top: number;
  /** Oldest first; offsets are consecutive. */
  history: Stored[];
  /** key -> [offset, time], in insertion (so time) order. */
  keys: Map<string, [number, number]>;
  handlers: Set<LiveHandler>;
  lastUsed: number;
}

let epochCounter = 0;
function newEpoch(now: number): string {
  epochCounter = (epochCounter + 1) % 1296;
  return now.toString(36).slice(-5) + epochCounter.toString(36).padStart(2, '0') + Math.floor(Math.random() * 46656).toString(36);
}

export class MemoryEngine implements Engine {
  readonly #options: Required<Omit<MemoryEngineOptions, 'clock'>>;
  readonly #clock: Clock;
  readonly #channels = new Map<string, ChannelState>();
  #closed = false;
  /** When idle channels are next looked for (every half history age). */
  #sweepAt = 0;

  constructor(options: MemoryEngineOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#options = {
      historySize: options.historySize ?? MEMORY_ENGINE_DEFAULTS.historySize,
      historyTtlMs: options.historyTtlMs ?? MEMORY_ENGINE_DEFAULTS.historyTtlMs,
      idempotencyWindowMs: options.idempotencyWindowMs ?? MEMORY_ENGINE_DEFAULTS.idempotencyWindowMs,
      maxIdempotencyKeys: options.maxIdempotencyKeys ?? MEMORY_ENGINE_DEFAULTS.maxIdempotencyKeys,
    };
  }

  async publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<EnginePublishResult> {
    this.#check();
    const now = this.#clock.now();
    const state = this.#state(channel, now);
    const key = options.key;
    if (key !== undefined) {
      const seen = state.keys.get(key);
      if (seen) return { offset: String(seen[0]), epoch: state.epoch, duplicate: true };
    }
    const offset = ++state.top;
    const stored: Stored = { offset: String(offset), data, at: now };
    if (this.#options.historySize > 0) {
      state.history.push(stored);
      if (state.history.length > this.#options.historySize) state.history.shift();
    }
    if (key !== undefined) {
      state.keys.set(key, [offset, now]);
      if (state.keys.size > this.#options.maxIdempotencyKeys) state.keys.delete(state.keys.keys().next().value!);
    }
    const publication: EnginePublication = { channel, offset: stored.offset, epoch: state.epoch, data };
    if (options.origin !== undefined) publication.origin = options.origin;
    if (options.latest !== undefined) publication.latest = options.latest;
    for (const handler of state.handlers) handler(publication);
    return { offset: stored.offset, epoch: state.epoch, duplicate: false };
  }

  async subscribe(channel: string, handler: LiveHandler): Promise<() => Promise<void>> {
    this.#check();
    const state = this.#state(channel, this.#clock.now());
    state.handlers.add(handler);
    return async () => {
      state.handlers.delete(handler);
    };
  }

  async history(channel: string, since?: Position): Promise<HistoryResult> {
    this.#check();
    const state = this.#state(channel, this.#clock.now());
    const position = { offset: String(state.top), epoch: state.epoch };
    if (!since) return { recovered: true, position, publications: [] };
    const from = Number(since.offset);
    const oldest = state.history.length > 0 ? Number(state.history[0]!.offset) : state.top + 1;
    // Recoverable only within the same epoch, from a position the history still reaches.
    if (since.epoch !== state.epoch || !Number.isSafeInteger(from) || from < oldest - 1 || from > state.top) {
      return { recovered: false, position, publications: [] };
    }
    const publications = state.history.slice(from - oldest + 1).map(({ offset, data }) => ({ offset, data }));
    return { recovered: true, position, publications };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
  }

  /** Forgets every channel idle for longer than the history age, without subscribers. */
  #sweep(now: number): void {
    this.#sweepAt = now + Math.max(1000, this.#options.historyTtlMs / 2);
    for (const [channel, state] of this.#channels) {
      if (state.handlers.size === 0 && now - state.lastUsed > this.#options.historyTtlMs) this.#channels.delete(channel);
    }
  }

  /** Channels held (for tests and metrics). */
  get channelCount(): number {
    return this.#channels.size;
  }

  #check(): void {
    if (this.#closed) throw new RealtimeError('UNAVAILABLE', 'the engine is closed');
  }

  /** The channel's state, pruned to the history age and key window; made (new epoch) if absent. */
  #state(channel: string, now: number): ChannelState {
    if (now >= this.#sweepAt) this.#sweep(now);
    let state = this.#channels.get(channel);
    if (state && state.handlers.size === 0 && now - state.lastUsed > this.#options.historyTtlMs) {
      // Nothing recoverable is left and nobody listens: forget it, so idle channels cost nothing.
      this.#channels.delete(channel);
      state = undefined;
    }
    if (!state) {
      state = { epoch: newEpoch(now), top: 0, history: [], keys: new Map(), handlers: new Set(), lastUsed: now };
      this.#channels.set(channel, state);
    }
    state.lastUsed = now;
    const oldestKept = now - this.#options.historyTtlMs;
    let drop = 0;
    while (drop < state.history.length && state.history[drop]!.at < oldestKept) drop++;
    if (drop > 0) state.history.splice(0, drop);
    const oldestKey = now - this.#options.idempotencyWindowMs;
    for (const [key, [, at]] of state.keys) {
      if (at >= oldestKey) break;
      state.keys.delete(key);
    }
    return state;
  }
}
