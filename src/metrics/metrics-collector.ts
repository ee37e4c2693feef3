/**
 * MetricsCollector: listens on the library's diagnostics channels (channel-names.ts), counts
 * their events, pulls the gauges and traffic totals with `fullduplex:collect` when asked, and
 * measures the event loop's delay (perf_hooks.monitorEventLoopDelay). It gives the metric
 * families (metric-family.ts), their Prometheus text, and a JSON snapshot for the admin page.
 * Must not: import other layers of the library, or keep a label per name without bound (names
 * of channels and topics are tracked up to maxTrackedNames; past that they count in the totals
 * only).
 */
import dc from 'node:diagnostics_channel';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { CHANNEL_NAMES, type CollectRequest, type TrafficTotals } from './channel-names.js';
import { renderPrometheusText, type MetricFamily, type Sample } from './metric-family.js';

export interface MetricsCollectorOptions {
  /** Most channel and topic names tracked for "busiest" (each kind). Default 1000. */
  maxTrackedNames?: number;
  /** Period of the event-loop delay window the quantiles describe, in ms. Default 10000. */
  eventLoopWindowMs?: number;
}

export const METRICS_DEFAULTS = { maxTrackedNames: 1000, eventLoopWindowMs: 10_000 } as const;

/** The numbers of one moment, for the admin page (JSON). */
export interface MetricsSnapshot {
  at: number;
  connections: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  sendBufferBytes: number;
  handshakes: number;
  handshakeFailures: number;
  topics: number;
  topicSubscriptions: number;
  realtimeConnections: number;
  realtimeChannels: number;
  realtimeSubscriptions: number;
  presenceMembers: number;
  eventLoopLagP99Ms: number;
  /** Channels by subscribers, channels and topics by publications counted since the start. */
  busiestChannels: Array<{ channel: string; subscribers: number; publications: number }>;
  busiestTopics: Array<{ topic: string; publications: number }>;
}

/** Upper bounds (le) of the message-size histogram: 2^k - 1 for k = 4, 6, ... 24 (size buckets are powers of two). */
const SIZE_BOUNDS = [4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24];

type Listener = (message: unknown) => void;

const countBy = (map: Map<string, number>, key: string, by = 1): void => {
  map.set(key, (map.get(key) ?? 0) + by);
};

export class MetricsCollector {
  readonly #maxTrackedNames: number;
  readonly #listeners: Array<[string, Listener]> = [];
  readonly #delay: IntervalHistogram;
  readonly #rotation: NodeJS.Timeout;
  /** Event-loop delay quantiles (ns) of the last complete window, and totals over all windows. */
  #lagWindow = { p50: 0, p90: 0, p99: 0, max: 0 };
  #lagSumNs = 0;
  #lagCount = 0;
  #handshakes = 0;
  readonly #handshakeFailures = new Map<string, number>();
  #connectionsOpened = 0;
  #connectionsClosed = 0;
  readonly #backpressure = new Map<string, number>();
  #topicPublishes = 0;
  readonly #topicCounts = new Map<string, number>();
  #brokerPublishes = 0;
  readonly #brokerFailures = new Map<string, number>();
  #realtimePublishes = 0;
  readonly #channelCounts = new Map<string, number>();
  readonly #realtimePublishFailures = new Map<string, number>();
  readonly #recoveries = new Map<string, number>([['hit', 0], ['miss', 0]]);
  readonly #ackTimeouts = new Map<string, number>([['client', 0], ['handler', 0]]);
  readonly #presence = new Map<string, number>();
  #closed = false;

