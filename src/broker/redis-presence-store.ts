/**
 * The PresenceStore port on Redis (standalone 7.0+ or Redis Cluster; no hash-field TTL needed):
 * per channel a sorted set of entry fields scored by their expiry, and a hash of the entries'
 * JSON, both under one hash tag. A write is one Lua script that sets and removes entries (expiry
 * from Redis's own clock, so processes' clocks do not matter) and SPUBLISHes the change on the
 * channel's sharded pub/sub channel, which carries the same hash tag: on a cluster the keys, the
 * script and the notification stay on the one node that owns the slot, instead of classic
 * pub/sub's copy to every node. A read is one script that first drops expired entries.
 * Redis is reached through the engine's RedisLink (commands routed by key, sharded
 * subscriptions restored after a reconnection, every wait bounded by `commandTimeoutMs`).
 *
 * Keys, for channel C and prefix P: `P{presence:C}:expiry` (ZSET field -> expiry ms),
 * `P{presence:C}:entries` (HASH field -> entry JSON), field = `node|user`; notifications on the
 * sharded channel `P{presence:C}`. Both keys expire 3 x ttlMs after the last write, so an
 * abandoned channel leaves nothing behind.
 * Must not: know about connections or ticks; lose an error (every failure rejects UNAVAILABLE).
 */
import { commandTimeoutOf } from '../engine/command-timeout.js';
import { makeRedisLink, type RedisLink, type ShardedListener } from '../engine/redis-link.js';
import { redisUnavailable } from '../engine/redis-unavailable.js';
import { ScriptRunner } from '../engine/script-runner.js';
import type { PresenceChange, PresenceEntry, PresenceHandler, PresenceStore } from '../realtime/presence-store.js';
import { RealtimeError } from '../realtime/realtime-error.js';

export interface RedisPresenceStoreOptions {
  /** One Redis. Default 'redis://127.0.0.1:6379' (ignored with `clusterUrls`). */
  url?: string;
  /** A Redis Cluster: URLs of one or more of its nodes. */
  clusterUrls?: string[];
  /** Prepended to every key and notification channel. Default 'fdx:'. */
  keyPrefix?: string;
  /** How long an entry lives after its last write, in ms. Default 15000. */
  ttlMs?: number;
  /** Longest wait between two reconnection attempts. Default 2000. */
  maxReconnectDelayMs?: number;
  /** Longest wait for Redis to answer a read, a write or a subscription, in ms. Default 5000. */
  commandTimeoutMs?: number;
}

/**
 * KEYS: expiry, entries, notification channel.
 * ARGV: ttlMs, notify ('1' or ''), payload, number of set pairs, pairs (field, json)..., removed fields...
 */
const WRITE = `
local t = redis.call('TIME')
local ttl = tonumber(ARGV[1])
local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl
local i = 5
for _ = 1, tonumber(ARGV[4]) do
  redis.call('ZADD', KEYS[1], expiry, ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
  i = i + 1
end
redis.call('PEXPIRE', KEYS[1], ttl * 3)
redis.call('PEXPIRE', KEYS[2], ttl * 3)
if ARGV[2] ~= '' then redis.call('SPUBLISH', KEYS[3], ARGV[3]) end
return 1`;

