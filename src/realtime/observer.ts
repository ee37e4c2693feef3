/**
 * The Observer port: what the real-time server tells whoever measures it (publications,
 * recoveries, requests that timed out, presence counts), and how its gauges are read.
 * `fullduplex/realtime` connects it to node:diagnostics_channel; tests give a recording fake.
 * Every method is optional and called synchronously; an observer must be cheap and never throw.
 * Must not: import node:* or node/ (the layer is runtime-agnostic).
 */

/** A server's gauges at one moment. */
export interface RealtimeGauges {
  /** Authenticated connections. */
  connections: number;
  /** Channels with at least one local subscriber. */
  channels: number;
  /** Local subscriptions, over all channels. */
  subscriptions: number;
  /** The channels with the most local subscribers, most first (at most 20). */
  busiest: Array<{ channel: string; subscribers: number }>;
}

export interface RealtimeObserver {
  /** A publication on `channel` was taken by the engine. */
  published?(channel: string): void;
  /** The engine refused a publication (code: a RealtimeError code, e.g. UNAVAILABLE). */
  publishFailed?(channel: string, code: string): void;
  /** A subscription asked to recover from a position: all was recovered, or it was not. */
  recovery?(channel: string, recovered: boolean): void;
  /** A request timed out: one the server sent and the client never answered, or a handler's. */
  ackTimedOut?(side: 'client' | 'handler'): void;
  /** `channel` has `members` present (published by presence). */
  presence?(channel: string, members: number): void;
  /** Starts reading the server's gauges when asked; returns how to stop. */
  gauges?(read: () => RealtimeGauges): () => void;
}
