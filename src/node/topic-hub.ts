/**
 * Topics of one server: who is subscribed to what, local delivery of publications (framed once,
 * the same bytes to every subscriber), and the bridge to a Broker so that publications reach
 * subscribers in other processes. Each publication crosses the broker in an envelope that names
 * the publishing server, so a server never delivers its own publication twice.
 *
 * Envelope: [version 1][flags: 1 binary, 2 compress][16 bytes origin id][payload].
 * Must not: know how a connection writes or applies backpressure (WebSocket does).
 */
import { randomFillSync } from 'node:crypto';
import type { Broker } from '../broker/broker.js';
import type { PerMessageDeflateOptions } from './compression/deflate-codec.js';
import { PreparedMessage } from './prepared-message.js';

/** What happened to a message on one connection. */
export type SendResult = 'sent' | 'buffered' | 'dropped';

export interface PublishResult {
  /** Local subscribers the message was written to. */
  sent: number;
  /** Local subscribers for whom it is waiting in a buffer (a 'drain' follows). */
  buffered: number;
  /** Local subscribers for whom it was dropped by their backpressure policy or state. */
  dropped: number;
}

export interface PublishOptions {
  binary?: boolean;
  compress?: boolean;
  /** For the 'latest' backpressure policy: a newer message with the same key replaces this one. */
  key?: string;
}

/** How the hub hands a message to one subscriber (the WebSocket applies its backpressure policy). */
export type Deliver<S> = (subscriber: S, message: PreparedMessage, key: string | undefined) => SendResult;

const VERSION = 1;
const HEADER = 18;

export class TopicHub<S> {
  readonly #topics = new Map<string, Set<S>>();
  readonly #broker: Broker | null;
  readonly #origin = randomFillSync(Buffer.alloc(16));
  readonly #deflate: PerMessageDeflateOptions;
  readonly #onBrokerError: (error: Error, topic: string) => void;
  readonly #send: Deliver<S>;

  constructor(
    broker: Broker | null,
    deflate: PerMessageDeflateOptions,
    send: Deliver<S>,
    onBrokerError: (error: Error, topic: string) => void,
  ) {
    this.#broker = broker;
    this.#send = send;
    this.#deflate = deflate;
    this.#onBrokerError = onBrokerError;
  }

  get broker(): Broker | null {
    return this.#broker;
  }

  /** Adds `subscriber` to `topic`; false if it was there already. */
  subscribe(subscriber: S, topic: string): boolean {
    let set = this.#topics.get(topic);
    if (!set) {
      set = new Set();
      this.#topics.set(topic, set);
      if (this.#broker) {
        this.#broker
          .subscribe(topic, (data) => this.#fromBroker(topic, data))
          .catch((error: Error) => this.#onBrokerError(error, topic));
      }
    }
    if (set.has(subscriber)) return false;
    set.add(subscriber);
    return true;
  }

  unsubscribe(subscriber: S, topic: string): boolean {
    const set = this.#topics.get(topic);
    if (!set || !set.delete(subscriber)) return false;
    if (set.size === 0) {
      this.#topics.delete(topic);
      this.#broker?.unsubscribe(topic).catch((error: Error) => this.#onBrokerError(error, topic));
    }
    return true;
  }

  subscriberCount(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  /** Topics with at least one local subscriber. */
  get topics(): IterableIterator<string> {
    return this.#topics.keys();
  }

  /**
   * Delivers to local subscribers (except `except`) now, and hands the publication to the
   * broker for other processes. The promise settles when the broker took it (or at once
   * without a broker); it rejects with the broker's error, never silently.
   */
  publish(topic: string, payload: Buffer, options: PublishOptions, except: S | null): { result: PublishResult; remote: Promise<void> } {
    const binary = options.binary ?? false;
    const compress = options.compress ?? true;
    const result = this.#deliver(topic, new PreparedMessage(payload, binary, compress, this.#deflate), options.key, except);
    let remote: Promise<void> = Promise.resolve();
    if (this.#broker) {
      const envelope = Buffer.allocUnsafe(HEADER + payload.length);
      envelope[0] = VERSION;
      envelope[1] = (binary ? 1 : 0) | (compress ? 2 : 0);
      this.#origin.copy(envelope, 2);
      payload.copy(envelope, HEADER);
      remote = this.#broker.publish(topic, envelope);
    }
    return { result, remote };
  }

  #deliver(topic: string, message: PreparedMessage, key: string | undefined, except: S | null): PublishResult {
    const result: PublishResult = { sent: 0, buffered: 0, dropped: 0 };
    const set = this.#topics.get(topic);
    if (!set) return result;
    for (const subscriber of set) {
      if (subscriber === except) continue;
      result[this.#send(subscriber, message, key)]++;
    }
    return result;
  }

  #fromBroker(topic: string, data: Uint8Array): void {
    if (data.length < HEADER || data[0] !== VERSION) return; // not ours: ignore
    const envelope = Buffer.from(data.buffer, data.byteOffset, data.length);
    if (this.#origin.equals(envelope.subarray(2, HEADER))) return; // delivered locally already
    const flags = envelope[1]!;
    const message = new PreparedMessage(envelope.subarray(HEADER), (flags & 1) !== 0, (flags & 2) !== 0, this.#deflate);
    this.#deliver(topic, message, undefined, null);
  }

  /** Forgets every subscription of a closed subscriber. */
  removeAll(subscriber: S, topics: Iterable<string>): void {
    for (const topic of topics) this.unsubscribe(subscriber, topic);
  }
}