/** KEYS: expiry, entries, notification channel (unused). Drops expired entries, then returns the entries' JSON texts. */
const READ = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, field in ipairs(expired) do redis.call('HDEL', KEYS[2], field) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
return redis.call('HVALS', KEYS[2])`;

/** A channel's subscribers here, and the one sharded subscription they share. */
interface Subscription {
  handlers: Set<PresenceHandler>;
  /** This subscription's own listener: leaving never removes a newer subscription's. */
  listener: ShardedListener;
  ready: Promise<void>;
}

export class RedisPresenceStore implements PresenceStore {
  readonly ttlMs: number;
  readonly #prefix: string;
  readonly #link: RedisLink;
  readonly #scripts: ScriptRunner;
  readonly #connected: Promise<void>;
  /** Notification channel -> its subscription here. */
  readonly #subscriptions = new Map<string, Subscription>();
  #lastError: unknown;
  #closed = false;

  constructor(options: RedisPresenceStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? 15_000;
    if (!(this.ttlMs > 0)) throw new TypeError('ttlMs must be a number > 0');
    this.#prefix = options.keyPrefix ?? 'fdx:';
    this.#link = makeRedisLink({
      url: options.url ?? 'redis://127.0.0.1:6379',
      ...(options.clusterUrls ? { clusterUrls: options.clusterUrls } : {}),
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? 2000,
      commandTimeoutMs: commandTimeoutOf(options.commandTimeoutMs),
      onError: (error) => {
        this.#lastError = error;
      },
    });
    this.#scripts = new ScriptRunner(this.#link);
    this.#connected = this.#link.connect();
    // A first connection that fails is reported by the first call that needs Redis.
    this.#connected.catch((error: unknown) => {
      this.#lastError = error;
    });
  }

  async write(channel: string, change: PresenceChange, options: { notify?: boolean } = {}): Promise<void> {
    const args = [String(this.ttlMs), options.notify === false ? '' : '1', JSON.stringify(change), String(change.set.length)];
    for (const entry of change.set) args.push(`${change.node}|${entry.user}`, JSON.stringify(entry));
    for (const user of change.remove) args.push(`${change.node}|${user}`);
    await this.#eval(WRITE, channel, args);
  }

  async read(channel: string): Promise<PresenceEntry[]> {
    const texts = (await this.#eval(READ, channel, [])) as string[];
    const out: PresenceEntry[] = [];
    for (const text of texts) {
      try {
        out.push(JSON.parse(String(text)) as PresenceEntry);
      } catch {
        // Not written by this store: not an entry.
      }
    }
    return out;
  }

  /** One sharded subscription per channel however many handlers: the first subscribes, the last to go leaves. */
  async subscribe(channel: string, handler: PresenceHandler): Promise<() => Promise<void>> {
    await this.#usable();
    const name = this.#notifications(channel);
    let subscription = this.#subscriptions.get(name);
    if (!subscription) {
      const handlers = new Set<PresenceHandler>();
      const listener: ShardedListener = (message) => this.#dispatch(handlers, message);
      const made: Subscription = { handlers, listener, ready: this.#link.sSubscribe(name, listener) };
      subscription = made;
      this.#subscriptions.set(name, made);
    }
    const own: PresenceHandler = (change) => handler(change);
    subscription.handlers.add(own);
    const joined = subscription;
    const release = async (): Promise<void> => {
      if (!joined.handlers.delete(own) || joined.handlers.size > 0 || this.#subscriptions.get(name) !== joined) return;
      this.#subscriptions.delete(name);
      // Left after it was made (or failed): an unsubscription cannot overtake its subscription.
      await joined.ready.then(() => this.#link.sUnsubscribe(name, joined.listener)).catch(() => undefined);
    };
    try {
      await joined.ready;
    } catch (error) {
      await release();
      throw redisUnavailable(error);
    }
    return release;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const subscription of this.#subscriptions.values()) subscription.handlers.clear();
    this.#subscriptions.clear();
    await this.#connected.catch(() => undefined);
    await this.#link.close();
  }

  #dispatch(handlers: Set<PresenceHandler>, message: string): void {
    let change: PresenceChange;
    try {
      change = JSON.parse(message) as PresenceChange;
    } catch {
      return; // not written by this store
    }
    for (const handler of [...handlers]) {
      try {
        handler(change);
      } catch (error) {
        // Thrown inside the client's reply parser, it would corrupt the connection.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** The channel's hash tag: its keys and notifications share one slot on a Redis Cluster. */
  #notifications(channel: string): string {
    return `${this.#prefix}{presence:${channel}}`;
  }

  async #eval(script: string, channel: string, args: string[]): Promise<unknown> {
    await this.#usable();
    const tag = this.#notifications(channel);
    if (!this.#link.isReady) throw redisUnavailable(this.#lastError);
    try {
      return await this.#scripts.run(script, [`${tag}:expiry`, `${tag}:entries`, tag], args);
    } catch (error) {
      throw redisUnavailable(error);
    }
  }

  async #usable(): Promise<void> {
    if (this.#closed) throw new RealtimeError('UNAVAILABLE', 'the presence store is closed');
    if (this.#link.isReady) return;
    await this.#connected.catch((error: unknown) => {
      throw redisUnavailable(error);
    });
  }
}
