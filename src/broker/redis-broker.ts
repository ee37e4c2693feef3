/**
 * The Redis Broker: Redis pub/sub (PUBLISH / SUBSCRIBE) through the official `redis` client,
 * over two connections, because a connection in subscriber mode cannot publish.
 *
 * Invariants:
 * - Bytes in, bytes out: payloads travel as Buffers and subscriptions run in buffer mode.
 * - A failure is never silent: commands are never queued while Redis is unreachable (the
 *   offline queue is off and readiness is checked first), so publish() rejects at once with
 *   BROKER_UNAVAILABLE instead of waiting or dropping the message later; a Redis that is reached
 *   but does not answer fails a command after `commandTimeoutMs` the same way.
 * - An outage never crashes the process: both clients have an 'error' listener, and they
 *   reconnect for ever with a backoff that doubles from 50 ms up to `maxReconnectDelayMs`.
 * - Subscriptions are the broker's own state (`#wanted`); Redis is brought in line with it
 *   after every reconnection, so a subscription outlives any outage.
 * - One publisher connection keeps publication order: Redis runs commands of a connection in
 *   order and pushes messages to a subscriber connection in that order.
 * Must not: know about WebSockets, or import anything but the Broker port and `redis`.
 */
import { createClient } from 'redis';
import { commandTimeoutOf, withTimeout } from '../engine/command-timeout.js';
import { releaseClient } from '../engine/redis-link.js';
import { BrokerError, type Broker, type BrokerMessageHandler } from './broker.js';

/** The part of a node-redis client (v4 and later) the broker uses. */
export interface RedisConnection {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string, listener: (message: Buffer, channel: Buffer) => unknown, bufferMode: true): Promise<unknown>;
  unsubscribe(channel: string, listener: (message: Buffer, channel: Buffer) => unknown, bufferMode: true): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

export interface RedisBrokerOptions {
  /** Where Redis listens; ignored for a connection passed in. Default 'redis://127.0.0.1:6379'. */
  url?: string;
  /** Prepended to every channel name, so that applications can share one Redis. Default 'fdx:'. */
  keyPrefix?: string;
  /**
   * A client to publish with, and one to subscribe with (it must be a distinct connection).
   * Connections passed in stay the caller's: the broker connects them if they are not open yet
   * and never closes them; they should be created with `disableOfflineQueue: true`.
   */
  client?: RedisConnection;
  subscriber?: RedisConnection;
  /** Longest wait between two reconnection attempts. Default 2000. */
  maxReconnectDelayMs?: number;
  /**
   * Longest wait for Redis to answer a publish or a (un)subscription, in ms; past it the call
   * rejects with BROKER_UNAVAILABLE (a publish that timed out may still be delivered). Default 5000.
   */
  commandTimeoutMs?: number;
}

type Listener = (message: Buffer, channel: Buffer) => void;

const FIRST_RECONNECT_DELAY_MS = 50;
/** setTimeout's longest delay. */
const MAX_WAIT_MS = 2 ** 31 - 1;
const noop = (): void => {};

