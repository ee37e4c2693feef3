/**
 * The diagnostics channels the library publishes on, by name (node:diagnostics_channel), and
 * the shape of their messages: the contract between the library and this layer, which listens
 * by name only. The README's "Metrics" section lists the same table.
 * Must not: import the library's other layers (metrics/ listens; it never reaches in).
 */

export const CHANNEL_NAMES = {
  /** A pull: the reader publishes an empty CollectRequest, the library fills it in synchronously. */
  collect: 'fullduplex:collect',
  connectionOpen: 'fullduplex:connection:open',
  connectionClose: 'fullduplex:connection:close',
  handshakeAccept: 'fullduplex:handshake:accept',
  handshakeFail: 'fullduplex:handshake:fail',
  backpressure: 'fullduplex:backpressure',
  topicPublish: 'fullduplex:topic:publish',
  brokerPublish: 'fullduplex:broker:publish',
  brokerFailure: 'fullduplex:broker:failure',
  realtimePublish: 'fullduplex:realtime:publish',
  realtimePublishFailure: 'fullduplex:realtime:publish-failure',
  realtimeRecovery: 'fullduplex:realtime:recovery',
  realtimeAckTimeout: 'fullduplex:realtime:ack-timeout',
  realtimePresence: 'fullduplex:realtime:presence',
} as const;

/** Process-wide totals the Node layer adds to a collect request. */
export interface TrafficTotals {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
  deflateIn: number;
  deflateOut: number;
  inflateIn: number;
  inflateOut: number;
  /** Messages by size: index i counts sizes n with 32 - clz32(n) === i (0, 1, 2-3, 4-7, ...). */
  sizesIn: ArrayLike<number>;
  sizesOut: ArrayLike<number>;
}

export interface ServerGauges {
  connections: number;
  sendBufferBytes: number;
  topics: number;
  topicSubscriptions: number;
}

export interface RealtimeGauges {
  connections: number;
  channels: number;
  subscriptions: number;
  busiest: Array<{ channel: string; subscribers: number }>;
}

export interface CollectRequest {
  traffic?: TrafficTotals;
  servers?: ServerGauges[];
  realtime?: RealtimeGauges[];
}