  constructor(options: MetricsCollectorOptions = {}) {
    this.#maxTrackedNames = options.maxTrackedNames ?? METRICS_DEFAULTS.maxTrackedNames;
    const on = (name: string, listener: Listener): void => {
      dc.subscribe(name, listener);
      this.#listeners.push([name, listener]);
    };
    const track = (map: Map<string, number>, name: unknown): void => {
      if (typeof name === 'string' && (map.has(name) || map.size < this.#maxTrackedNames)) countBy(map, name);
    };
    on(CHANNEL_NAMES.handshakeAccept, () => this.#handshakes++);
    on(CHANNEL_NAMES.handshakeFail, (m) => countBy(this.#handshakeFailures, String((m as { code?: unknown }).code ?? 'UNKNOWN')));
    on(CHANNEL_NAMES.connectionOpen, () => this.#connectionsOpened++);
    on(CHANNEL_NAMES.connectionClose, () => this.#connectionsClosed++);
    on(CHANNEL_NAMES.backpressure, (m) => {
      const { policy, action } = m as { policy: string; action: string };
      countBy(this.#backpressure, `${policy}\n${action}`);
    });
    on(CHANNEL_NAMES.topicPublish, (m) => {
      this.#topicPublishes++;
      track(this.#topicCounts, (m as { topic?: unknown }).topic);
    });
    on(CHANNEL_NAMES.brokerPublish, () => this.#brokerPublishes++);
    on(CHANNEL_NAMES.brokerFailure, (m) => countBy(this.#brokerFailures, String((m as { code?: unknown }).code ?? 'ERROR')));
    on(CHANNEL_NAMES.realtimePublish, (m) => {
      this.#realtimePublishes++;
      track(this.#channelCounts, (m as { channel?: unknown }).channel);
    });
    on(CHANNEL_NAMES.realtimePublishFailure, (m) => countBy(this.#realtimePublishFailures, String((m as { code?: unknown }).code ?? 'ERROR')));
    on(CHANNEL_NAMES.realtimeRecovery, (m) => countBy(this.#recoveries, (m as { recovered?: unknown }).recovered ? 'hit' : 'miss'));
    on(CHANNEL_NAMES.realtimeAckTimeout, (m) => countBy(this.#ackTimeouts, (m as { side?: unknown }).side === 'handler' ? 'handler' : 'client'));
    on(CHANNEL_NAMES.realtimePresence, (m) => {
      const { channel, members } = m as { channel?: unknown; members?: unknown };
      if (typeof channel !== 'string' || typeof members !== 'number') return;
      if (members <= 0) this.#presence.delete(channel);
      else if (this.#presence.has(channel) || this.#presence.size < this.#maxTrackedNames) this.#presence.set(channel, members);
    });
    this.#delay = monitorEventLoopDelay({ resolution: 10 });
    this.#delay.enable();
    this.#rotation = setInterval(() => this.#rotateLag(), options.eventLoopWindowMs ?? METRICS_DEFAULTS.eventLoopWindowMs);
    this.#rotation.unref();
  }

  /** Stops listening and measuring. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [name, listener] of this.#listeners) dc.unsubscribe(name, listener);
    this.#delay.disable();
    clearInterval(this.#rotation);
  }

  #rotateLag(): void {
    const h = this.#delay;
    if (h.count > 0) {
      this.#lagWindow = { p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99), max: h.max };
      this.#lagSumNs += h.mean * h.count;
      this.#lagCount += h.count;
    }
    h.reset();
  }

  /** The current window's quantiles, or the last complete window's while the current one is empty. */
  #lag(): { p50: number; p90: number; p99: number; max: number; sum: number; count: number } {
    const h = this.#delay;
    const current = h.count > 0 ? { p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99), max: h.max } : this.#lagWindow;
    return { ...current, sum: this.#lagSumNs + (h.count > 0 ? h.mean * h.count : 0), count: this.#lagCount + h.count };
  }

  /** Asks the library for its gauges and totals now. */
  #collect(): { traffic: TrafficTotals | undefined; server: Record<string, number>; realtime: Record<string, number>; busiest: Map<string, number> } {
    const request: CollectRequest = {};
    dc.channel(CHANNEL_NAMES.collect).publish(request);
    const server = { connections: 0, sendBufferBytes: 0, topics: 0, topicSubscriptions: 0 };
    for (const s of request.servers ?? []) {
      server.connections += s.connections;
      server.sendBufferBytes += s.sendBufferBytes;
      server.topics += s.topics;
      server.topicSubscriptions += s.topicSubscriptions;
    }
    const realtime = { connections: 0, channels: 0, subscriptions: 0 };
    const busiest = new Map<string, number>();
    for (const r of request.realtime ?? []) {
      realtime.connections += r.connections;
      realtime.channels += r.channels;
      realtime.subscriptions += r.subscriptions;
      for (const { channel, subscribers } of r.busiest) countBy(busiest, channel, subscribers);
    }
    return { traffic: request.traffic, server, realtime, busiest };
  }

  /** Every metric family, numbers as of now. */
  families(): MetricFamily[] {
    const { traffic, server, realtime } = this.#collect();
    const t = traffic;
    const counter = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'counter', samples: [{ value }] });
    const gauge = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'gauge', samples: [{ value }] });
    const labelled = (name: string, help: string, type: 'counter' | 'gauge', label: string, map: Map<string, number>): MetricFamily => ({
      name,
      help,
      type,
      samples: [...map].map(([key, value]) => ({ labels: { [label]: key }, value })),
    });
    const lag = this.#lag();
    const presence = [...this.#presence.values()].reduce((a, b) => a + b, 0);
    return [
      gauge('fullduplex_connections_open', 'Open WebSocket connections accepted by this process.', server.connections),
      counter('fullduplex_connections_opened_total', 'Connections accepted since metrics started.', this.#connectionsOpened),
      counter('fullduplex_connections_closed_total', 'Accepted connections closed since metrics started.', this.#connectionsClosed),
      counter('fullduplex_handshakes_total', 'Opening handshakes completed (101 sent).', this.#handshakes),
      labelled('fullduplex_handshake_failures_total', 'Opening handshakes refused, by reason (the HandshakeError code).', 'counter', 'reason', this.#handshakeFailures),
      counter('fullduplex_messages_received_total', 'Messages received (server and client connections).', t?.messagesIn ?? 0),
      counter('fullduplex_messages_sent_total', 'Messages queued to be sent (server and client connections).', t?.messagesOut ?? 0),
      counter('fullduplex_received_bytes_total', 'Payload bytes of the messages received (after inflating).', t?.bytesIn ?? 0),
      counter('fullduplex_sent_bytes_total', 'Payload bytes of the messages sent (before deflating).', t?.bytesOut ?? 0),
      sizeHistogram(t),
      {
        name: 'fullduplex_compression_bytes_total',
        help: 'permessage-deflate: bytes given to zlib (stage "input") and produced (stage "output"), by direction.',
        type: 'counter',
        samples: [
          { labels: { direction: 'deflate', stage: 'input' }, value: t?.deflateIn ?? 0 },
          { labels: { direction: 'deflate', stage: 'output' }, value: t?.deflateOut ?? 0 },
          { labels: { direction: 'inflate', stage: 'input' }, value: t?.inflateIn ?? 0 },
          { labels: { direction: 'inflate', stage: 'output' }, value: t?.inflateOut ?? 0 },
        ],
      },
      {
        name: 'fullduplex_compression_ratio',
        help: 'Uncompressed bytes per compressed byte so far (0 before any).',
        type: 'gauge',
        samples: [
          { labels: { direction: 'deflate' }, value: t && t.deflateOut > 0 ? t.deflateIn / t.deflateOut : 0 },
          { labels: { direction: 'inflate' }, value: t && t.inflateIn > 0 ? t.inflateOut / t.inflateIn : 0 },
        ],
      },
      gauge('fullduplex_send_buffer_bytes', 'Bytes waiting to be written to peers, over all accepted connections.', server.sendBufferBytes),
      {
        name: 'fullduplex_backpressure_actions_total',
        help: 'Backpressure actions taken on sends over maxBackpressure, by policy and action (dropped, closed, held, replaced).',
        type: 'counter',
        samples: [...this.#backpressure].map(([key, value]) => {
          const [policy, action] = key.split('\n') as [string, string];
          return { labels: { policy, action }, value };
        }),
      },
      gauge('fullduplex_topics', 'Topics with at least one local subscriber.', server.topics),
      gauge('fullduplex_topic_subscriptions', 'Local topic subscriptions, over all topics.', server.topicSubscriptions),
      counter('fullduplex_topic_publishes_total', 'Publications on topics (wss.publish, ws.publish).', this.#topicPublishes),
      counter('fullduplex_broker_publishes_total', 'Publications handed to a Broker by the topics.', this.#brokerPublishes),
      labelled('fullduplex_broker_failures_total', 'Broker publications that failed, by error code.', 'counter', 'code', this.#brokerFailures),
      gauge('fullduplex_realtime_connections', 'Authenticated real-time (fdx.v1) connections.', realtime.connections),
      gauge('fullduplex_realtime_channels', 'Real-time channels with at least one local subscriber.', realtime.channels),
      gauge('fullduplex_realtime_subscriptions', 'Local real-time subscriptions, over all channels.', realtime.subscriptions),
      counter('fullduplex_realtime_publishes_total', 'Real-time publications taken by the engine (duplicates not counted).', this.#realtimePublishes),
      labelled('fullduplex_realtime_publish_failures_total', 'Real-time publications the engine refused, by error code.', 'counter', 'code', this.#realtimePublishFailures),
      labelled('fullduplex_realtime_recoveries_total', 'Subscriptions that asked to recover: hit (all recovered) or miss.', 'counter', 'result', this.#recoveries),
      labelled('fullduplex_realtime_ack_timeouts_total', 'Requests that timed out: side "client" (no reply to the server), "handler" (the handler did not reply).', 'counter', 'side', this.#ackTimeouts),
      gauge('fullduplex_realtime_presence_members', 'Members present, over all channels with presence.', presence),
      {
        name: 'fullduplex_event_loop_lag_seconds',
        help: 'Event-loop delay (perf_hooks.monitorEventLoopDelay): quantiles of the current window, sum and count since the start.',
        type: 'summary',
        samples: [
          { labels: { quantile: '0.5' }, value: lag.p50 / 1e9 },
          { labels: { quantile: '0.9' }, value: lag.p90 / 1e9 },
          { labels: { quantile: '0.99' }, value: lag.p99 / 1e9 },
          { suffix: '_sum', value: lag.sum / 1e9 },
          { suffix: '_count', value: lag.count },
        ],
      },
      gauge('fullduplex_event_loop_lag_max_seconds', 'Largest event-loop delay of the current window.', lag.max / 1e9),
    ];
  }

  /** The metrics in the Prometheus text format. */
  text(): string {
    return renderPrometheusText(this.families());
  }

  /** The numbers the admin page shows. */
  snapshot(): MetricsSnapshot {
    const { traffic, server, realtime, busiest } = this.#collect();
    const byCount = <T>(entries: Iterable<[string, number]>, make: (name: string, n: number) => T): T[] =>
      [...entries].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([name, n]) => make(name, n));
    const channels = new Map(busiest);
    for (const [channel] of byCount(this.#channelCounts, (c, n) => [c, n] as [string, number])) if (!channels.has(channel)) channels.set(channel, 0);
    return {
      at: Date.now(),
      connections: server.connections,
      messagesIn: traffic?.messagesIn ?? 0,
      messagesOut: traffic?.messagesOut ?? 0,
      bytesIn: traffic?.bytesIn ?? 0,
      bytesOut: traffic?.bytesOut ?? 0,
      sendBufferBytes: server.sendBufferBytes,
      handshakes: this.#handshakes,
      handshakeFailures: [...this.#handshakeFailures.values()].reduce((a, b) => a + b, 0),
      topics: server.topics,
      topicSubscriptions: server.topicSubscriptions,
      realtimeConnections: realtime.connections,
      realtimeChannels: realtime.channels,
      realtimeSubscriptions: realtime.subscriptions,
      presenceMembers: [...this.#presence.values()].reduce((a, b) => a + b, 0),
      eventLoopLagP99Ms: this.#lag().p99 / 1e6,
      busiestChannels: [...channels]
        .map(([channel, subscribers]) => ({ channel, subscribers, publications: this.#channelCounts.get(channel) ?? 0 }))
        .sort((a, b) => b.subscribers - a.subscribers || b.publications - a.publications)
        .slice(0, 10),
      busiestTopics: byCount(this.#topicCounts, (topic, publications) => ({ topic, publications })),
    };
  }
}

/** Message sizes in both directions as one histogram, from the power-of-two counts. */
function sizeHistogram(traffic: TrafficTotals | undefined): MetricFamily {
  const samples: Sample[] = [];
  for (const [direction, sizes, count, sum] of [
    ['in', traffic?.sizesIn, traffic?.messagesIn ?? 0, traffic?.bytesIn ?? 0],
    ['out', traffic?.sizesOut, traffic?.messagesOut ?? 0, traffic?.bytesOut ?? 0],
  ] as const) {
    let cumulative = 0;
    let next = 0;
    for (const k of SIZE_BOUNDS) {
      // Bucket i holds sizes below 2^i: everything up to bucket k is at most 2^k - 1 bytes.
      while (sizes && next <= k && next < sizes.length) cumulative += sizes[next++]!;
      samples.push({ suffix: '_bucket', labels: { direction, le: String(2 ** k - 1) }, value: cumulative });
    }
    samples.push({ suffix: '_bucket', labels: { direction, le: '+Inf' }, value: count });
    samples.push({ suffix: '_sum', labels: { direction }, value: sum });
    samples.push({ suffix: '_count', labels: { direction }, value: count });
  }
  return { name: 'fullduplex_message_size_bytes', help: 'Sizes of messages received (in) and sent (out), in payload bytes.', type: 'histogram', samples };
}
