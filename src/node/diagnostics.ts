/**
 * What the library publishes on node:diagnostics_channel (the names are listed in the README,
 * "Metrics"): events as they happen (handshakes, connections, backpressure actions, topic and
 * broker publications, and the real-time layer's events through `realtimeDiagnostics`), and
 * answers to `fullduplex:collect`, the pull a metrics reader publishes when it wants numbers
 * (process-wide traffic totals, and each server's gauges).
 * Per-message numbers are plain additions to the process-wide `traffic` totals: no message is
 * built for them, whoever listens. Other events are built only when their channel has
 * subscribers.
 * Must not: keep state per connection, add fields to WebSocket or WebSocketServer, or cost
 * anything but a few additions per message.
 */
import dc from 'node:diagnostics_channel';
import type { Broker } from '../broker/broker.js';

/** Smallest size of each bucket: a size n counts in bucket `32 - Math.clz32(n)` (0, 1, 2-3, 4-7, ...). */
const SIZE_BUCKETS = 33;

/** Process-wide totals, counted on the hot paths (payload bytes, before compression). */
export const traffic = {
  messagesIn: 0,
  bytesIn: 0,
  messagesOut: 0,
  bytesOut: 0,
  /** Bytes given to deflate and what came out; bytes given to inflate and what came out. */
  deflateIn: 0,
  deflateOut: 0,
  inflateIn: 0,
  inflateOut: 0,
  sizesIn: new Float64Array(SIZE_BUCKETS),
  sizesOut: new Float64Array(SIZE_BUCKETS),
};

/** A message of `size` bytes was received (dispatched to the application). */
export function countIn(size: number): void {
  traffic.messagesIn++;
  traffic.bytesIn += size;
  traffic.sizesIn[32 - Math.clz32(size)]!++;
}

/** A message of `size` bytes was queued to be sent. */
export function countOut(size: number): void {
  traffic.messagesOut++;
  traffic.bytesOut += size;
  traffic.sizesOut[32 - Math.clz32(size)]!++;
}

/** What one WebSocketServer adds to a collect request. */
export interface ServerGauges {
  connections: number;
  sendBufferBytes: number;
  topics: number;
  topicSubscriptions: number;
}

/**
 * The message of `fullduplex:collect`: its publisher makes it empty, each part of the library
 * fills in its numbers synchronously, then the publisher reads it.
 */
export interface CollectRequest {
  traffic?: typeof traffic;
  servers?: ServerGauges[];
  /** One per RealtimeServer: realtime/observer.ts's RealtimeGauges, passed through unread. */
  realtime?: unknown[];
}

export const channels = {
  collect: dc.channel('fullduplex:collect'),
  connectionOpen: dc.channel('fullduplex:connection:open'),
  connectionClose: dc.channel('fullduplex:connection:close'),
  handshakeAccept: dc.channel('fullduplex:handshake:accept'),
  handshakeFail: dc.channel('fullduplex:handshake:fail'),
  backpressure: dc.channel('fullduplex:backpressure'),
  topicPublish: dc.channel('fullduplex:topic:publish'),
  brokerPublish: dc.channel('fullduplex:broker:publish'),
  brokerFailure: dc.channel('fullduplex:broker:failure'),
  realtimePublish: dc.channel('fullduplex:realtime:publish'),
  realtimePublishFailure: dc.channel('fullduplex:realtime:publish-failure'),
  realtimeRecovery: dc.channel('fullduplex:realtime:recovery'),
  realtimeAckTimeout: dc.channel('fullduplex:realtime:ack-timeout'),
  realtimePresence: dc.channel('fullduplex:realtime:presence'),
} as const;

channels.collect.subscribe((message) => {
  (message as CollectRequest).traffic = traffic;
});

/** Adds one part's gauges to every collect request until the returned function is called. */
export function answerCollect(fill: (request: CollectRequest) => void): () => void {
  const listener = (message: unknown): void => fill(message as CollectRequest);
  channels.collect.subscribe(listener);
  return () => {
    channels.collect.unsubscribe(listener);
  };
}

/** A broker whose publications (and their failures) are published as diagnostics events. */
export function observedBroker(broker: Broker): Broker {
  return {
    publish(channel, data) {
      const published = broker.publish(channel, data);
      if (channels.brokerPublish.hasSubscribers) channels.brokerPublish.publish({ channel, bytes: data.length });
      if (channels.brokerFailure.hasSubscribers) {
        published.catch((error: Error & { code?: string }) => channels.brokerFailure.publish({ channel, code: error.code ?? 'ERROR' }));
      }
      return published;
    },
    subscribe: (channel, handler) => broker.subscribe(channel, handler),
    unsubscribe: (channel) => broker.unsubscribe(channel),
    close: () => broker.close(),
  };
}

/**
 * The real-time layer's observer port (realtime/observer.ts) connected to diagnostics
 * channels; fullduplex/realtime gives it to every RealtimeServer.
 */
export const realtimeDiagnostics = {
  published(channel: string): void {
    if (channels.realtimePublish.hasSubscribers) channels.realtimePublish.publish({ channel });
  },
  publishFailed(channel: string, code: string): void {
    if (channels.realtimePublishFailure.hasSubscribers) channels.realtimePublishFailure.publish({ channel, code });
  },
  recovery(channel: string, recovered: boolean): void {
    if (channels.realtimeRecovery.hasSubscribers) channels.realtimeRecovery.publish({ channel, recovered });
  },
  ackTimedOut(side: 'client' | 'handler'): void {
    if (channels.realtimeAckTimeout.hasSubscribers) channels.realtimeAckTimeout.publish({ side });
  },
  presence(channel: string, members: number): void {
    if (channels.realtimePresence.hasSubscribers) channels.realtimePresence.publish({ channel, members });
  },
  gauges(read: () => unknown): () => void {
    return answerCollect((request) => (request.realtime ??= []).push(read()));
  },
};
