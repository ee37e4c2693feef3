/**
 * The in-process Broker: the default, and the reference the Redis broker is tested against.
 * Brokers built on one MemoryHub behave like processes sharing one broker server; a broker built
 * without a hub has a private one. Delivery is asynchronous (a microtask per message and
 * subscriber), as it is through a real broker, and keeps publication order: microtasks run in
 * the order they were queued.
 * Must not: deliver synchronously inside publish(), or share bytes between publisher and
 * subscribers (each subscriber gets its own copy, taken at publication time).
 */
import { BrokerError, type Broker, type BrokerMessageHandler } from './broker.js';

/** Receives a copy of each publication on a channel; registered by a MemoryBroker. */
type Receiver = (data: Uint8Array) => void;

/** The shared "server" of a group of MemoryBrokers: channel name -> receivers. */
export class MemoryHub {
  readonly #channels = new Map<string, Set<Receiver>>();

  /** Adds `receiver` to `channel`. Used by MemoryBroker. */
  join(channel: string, receiver: Receiver): void {
    let receivers = this.#channels.get(channel);
    if (!receivers) {
      receivers = new Set();
      this.#channels.set(channel, receivers);
    }
    receivers.add(receiver);
  }

  /** Removes `receiver` from `channel`. Used by MemoryBroker. */
  leave(channel: string, receiver: Receiver): void {
    const receivers = this.#channels.get(channel);
    if (!receivers) return;
    receivers.delete(receiver);
    if (receivers.size === 0) this.#channels.delete(channel);
  }

  /**
   * Queues one delivery per receiver joined now. Bytes are copied here, so a publisher that
   * reuses its buffer after publish() cannot change what subscribers see.
   */
  route(channel: string, data: Uint8Array): void {
    const receivers = this.#channels.get(channel);
    if (!receivers) return;
    for (const receiver of receivers) {
      const copy = new Uint8Array(data);
      queueMicrotask(() => receiver(copy));
    }
  }
}

export class MemoryBroker implements Broker {
  readonly #hub: MemoryHub;
  readonly #handlers = new Map<string, BrokerMessageHandler>();
  readonly #receivers = new Map<string, Receiver>();
  #closed = false;

  constructor(hub: MemoryHub = new MemoryHub()) {
    this.#hub = hub;
  }

  async publish(channel: string, data: Uint8Array): Promise<void> {
    this.#assertOpen();
    this.#hub.route(channel, data);
  }

  async subscribe(channel: string, handler: BrokerMessageHandler): Promise<void> {
    this.#assertOpen();
    this.#handlers.set(channel, handler);
    if (this.#receivers.has(channel)) return;
    // The handler is looked up at delivery time: a message queued before unsubscribe() or a
    // handler replacement goes to whatever is subscribed when it arrives, as with a real broker.
    const receiver: Receiver = (data) => this.#handlers.get(channel)?.(data);
    this.#receivers.set(channel, receiver);
    this.#hub.join(channel, receiver);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#assertOpen();
    this.#handlers.delete(channel);
    const receiver = this.#receivers.get(channel);
    if (!receiver) return;
    this.#receivers.delete(channel);
    this.#hub.leave(channel, receiver);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.clear();
    for (const [channel, receiver] of this.#receivers) this.#hub.leave(channel, receiver);
    this.#receivers.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new BrokerError('BROKER_CLOSED', 'the broker is closed');
  }
}
