/**
 * The Engine port on Redis (standalone 7.0+ or Redis Cluster), for servers on many processes and
 * machines. Each publish is one atomic script (redis-engine-scripts.ts) that assigns the offset,
 * appends to the channel's stream and SPUBLISHes the live message; channels are spread over a
 * fixed number of hash-tagged partitions, one sharded pub/sub channel each, so the same keys and
 * commands work on one Redis and on a cluster.
 *
 * Invariants:
 * - Live handlers see a channel's publications in offset order without gaps within an epoch:
 *   every feed goes through a LiveSequencer, which fills gaps from the stream and checks each
 *   channel's top after a reconnection to Redis.
 * - The process's own publications are handed to its live handlers as soon as Redis answered
 *   (their pub/sub copy is then dropped as already seen).
 * - Failures are never silent and never hang: every command rejects with RealtimeError
 *   'UNAVAILABLE' while Redis is unreachable or once it left a command unanswered for
 *   `commandTimeoutMs`; live handlers keep their subscriptions and resume when it is back.
 * - An origin (publish's `except`) is kept with its process, in the live message and the
 *   stream, and handed on only in that process, live or filled in from the stream.
 * Must not: know about connections or the wire protocol; keep anything per channel but the
 * feeds of channels that have live handlers here.
 */
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../realtime/clock.js';
import type { Engine, EnginePublication, EnginePublishResult, HistoryResult, LiveHandler, PublishOptions } from '../realtime/engine.js';
import type { Position } from '../realtime/protocol.js';
import { RealtimeError } from '../realtime/realtime-error.js';
import type { SessionStore } from '../realtime/session-store.js';
import { commandTimeoutOf, DEFAULT_COMMAND_TIMEOUT_MS } from './command-timeout.js';
import { LiveSequencer, type FeedHistory } from './live-sequencer.js';
import { HISTORY_SCRIPT, PUBLISH_SCRIPT } from './redis-engine-scripts.js';
import { makeRedisLink, type RedisLink, type ShardedListener } from './redis-link.js';
import { redisUnavailable } from './redis-unavailable.js';
import { ScriptRunner } from './script-runner.js';

export interface RedisEngineOptions {
  /** One Redis. Default 'redis://127.0.0.1:6379' (ignored with `clusterUrls`). */
  url?: string;
  /** A Redis Cluster: URLs of one or more of its nodes. */
  clusterUrls?: string[];
  /** Prepended to every key and channel, so that applications can share one Redis. Default 'fdx:'. */
  keyPrefix?: string;
  /** Hash-tagged partitions channels are spread over; fixed for the life of the data. Default 64. */
  partitions?: number;
  /** Publications kept per channel. Default 100. */
  historySize?: number;
  /** How long a publication stays in history, in ms. Default 300000 (5 minutes). */
  historyTtlMs?: number;
  /** How long a channel's offset and epoch outlive its last publication, in ms. Default 86400000. */
  metaTtlMs?: number;
  /** How long a publish key is remembered, in ms. Default 120000. */
  idempotencyWindowMs?: number;
  /** Longest wait between two reconnection attempts, in ms. Default 2000. */
  maxReconnectDelayMs?: number;
  /**
   * Longest wait for Redis to answer a command, in ms: past it the call rejects with
   * UNAVAILABLE (a publish that timed out may still take effect). Default 5000.
   */
  commandTimeoutMs?: number;
  clock?: Clock;
}

export const REDIS_ENGINE_DEFAULTS = {
  url: 'redis://127.0.0.1:6379',
  keyPrefix: 'fdx:',
  partitions: 64,
  historySize: 100,
  historyTtlMs: 300_000,
  metaTtlMs: 86_400_000,
  idempotencyWindowMs: 120_000,
  maxReconnectDelayMs: 2000,
  commandTimeoutMs: DEFAULT_COMMAND_TIMEOUT_MS,
} as const;

interface Feed {
  handlers: Set<LiveHandler>;
  sequencer: LiveSequencer;
  started: Promise<void>;
  /** The partition subscription this feed counts in, once it asked for one. */
  partition?: PartitionSubscription;
}

/** A partition's sharded subscription, shared by the channels of it that have feeds here. */
interface PartitionSubscription {
  channels: number;
  ready: Promise<void>;
}

type Settings = Omit<Required<RedisEngineOptions>, 'url' | 'clusterUrls' | 'clock'>;

