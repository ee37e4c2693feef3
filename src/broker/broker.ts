/**
 * The Broker port: how servers in many processes share publications. Any broker reduces to
 * publishing bytes on a channel and a callback for what arrives; envelopes, origin filtering
 * and delivery to sockets are written once above this port (pubsub/pubsub.ts).
 * Must not: know about WebSockets (its one import is the error family of the bottom layer).
 */

export type BrokerMessageHandler = (data: Uint8Array) => void;

export interface Broker {
  /**
   * Publishes `data` on `channel` to every subscriber in every process, this one included.
   * Resolves once the broker took the message; rejects with a BrokerError (code
   * 'BROKER_UNAVAILABLE' or 'BROKER_CLOSED') when it could not: a failure is never silent.
   */
  publish(channel: string, data: Uint8Array): Promise<void>;
  /**
   * Calls `handler` for each message published on `channel` from now on, in publication order
   * per publisher. One handler per channel per broker instance; subscribing again replaces it.
   * Survives reconnections: the broker resubscribes by itself.
   */
  subscribe(channel: string, handler: BrokerMessageHandler): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** Releases connections; later calls reject with BROKER_CLOSED. */
  close(): Promise<void>;
}

/** BrokerError belongs to the error family (protocol/errors.ts); re-exported for the port's users. */
export { BrokerError, BROKER_ERRORS, type BrokerErrorCode } from '../protocol/errors.js';