export class RedisBroker implements Broker {
  readonly #publisher: RedisConnection;
  readonly #subscriber: RedisConnection;
  readonly #owned: boolean[];
  readonly #keyPrefix: string;
  readonly #timeoutMs: number;
  /** What the user subscribed to; the listener reads it at delivery time. */
  readonly #wanted = new Map<string, BrokerMessageHandler>();
  /** Channels the subscriber client holds our listener for (and resubscribes after a reconnection). */
  readonly #remote = new Set<string>();
  readonly #listeners = new Map<string, Listener>();
  /** Settle when each connection first became ready or first failed. */
  readonly #publisherStarted: Promise<void>;
  readonly #subscriberStarted: Promise<void>;
  /** Publications waiting for the first connection attempt, in order; undefined once it settled. */
  #publishQueue: Promise<void> | undefined;
  /** Subscription changes run one after the other. */
  #subscriptionChanges: Promise<void> = Promise.resolve();
  #lastError: unknown;
  #closed = false;
  readonly #onError = (error: unknown): void => {
    this.#lastError = error;
  };
  readonly #onSubscriberReady = (): void => {
    for (const channel of new Set([...this.#wanted.keys(), ...this.#remote])) {
      this.#change(() => this.#reconcile(channel)).catch(noop);
    }
  };

  constructor(options: RedisBrokerOptions = {}) {
    const url = options.url ?? 'redis://127.0.0.1:6379';
    const maxDelayMs = options.maxReconnectDelayMs ?? 2000;
    this.#keyPrefix = options.keyPrefix ?? 'fdx:';
    this.#timeoutMs = commandTimeoutOf(options.commandTimeoutMs);
    const make = (): RedisConnection =>
      createClient({
        url,
        disableOfflineQueue: true,
        socket: {
          reconnectStrategy: (retries: number) => Math.min(FIRST_RECONNECT_DELAY_MS * 2 ** retries, maxDelayMs),
        },
      });
    this.#publisher = options.client ?? make();
    this.#subscriber = options.subscriber ?? make();
    if (this.#publisher === this.#subscriber) {
      throw new TypeError('RedisBroker needs two connections: a subscribing connection cannot publish');
    }
    this.#owned = [options.client === undefined, options.subscriber === undefined];
    for (const connection of [this.#publisher, this.#subscriber]) connection.on('error', this.#onError);
    this.#subscriber.on('ready', this.#onSubscriberReady);
    this.#publisherStarted = this.#start(this.#publisher);
    this.#subscriberStarted = this.#start(this.#subscriber);
    const queue = this.#publisherStarted;
    this.#publishQueue = queue;
    void queue.then(() => {
      if (this.#publishQueue === queue) this.#publishQueue = undefined;
    });
  }

  publish(channel: string, data: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    // Copied now: the caller may reuse its buffer as soon as publish() returns.
    const message = Buffer.from(data);
    if (this.#publishQueue === undefined) return this.#send(channel, message);
    // Before the first connection attempt settled: wait for it, keeping the order of calls.
    const sent = this.#publishQueue.then(() => this.#send(channel, message));
    const tail = sent.then(noop, noop);
    this.#publishQueue = tail;
    void tail.then(() => {
      if (this.#publishQueue === tail) this.#publishQueue = undefined;
    });
    return sent;
  }

  /**
   * Resolves once Redis confirmed the subscription. While Redis is unreachable it rejects with
   * BROKER_UNAVAILABLE, yet the subscription stays registered and is made as soon as Redis is
   * back, exactly like the subscriptions that existed before the outage; unsubscribe() drops it.
   */
  subscribe(channel: string, handler: BrokerMessageHandler): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    this.#wanted.set(channel, handler);
    return this.#change(async () => {
      await this.#subscriberStarted;
      await this.#reconcile(channel);
    });
  }

  /** Delivery stops at once; Redis is told now, or after it comes back if it is unreachable. */
  unsubscribe(channel: string): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    this.#wanted.delete(channel);
    return this.#change(() => this.#reconcile(channel)).catch(noop);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wanted.clear();
    this.#subscriber.off('ready', this.#onSubscriberReady);
    if (!this.#owned[1] && this.#subscriber.isReady) {
      await Promise.allSettled([...this.#remote].map((channel) => this.#dropRemote(channel)));
    }
    await Promise.all([
      this.#release(this.#publisher, this.#owned[0]!),
      this.#release(this.#subscriber, this.#owned[1]!),
    ]);
  }

  /**
   * Connects `connection` if needed; settles on its first 'ready' or first 'error', or after
   * `commandTimeoutMs` (a Redis that accepts the connection but never answers).
   */
  #start(connection: RedisConnection): Promise<void> {
    if (connection.isReady) return Promise.resolve();
    const started = new Promise<void>((resolve) => {
      const settle = (): void => {
        clearTimeout(timer);
        connection.off('ready', settle);
        connection.off('error', settle);
        resolve();
      };
      const timer = setTimeout(settle, Math.min(this.#timeoutMs, MAX_WAIT_MS));
      timer.unref?.();
      connection.on('ready', settle);
      connection.on('error', settle);
    });
    if (!connection.isOpen) {
      // A rejection here is a close() during connection; the 'error' listener saw anything else.
      connection.connect().catch(noop);
    }
    return started;
  }

  #send(channel: string, message: Buffer): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (!this.#publisher.isReady) return Promise.reject(this.#unavailableError(this.#lastError));
    return withTimeout(this.#publisher.publish(this.#keyPrefix + channel, message), this.#timeoutMs).then(noop, (error: unknown) => {
      throw this.#failure(error);
    });
  }

  /** Queues a subscription change behind the previous ones; its errors become BrokerErrors. */
  #change(run: () => Promise<void>): Promise<void> {
    const result = this.#subscriptionChanges.then(run).catch((error: unknown) => {
      throw error instanceof BrokerError ? error : this.#failure(error);
    });
    this.#subscriptionChanges = result.then(noop, noop);
    return result;
  }

  /** Brings the Redis subscription of `channel` in line with #wanted. */
  async #reconcile(channel: string): Promise<void> {
    if (this.#closed) return;
    const wanted = this.#wanted.has(channel);
    if (wanted === this.#remote.has(channel)) return;
    if (!this.#subscriber.isReady) {
      // An unsubscription can wait: delivery already stopped, and the next 'ready' finishes it.
      if (wanted) throw this.#unavailableError(this.#lastError);
      return;
    }
    if (wanted) {
      await withTimeout(this.#subscriber.subscribe(this.#keyPrefix + channel, this.#listenerFor(channel), true), this.#timeoutMs);
      this.#remote.add(channel);
    } else {
      await this.#dropRemote(channel);
    }
  }

  async #dropRemote(channel: string): Promise<void> {
    await withTimeout(this.#subscriber.unsubscribe(this.#keyPrefix + channel, this.#listenerFor(channel), true), this.#timeoutMs);
    this.#remote.delete(channel);
    this.#listeners.delete(channel);
  }

  /** One listener per channel for the broker's lifetime, so the client never holds two. */
  #listenerFor(channel: string): Listener {
    let listener = this.#listeners.get(channel);
    if (!listener) {
      listener = (message) => {
        const handler = this.#wanted.get(channel);
        if (!handler) return;
        try {
          handler(message);
        } catch (error) {
          // Thrown inside the client's reply parser, it would corrupt the connection; surface
          // it the way an EventEmitter listener's error surfaces instead.
          queueMicrotask(() => {
            throw error;
          });
        }
      };
      this.#listeners.set(channel, listener);
    }
    return listener;
  }

  async #release(connection: RedisConnection, owned: boolean): Promise<void> {
    if (!owned) {
      connection.off('error', this.#onError);
      return;
    }
    // Graceful (replies to publications already sent are still awaited), unless Redis does not
    // answer the goodbye within commandTimeoutMs.
    await releaseClient(connection, this.#timeoutMs);
    // The 'error' listener stays: a socket torn down above may still report its end.
  }

  #failure(error: unknown): BrokerError {
    return this.#closed ? this.#closedError(error) : this.#unavailableError(error);
  }

  #closedError(cause?: unknown): BrokerError {
    return new BrokerError('BROKER_CLOSED', 'the broker is closed', cause === undefined ? undefined : { cause });
  }

  #unavailableError(cause: unknown): BrokerError {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    return new BrokerError('BROKER_UNAVAILABLE', `Redis is unavailable${reason}`, cause === undefined ? undefined : { cause });
  }
}