export class RedisEngine implements Engine {
  readonly #settings: Settings;
  readonly #clock: Clock;
  readonly #link: RedisLink;
  readonly #scripts: ScriptRunner;
  /** This engine's id among every process's: origins are kept as `<process>/<connection id>`. */
  readonly #process = newEpoch();
  readonly #feeds = new Map<string, Feed>();
  readonly #partitions = new Map<number, PartitionSubscription>();
  readonly #connected: Promise<void>;
  #lastError: unknown;
  #closed = false;
  readonly #onMessage: ShardedListener = (message) => this.#receive(message);

  constructor(options: RedisEngineOptions = {}) {
    const partitions = options.partitions ?? REDIS_ENGINE_DEFAULTS.partitions;
    if (!Number.isSafeInteger(partitions) || partitions < 1) throw new RangeError('partitions must be a positive integer');
    this.#settings = {
      keyPrefix: options.keyPrefix ?? REDIS_ENGINE_DEFAULTS.keyPrefix,
      partitions,
      historySize: options.historySize ?? REDIS_ENGINE_DEFAULTS.historySize,
      historyTtlMs: options.historyTtlMs ?? REDIS_ENGINE_DEFAULTS.historyTtlMs,
      metaTtlMs: options.metaTtlMs ?? REDIS_ENGINE_DEFAULTS.metaTtlMs,
      idempotencyWindowMs: options.idempotencyWindowMs ?? REDIS_ENGINE_DEFAULTS.idempotencyWindowMs,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? REDIS_ENGINE_DEFAULTS.maxReconnectDelayMs,
      commandTimeoutMs: commandTimeoutOf(options.commandTimeoutMs),
    };
    this.#clock = options.clock ?? systemClock;
    const link = makeRedisLink({
      url: options.url ?? REDIS_ENGINE_DEFAULTS.url,
      ...(options.clusterUrls ? { clusterUrls: options.clusterUrls } : {}),
      maxReconnectDelayMs: this.#settings.maxReconnectDelayMs,
      commandTimeoutMs: this.#settings.commandTimeoutMs,
      onError: (error) => {
        this.#lastError = error;
      },
    });
    this.#link = link;
    this.#scripts = new ScriptRunner(link);
    link.onReconnect(() => {
      for (const feed of this.#feeds.values()) feed.sequencer.heal();
    });
    this.#connected = link.connect();
    // A first connection that fails is reported by the first call that needs Redis.
    this.#connected.catch((error: unknown) => {
      this.#lastError = error;
    });
  }

  /**
   * Resolves once Redis was reached; rejects with UNAVAILABLE if the first attempt failed or
   * got no answer within `commandTimeoutMs` and Redis is still not reached.
   */
  async ready(): Promise<void> {
    if (this.#link.isReady) return;
    await this.#connected.catch((error: unknown) => {
      throw redisUnavailable(error);
    });
  }

  async publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<EnginePublishResult> {
    await this.#usable();
    const keys = this.#keys(channel);
    const origin = options.origin === undefined ? '' : `${this.#process}/${options.origin}`;
    const header = JSON.stringify(channel) + ',' + JSON.stringify(origin || null) + ',' + JSON.stringify(options.latest ?? null);
    const scriptKeys = [keys.meta, keys.stream, keys.live];
    if (options.key !== undefined) scriptKeys.push(`${keys.tag}:k:${channel.length}:${channel}:${options.key}`);
    const s = this.#settings;
    const reply = (await this.#command(() =>
      this.#scripts.run(PUBLISH_SCRIPT, scriptKeys, [
        storedForm(data),
        header,
        String(s.historySize),
        String(s.historyTtlMs),
        String(Math.max(s.metaTtlMs, s.historyTtlMs)),
        String(s.idempotencyWindowMs),
        newEpoch(),
        origin,
      ]),
    )) as [string, string, number];
    const [offset, epoch, duplicate] = reply;
    const result = { offset: String(offset), epoch: String(epoch), duplicate: Number(duplicate) === 1 };
    if (!result.duplicate) {
      const feed = this.#feeds.get(channel);
      if (feed) {
        const publication: EnginePublication = { channel, offset: result.offset, epoch: result.epoch, data };
        if (options.origin !== undefined) publication.origin = options.origin;
        if (options.latest !== undefined) publication.latest = options.latest;
        feed.sequencer.offer(publication);
      }
    }
    return result;
  }

  async subscribe(channel: string, handler: LiveHandler): Promise<() => Promise<void>> {
    await this.#usable();
    let feed = this.#feeds.get(channel);
    if (!feed) {
      const handlers = new Set<LiveHandler>();
      const sequencer = new LiveSequencer(channel, (since) => this.#history(channel, since, true), (publication) => this.#handOn(handlers, publication), { clock: this.#clock });
      const made: Feed = { handlers, sequencer, started: Promise.resolve() };
      made.started = this.#startFeed(channel, made);
      feed = made;
      this.#feeds.set(channel, feed);
    }
    feed.handlers.add(handler);
    try {
      await feed.started;
    } catch (error) {
      this.#drop(channel, feed, handler);
      throw redisUnavailable(error);
    }
    const subscribed = feed;
    let stopped = false;
    return async () => {
      if (stopped) return;
      stopped = true;
      this.#drop(channel, subscribed, handler);
    };
  }

  async history(channel: string, since?: Position): Promise<HistoryResult> {
    await this.#usable();
    const result = await this.#history(channel, since ?? { offset: '', epoch: '' });
    return since ? result : { ...result, recovered: true };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const feed of this.#feeds.values()) feed.sequencer.stop();
    this.#feeds.clear();
    this.#partitions.clear();
    await this.#connected.catch(() => undefined);
    await this.#link.close();
  }

  /**
   * Resumable sessions kept in the same Redis (for RealtimeServer's `sessions`): one string key
   * per session, `<keyPrefix>session:<id>`, holding its channels as JSON, expiring with it.
   */
  sessionStore(): SessionStore {
    const key = (id: string): string => `${this.#settings.keyPrefix}session:${id}`;
    return {
      load: async (id) => {
        const text = await this.#command(() => this.#link.run(key(id), ['GET', key(id)]));
        if (typeof text !== 'string') return undefined;
        const channels: unknown = JSON.parse(text);
        return Array.isArray(channels) ? channels.filter((c): c is string => typeof c === 'string') : undefined;
      },
      save: async (id, channels, ttlMs) => {
        await this.#command(() => this.#link.run(key(id), ['SET', key(id), JSON.stringify(channels), 'PX', String(Math.max(1, Math.round(ttlMs)))]));
      },
    };
  }

  /** Channels with live handlers here (for tests and metrics). */
  get channelCount(): number {
    return this.#feeds.size;
  }

  /** Gaps the live feeds could not fill because history no longer held them. */
  get unhealedGaps(): number {
    let total = 0;
    for (const feed of this.#feeds.values()) total += feed.sequencer.unhealedGaps;
    return total;
  }

  async #startFeed(channel: string, feed: Feed): Promise<void> {
    feed.partition = this.#subscribePartition(this.#partitionOf(channel));
    await feed.partition.ready;
    await feed.sequencer.start();
  }

  #drop(channel: string, feed: Feed, handler: LiveHandler): void {
    feed.handlers.delete(handler);
    if (feed.handlers.size > 0 || this.#feeds.get(channel) !== feed) return;
    this.#feeds.delete(channel);
    feed.sequencer.stop();
    if (feed.partition) this.#unsubscribePartition(this.#partitionOf(channel), feed.partition);
  }

  #subscribePartition(partition: number): PartitionSubscription {
    let subscription = this.#partitions.get(partition);
    if (!subscription) {
      const made: PartitionSubscription = { channels: 0, ready: this.#link.sSubscribe(this.#liveChannel(partition), this.#onMessage) };
      made.ready.catch(() => {
        if (this.#partitions.get(partition) === made) this.#partitions.delete(partition);
      });
      // A subscription that timed out may still be made when Redis answers; it then only brings
      // messages #receive drops (no feed), until the partition is subscribed and left again.
      subscription = made;
      this.#partitions.set(partition, subscription);
    }
    subscription.channels++;
    return subscription;
  }

  /** Leaves `subscription` (if it is still the partition's: a failed one was replaced). */
  #unsubscribePartition(partition: number, subscription: PartitionSubscription): void {
    if (this.#partitions.get(partition) !== subscription || --subscription.channels > 0) return;
    this.#partitions.delete(partition);
    subscription.ready.then(() => this.#link.sUnsubscribe(this.#liveChannel(partition), this.#onMessage)).catch(() => undefined);
  }

  #receive(message: string): void {
    let parsed: [number, string, string, string | null, string | null, unknown, 1?];
    try {
      parsed = JSON.parse(message);
    } catch {
      return; // Not ours: someone else published on the partition's channel.
    }
    if (!Array.isArray(parsed) || parsed.length < 6 || parsed.length > 7) return;
    const [offset, epoch, channel, origin, latest, data, binary] = parsed;
    const feed = this.#feeds.get(channel);
    if (!feed) return;
    const publication: EnginePublication = { channel, offset: String(offset), epoch, data: binary === 1 ? fromStoredForm(String(data)) : data };
    const local = this.#localOrigin(origin);
    if (local !== undefined) publication.origin = local;
    if (latest !== null) publication.latest = latest;
    feed.sequencer.offer(publication);
  }

  #handOn(handlers: Set<LiveHandler>, publication: EnginePublication): void {
    for (const handler of handlers) {
      try {
        handler(publication);
      } catch (error) {
        // Thrown inside the client's reply parser, it would corrupt the connection.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /**
   * The history script; `since.offset` '' asks for the position only. `withOrigins` (for the
   * live feeds' fills, never for clients) keeps the origins that are connections of this process.
   */
  async #history(channel: string, since: Position = { offset: '', epoch: '' }, withOrigins = false): Promise<FeedHistory> {
    const keys = this.#keys(channel);
    const s = this.#settings;
    const reply = (await this.#command(() =>
      this.#scripts.run(HISTORY_SCRIPT, [keys.meta, keys.stream], [
        since.offset,
        since.epoch,
        String(s.historyTtlMs),
        String(Math.max(s.metaTtlMs, s.historyTtlMs)),
        newEpoch(),
      ]),
    )) as unknown[];
    const position = { offset: String(reply[0]), epoch: String(reply[1]) };
    const publications: FeedHistory['publications'] = [];
    for (let i = 3; i + 2 < reply.length; i += 3) {
      const publication: FeedHistory['publications'][number] = { offset: String(reply[i]), data: fromStoredForm(String(reply[i + 1])) };
      const origin = withOrigins ? this.#localOrigin(String(reply[i + 2])) : undefined;
      if (origin !== undefined) publication.origin = origin;
      publications.push(publication);
    }
    return { recovered: Number(reply[2]) === 1, position, publications };
  }

  /** The connection id of a kept origin if that connection is this process's. */
  #localOrigin(origin: string | null): string | undefined {
    return origin && origin.startsWith(`${this.#process}/`) ? origin.slice(this.#process.length + 1) : undefined;
  }

  #keys(channel: string): { tag: string; meta: string; stream: string; live: string } {
    const tag = `${this.#settings.keyPrefix}{p${this.#partitionOf(channel)}}`;
    return { tag, meta: `${tag}:m:${channel}`, stream: `${tag}:s:${channel}`, live: `${tag}:live` };
  }

  #liveChannel(partition: number): string {
    return `${this.#settings.keyPrefix}{p${partition}}:live`;
  }

  /** FNV-1a over the channel's UTF-16 code units: stable across processes and restarts. */
  #partitionOf(channel: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < channel.length; i++) {
      hash ^= channel.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    return (hash >>> 0) % this.#settings.partitions;
  }

  async #usable(): Promise<void> {
    if (this.#closed) throw new RealtimeError('UNAVAILABLE', 'the engine is closed');
    await this.ready();
  }

  async #command<T>(run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new RealtimeError('UNAVAILABLE', 'the engine is closed');
    if (!this.#link.isReady) throw redisUnavailable(this.#lastError);
    try {
      return await run();
    } catch (error) {
      throw redisUnavailable(error);
    }
  }
}

/** A fresh epoch: 9 random characters, different for every history that starts. */
function newEpoch(): string {
  return randomBytes(7).toString('base64url').slice(0, 9);
}

/** Data as the stream keeps it: JSON text, or bytes as 'b' and their base64 (no JSON text starts with 'b'). */
function storedForm(data: unknown): string {
  return data instanceof Uint8Array ? 'b' + Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') : (JSON.stringify(data) ?? 'null');
}

function fromStoredForm(stored: string): unknown {
  return stored.startsWith('b') ? new Uint8Array(Buffer.from(stored.slice(1), 'base64')) : JSON.parse(stored);
}
