/**
 * The PresenceStore port on Redis (7.0 and later; no hash-field TTL needed): per channel a
 * sorted set of entry fields scored by their expiry, and a hash of the entries' JSON, both under
 * one hash tag. A write is one Lua script that sets and removes entries (expiry from Redis's own
 * clock, so processes' clocks do not matter) and publishes the change; a read is one script that
 * first drops expired entries. Changes reach the other processes through a RedisBroker on the
 * same two connections (one for commands, one subscribed).
 *
 * Keys, for channel C and prefix P: `P{presence:C}:expiry` (ZSET field -> expiry ms),
 * `P{presence:C}:entries` (HASH field -> entry JSON), field = `node|user`; notifications on the
 * pub/sub channel `P{presence:C}`. Both keys expire 3 x ttlMs after the last write, so an
 * abandoned channel leaves nothing behind.
 * Must not: know about connections or ticks; lose an error (every failure rejects UNAVAILABLE).
 */
import { createClient } from 'redis';
import type { PresenceChange, PresenceEntry, PresenceHandler, PresenceStore } from '../realtime/presence-store.js';
import { RealtimeError } from '../realtime/realtime-error.js';
import { RedisBroker, type RedisConnection } from './redis-broker.js';

export interface RedisPresenceStoreOptions {
  /** Where Redis listens. Default 'redis://127.0.0.1:6379'. */
  url?: string;
  /** Prepended to every key and notification channel. Default 'fdx:'. */
  keyPrefix?: string;
  /** How long an entry lives after its last write, in ms. Default 15000. */
  ttlMs?: number;
  /** Longest wait between two reconnection attempts. Default 2000. */
  maxReconnectDelayMs?: number;
}

/** The part of a node-redis client the store uses besides the broker's part. */
interface CommandConnection extends RedisConnection {
  sendCommand(args: string[]): Promise<unknown>;
  close?(): Promise<unknown>;
  destroy?(): unknown;
  quit?(): Promise<unknown>;
  disconnect?(): Promise<unknown>;
}

/** KEYS: expiry, entries. ARGV: ttlMs, notification channel ('' for none), payload, number of set pairs, pairs (field, json)..., removed fields... */
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
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 1`;

/** KEYS: expiry, entries. Drops expired entries, then returns the entries' JSON texts. */
const READ = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, field in ipairs(expired) do redis.call('HDEL', KEYS[2], field) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
return redis.call('HVALS', KEYS[2])`;

const FIRST_RECONNECT_DELAY_MS = 50;

export class RedisPresenceStore implements PresenceStore {
  readonly ttlMs: number;
  readonly #prefix: string;
  readonly #client: CommandConnection;
  readonly #subscriber: CommandConnection;
  readonly #broker: RedisBroker;
  /** Settles when the command connection first became ready or first failed. */
  readonly #started: Promise<void>;
  /** Notification channel -> the handlers of its subscribers. */
  readonly #handlers = new Map<string, Set<PresenceHandler>>();
  #closed = false;

  constructor(options: RedisPresenceStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? 15_000;
    if (!(this.ttlMs > 0)) throw new TypeError('ttlMs must be a number > 0');
    this.#prefix = options.keyPrefix ?? 'fdx:';
    const maxDelayMs = options.maxReconnectDelayMs ?? 2000;
    const make = (): CommandConnection =>
      createClient({
        url: options.url ?? 'redis://127.0.0.1:6379',
        disableOfflineQueue: true,
        socket: { reconnectStrategy: (retries: number) => Math.min(FIRST_RECONNECT_DELAY_MS * 2 ** retries, maxDelayMs) },
      }) as unknown as CommandConnection;
    this.#client = make();
    this.#subscriber = make();
    for (const connection of [this.#client, this.#subscriber]) connection.on('error', () => {}); // the broker and the commands report failures
    this.#started = new Promise<void>((resolve) => {
      const settle = (): void => {
        this.#client.off('ready', settle);
        this.#client.off('error', settle);
        resolve();
      };
      this.#client.on('ready', settle);
      this.#client.on('error', settle);
    });
    // The broker connects both connections, keeps the subscriptions across reconnections, and
    // leaves closing them to this store.
    this.#broker = new RedisBroker({ client: this.#client, subscriber: this.#subscriber, keyPrefix: this.#prefix, maxReconnectDelayMs: maxDelayMs });
  }

  async write(channel: string, change: PresenceChange, options: { notify?: boolean } = {}): Promise<void> {
    const args = [String(this.ttlMs), options.notify === false ? '' : this.#prefix + this.#tag(channel), JSON.stringify(change), String(change.set.length)];
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

  /**
   * One broker subscription per channel however many handlers (the broker keeps one handler per
   * channel): the first handler subscribes, the last one to go unsubscribes. The broker runs
   * subscription changes in call order, so an unsubscribe and a new subscribe cannot cross.
   */
  async subscribe(channel: string, handler: PresenceHandler): Promise<() => Promise<void>> {
    if (this.#closed) throw this.#closedError();
    const name = this.#tag(channel);
    let handlers = this.#handlers.get(name);
    if (!handlers) this.#handlers.set(name, (handlers = new Set()));
    const own: PresenceHandler = (change) => handler(change);
    handlers.add(own);
    const release = async (): Promise<void> => {
      if (!handlers.delete(own) || handlers.size > 0 || this.#handlers.get(name) !== handlers) return;
      this.#handlers.delete(name);
      await this.#broker.unsubscribe(name).catch(() => undefined);
    };
    try {
      await this.#broker.subscribe(name, (bytes) => this.#dispatch(name, bytes));
    } catch (error) {
      await release();
      throw new RealtimeError('UNAVAILABLE', `Redis is unavailable: ${(error as Error).message}`);
    }
    return release;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#broker.close().catch(() => undefined);
    await Promise.all([this.#client, this.#subscriber].map((connection) => release(connection)));
  }

  #dispatch(name: string, bytes: Uint8Array): void {
    let change: PresenceChange;
    try {
      change = JSON.parse(new TextDecoder().decode(bytes)) as PresenceChange;
    } catch {
      return; // not written by this store
    }
    for (const handler of [...(this.#handlers.get(name) ?? [])]) handler(change);
  }

  /** The channel's hash tag: its keys and notifications share one slot on a Redis Cluster. */
  #tag(channel: string): string {
    return `{presence:${channel}}`;
  }

  async #eval(script: string, channel: string, args: string[]): Promise<unknown> {
    if (this.#closed) throw this.#closedError();
    await this.#started;
    if (!this.#client.isReady) throw new RealtimeError('UNAVAILABLE', 'Redis is unavailable');
    const tag = this.#prefix + this.#tag(channel);
    try {
      return await this.#client.sendCommand(['EVAL', script, '2', `${tag}:expiry`, `${tag}:entries`, ...args]);
    } catch (error) {
      throw new RealtimeError('UNAVAILABLE', `Redis is unavailable: ${(error as Error).message}`);
    }
  }

  #closedError(): RealtimeError {
    return new RealtimeError('UNAVAILABLE', 'the presence store is closed');
  }
}

async function release(connection: CommandConnection): Promise<void> {
  try {
    if (connection.isReady) await (connection.close ? connection.close() : connection.quit?.());
    else if (connection.isOpen) await (connection.destroy ? connection.destroy() : connection.disconnect?.());
  } catch {
    // Already closed by a racing failure.
  }
}
