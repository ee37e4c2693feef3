/**
 * A Broker that passes everything through to another and remembers, per channel, the promise of
 * the subscription in effect. The WebSocket server subscribes its broker to a topic when the
 * topic gets its first local subscriber, without saying when the broker confirmed it; the chat
 * waits for that confirmation before telling a member "you are in the room", so that from then
 * on the member misses nothing published in the room by any process.
 * Must not: change what reaches the inner broker, or hold a rejection nobody handles.
 */
import type { Broker, BrokerMessageHandler } from 'fullduplex';

export class SubscriptionTracker implements Broker {
  readonly #inner: Broker;
  readonly #subscriptions = new Map<string, Promise<void>>();

  constructor(inner: Broker) {
    this.#inner = inner;
  }

  publish(channel: string, data: Uint8Array): Promise<void> {
    return this.#inner.publish(channel, data);
  }

  subscribe(channel: string, handler: BrokerMessageHandler): Promise<void> {
    const subscribed = this.#inner.subscribe(channel, handler);
    this.#subscriptions.set(channel, subscribed);
    // The caller handles the rejection. A failed subscription is forgotten here: the broker
    // makes it again by itself once it can (RedisBroker does), without telling anyone.
    subscribed.catch(() => {
      if (this.#subscriptions.get(channel) === subscribed) this.#subscriptions.delete(channel);
    });
    return subscribed;
  }

  unsubscribe(channel: string): Promise<void> {
    this.#subscriptions.delete(channel);
    return this.#inner.unsubscribe(channel);
  }

  close(): Promise<void> {
    this.#subscriptions.clear();
    return this.#inner.close();
  }

  /**
   * Settles once the broker confirmed the latest subscription to `channel` (at once if there is
   * none pending); rejects as that subscription did, e.g. with BROKER_UNAVAILABLE while Redis is
   * down, for those who asked before it failed.
   */
  whenSubscribed(channel: string): Promise<void> {
    return this.#subscriptions.get(channel) ?? Promise.resolve();
  }
}
