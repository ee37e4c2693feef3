/**
 * Topics of one server: membership (indexed once, in Membership), local delivery of
 * publications, and the bridge to a Broker so that publications reach subscribers in other
 * processes. Runtime-agnostic: subscribers are opaque, and what a publication becomes on the wire
 * (framed and compressed once) is the caller's `prepare`, how it reaches one subscriber (under
 * that subscriber's backpressure) the caller's `deliver`.
 *
 * Broker channels live in a namespace of their own: topic T is channel `channelPrefix + T`
 * (default `fdx:topic:`), so other users of the same broker (an application's own channels, the
 * real-time layer) never collide with topics. Publications cross the broker in an envelope
 * (./envelope.ts) that names this PubSub, which skips its own.
 *
 * Invariants: a topic has a broker subscription exactly while it has local subscribers; a
 * broker failure is never silent (a callback, an awaiting caller, or onBrokerError learns it).
 * Must not: import node:* or anything but the broker port; frame, compress or write bytes.
 */
import type { Broker } from '../broker/broker.js';
import { decodeEnvelope, encodeEnvelope, newOriginId, sameOrigin } from './envelope.js';
import { Membership } from './membership.js';

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

/** The namespace of topic channels on a broker, unless the `channelPrefix` option says otherwise. */
export const DEFAULT_CHANNEL_PREFIX = 'fdx:topic:';

export interface PubSubOptions<S, M> {
  broker?: Broker | null;
  /** Prepended to each topic to name its broker channel. Default DEFAULT_CHANNEL_PREFIX. */
  channelPrefix?: string;
  /** Makes the one message every local subscriber of a publication gets. */
  prepare(payload: Uint8Array, binary: boolean, compress: boolean): M;
  /** Hands `message` to one subscriber. */
  deliver(subscriber: S, message: M, key: string | undefined): SendResult;
  /** A broker operation failed and nobody else was told (no callback, nobody awaiting). */
  onBrokerError(error: Error, topic: string): void;
}

/** A broker subscription not yet confirmed. */
interface PendingSubscription {
  readonly confirmed: Promise<void>;
  /** Someone awaits it: a failure is theirs to handle, not onBrokerError's. */
  awaited: boolean;
}

type PublishCallback = (error: Error | null) => void;

const RESOLVED: Promise<void> = Promise.resolve();

export class PubSub<S, M> {
  readonly broker: Broker | null;
  readonly channelPrefix: string;
  readonly #members = new Membership<S>();
  readonly #origin = newOriginId();
  readonly #pending = new Map<string, PendingSubscription>();
  readonly #prepare: PubSubOptions<S, M>['prepare'];
  readonly #deliver: PubSubOptions<S, M>['deliver'];
  readonly #onBrokerError: PubSubOptions<S, M>['onBrokerError'];

  constructor(options: PubSubOptions<S, M>) {
    this.broker = options.broker ?? null;
    this.channelPrefix = options.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
    this.#prepare = options.prepare;
    this.#deliver = options.deliver;
    this.#onBrokerError = options.onBrokerError;
  }

  /** The broker channel of `topic`. */
  channelOf(topic: string): string {
    return this.channelPrefix + topic;
  }

  /**
   * Adds `subscriber` to `topic`; false if it was there already. The first local subscriber
   * of a topic subscribes the broker to its channel (confirmation: `subscribeAsync`).
   */
  subscribe(subscriber: S, topic: string): boolean {
    if (!this.#members.add(subscriber, topic)) return false;
    if (this.broker !== null && this.#members.count(topic) === 1) this.#subscribeChannel(topic);
    return true;
  }

  /**
   * subscribe(), settled once the broker confirmed the topic's channel subscription: at once
   * without a broker or when it is confirmed already. Resolves with subscribe()'s answer;
   * rejects with the broker's error (e.g. a BrokerError BROKER_UNAVAILABLE). The membership
   * stays either way; a broker such as RedisBroker makes the subscription again once it can.
   */
  subscribeAsync(subscriber: S, topic: string): Promise<boolean> {
    const added = this.subscribe(subscriber, topic);
    const pending = this.#pending.get(topic);
    if (pending === undefined) return Promise.resolve(added);
    pending.awaited = true;
    return pending.confirmed.then(() => added);
  }

  /** Removes `subscriber` from `topic`; false if it was not there. */
  unsubscribe(subscriber: S, topic: string): boolean {
    if (!this.#members.remove(subscriber, topic)) return false;
    if (this.#members.count(topic) === 0) this.#unsubscribeChannel(topic);
    return true;
  }

  /** Forgets every subscription of `subscriber` (it closed). */
  unsubscribeAll(subscriber: S): void {
    for (const topic of this.#members.removeAll(subscriber)) {
      if (this.#members.count(topic) === 0) this.#unsubscribeChannel(topic);
    }
  }

  isSubscribed(subscriber: S, topic: string): boolean {
    return this.#members.has(subscriber, topic);
  }

  /** The topics of `subscriber` (live, read-only). */
  topicsOf(subscriber: S): ReadonlySet<string> {
    return this.#members.topicsOf(subscriber);
  }

  /** Local subscribers of `topic`. */
  subscriberCount(topic: string): number {
    return this.#members.count(topic);
  }

  /** Topics with at least one local subscriber. */
  topics(): IterableIterator<string> {
    return this.#members.topics();
  }

  /**
   * Delivers to local subscribers (except `except`) now, and hands the publication to the
   * broker for other processes. `cb` learns whether the broker took it (null at once, in a
   * microtask, without a broker); without `cb` a broker failure goes to onBrokerError.
   */
  publish(topic: string, payload: Uint8Array, options: PublishOptions, except: S | null, cb?: PublishCallback): PublishResult {
    const binary = options.binary ?? false;
    const compress = options.compress ?? true;
    const result = this.#deliverLocally(topic, payload, binary, compress, options.key, except);
    const broker = this.broker;
    if (broker !== null) {
      broker.publish(this.channelOf(topic), encodeEnvelope(this.#origin, binary, compress, payload)).then(
        () => cb?.(null),
        (error: Error) => (cb ? cb(error) : this.#onBrokerError(error, topic)),
      );
    } else if (cb) {
      RESOLVED.then(() => cb(null));
    }
    return result;
  }

  #deliverLocally(
    topic: string,
    payload: Uint8Array,
    binary: boolean,
    compress: boolean,
    key: string | undefined,
    except: S | null,
  ): PublishResult {
    const result: PublishResult = { sent: 0, buffered: 0, dropped: 0 };
    const subscribers = this.#members.subscribersOf(topic);
    if (subscribers === undefined) return result;
    const message = this.#prepare(payload, binary, compress);
    const deliver = this.#deliver;
    for (const subscriber of subscribers) {
      if (subscriber === except) continue;
      result[deliver(subscriber, message, key)]++;
    }
    return result;
  }

  #fromBroker(topic: string, data: Uint8Array): void {
    const envelope = decodeEnvelope(data);
    if (envelope === null) return; // not ours: ignore
    if (sameOrigin(envelope.origin, this.#origin)) return; // delivered locally already
    this.#deliverLocally(topic, envelope.payload, envelope.binary, envelope.compress, undefined, null);
  }

  #subscribeChannel(topic: string): void {
    const confirmed = this.broker!.subscribe(this.channelOf(topic), (data) => this.#fromBroker(topic, data));
    const pending: PendingSubscription = { confirmed, awaited: false };
    this.#pending.set(topic, pending);
    const settle = (): void => {
      if (this.#pending.get(topic) === pending) this.#pending.delete(topic);
    };
    confirmed.then(settle, (error: Error) => {
      settle();
      if (!pending.awaited) this.#onBrokerError(error, topic);
    });
  }

  #unsubscribeChannel(topic: string): void {
    this.broker?.unsubscribe(this.channelOf(topic)).catch((error: Error) => this.#onBrokerError(error, topic));
  }
}
