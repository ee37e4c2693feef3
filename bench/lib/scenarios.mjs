// The scenarios of `npm run bench`, and the short versions `npm run bench:smoke` runs (the same
// code paths with fewer connections and shorter windows).
//
// kind 'load': connect, start the load, warm up, measure a window, report.
// kind 'idle': connect as fast as allowed (handshakes per second), wait, read the server's
//              memory, then prove every connection is still held with one echo each.
// mode 'echo-topic': echo, and every connection joins one topic when it opens (the common case
//              of pub/sub apps; ws keeps a Set of sockets per topic, as its users do).
// group 'channel': run by the implementations of that group (the real-time layer, plain topics,
//              socket.io), each in its own protocol, with ratios to topics and socket.io; every
//              other scenario runs on the WebSocket servers with ratios to ws and uWS. One load
//              generator: its first connection publishes, all the others subscribe.

// serverCpuUs: CPU time the server spent per message, delivery or handshake. It is fair even
// where the load generator, not the server, limits the rate.
const ECHO_METRICS = [
  { key: 'msgsPerSec', label: 'messages/s', better: 'higher', compare: true },
  { key: 'serverCpuUs', label: 'server CPU µs/msg', better: 'lower', compare: true },
  { key: 'p50Us', label: 'p50 µs', better: 'lower' },
  { key: 'p99Us', label: 'p99 µs', better: 'lower' },
  { key: 'p999Us', label: 'p99.9 µs', better: 'lower' },
];
const FANOUT_METRICS = [
  { key: 'deliveriesPerSec', label: 'deliveries/s', better: 'higher', compare: true },
  { key: 'serverCpuUs', label: 'server CPU µs/delivery', better: 'lower', compare: true },
  { key: 'p50Us', label: 'p50 µs to all', better: 'lower' },
  { key: 'p99Us', label: 'p99 µs to all', better: 'lower' },
];
const IDLE_METRICS = [
  { key: 'rssPerConnKiB', label: 'RSS KiB/conn', better: 'lower', compare: true },
  { key: 'handshakesPerSec', label: 'handshakes/s', better: 'higher', compare: true },
  { key: 'serverCpuUs', label: 'server CPU µs/handshake', better: 'lower', compare: true },
  { key: 'heapPerConnKiB', label: 'JS heap KiB/conn', better: 'lower' },
];
// With permessage-deflate: how small the server made each message (payload bytes received).
const WIRE_BYTES = { key: 'wireBytesPerMsg', label: 'bytes sent/msg', better: 'lower' };
const CAPACITY_METRICS = [
  { key: 'held', label: 'connections held', better: 'higher', compare: true },
  { key: 'rssPerConnKiB', label: 'RSS KiB/conn', better: 'lower', compare: true },
  { key: 'handshakesPerSec', label: 'handshakes/s', better: 'higher' },
];
// acceptMs: from the first connect to the last completed handshake, every connection at once.
const BURST_METRICS = [
  { key: 'acceptMs', label: 'ms to accept all', better: 'lower', compare: true },
  { key: 'held', label: 'connections held', better: 'higher' },
  { key: 'serverCpuUs', label: 'server CPU µs/handshake', better: 'lower', compare: true },
];

// The presence storms: what N members joining one channel cost, against a broadcast per join.
const PRESENCE_METRICS = [
  { key: 'presenceMessages', label: 'presence messages', better: 'lower' },
  { key: 'perJoinMessages', label: 'per-join broadcast (N²)', better: 'lower' },
  { key: 'deliveredMiB', label: 'MiB delivered', better: 'lower' },
  { key: 'serverCpuS', label: 'server CPU s', better: 'lower' },
  { key: 'lastJoinMs', label: 'last join ms', better: 'lower' },
  { key: 'completeMs', label: 'all views complete ms', better: 'lower' },
];

// The channel scenario: how the real-time layer compares with the same fan-out through plain
// topics (its overhead) and through socket.io.
const CHANNEL_REFERENCES = [
  { key: 'vsTopics', id: 'topics', label: '× topics' },
  { key: 'vsSocketio', id: 'socketio', label: '× socket.io' },
];

export const FULL_TIMING = { rounds: 3, capacityRounds: 1, warmupMs: 1000, measureMs: 3000, settleMs: 1000 };
export const SMOKE_TIMING = { rounds: 1, capacityRounds: 1, warmupMs: 150, measureMs: 400, settleMs: 150 };

export function scenarioList({ smoke }) {
  const pick = (full, short) => (smoke ? short : full);
  return [
    {
      id: 'echo-text-32',
      title: 'Echo, 32 B text',
      what: `${pick(100, 8)} connections × ${pick(16, 4)} messages in flight`,
      kind: 'load',
      mode: 'echo',
      deflate: false,
      connections: pick(100, 8),
      load: { kind: 'echo', inflight: pick(16, 4), payload: { type: 'text', size: 32 } },
      metrics: ECHO_METRICS,
    },
    {
      id: 'echo-topic-32',
      title: 'Echo, 32 B text, every connection joined to one topic',
      what: `${pick(100, 8)} connections × ${pick(16, 4)} messages in flight; each connection joined one topic when it opened`,
      kind: 'load',
      mode: 'echo-topic',
      deflate: false,
      connections: pick(100, 8),
      load: { kind: 'echo', inflight: pick(16, 4), payload: { type: 'text', size: 32 } },
      metrics: ECHO_METRICS,
    },
    {
      id: 'echo-binary-16k',
      title: 'Echo, 16 KiB binary',
      what: `${pick(50, 4)} connections × ${pick(4, 2)} messages in flight`,
      kind: 'load',
      mode: 'echo',
      deflate: false,
      connections: pick(50, 4),
      load: { kind: 'echo', inflight: pick(4, 2), payload: { type: 'binary', size: 16384 } },
      metrics: [ECHO_METRICS[0], { key: 'mibPerSec', label: 'MiB/s each way', better: 'higher' }, ...ECHO_METRICS.slice(1)],
    },
    {
      id: 'latency-32',
      title: 'Latency at a steady rate, 32 B text',
      what: `${pick(100, 4)} connections, ${pick('10,000', '500')} messages/s in total, open loop`,
      kind: 'load',
      mode: 'echo',
      deflate: false,
      connections: pick(100, 4),
      load: { kind: 'paced', rate: pick(10_000, 500), payload: { type: 'text', size: 32 } },
      metrics: [...ECHO_METRICS.slice(2), { key: 'maxUs', label: 'max µs', better: 'lower' }],
    },
    {
      id: 'idle-10k',
      title: 'Idle connections: memory and handshakes',
      what: `${pick('10,000', '200')} connections opened (${pick(128, 16)} handshakes at a time), then idle`,
      kind: 'idle',
      mode: 'echo',
      deflate: false,
      connections: pick(10_000, 200),
      concurrency: pick(128, 16),
      metrics: IDLE_METRICS,
    },
    {
      id: 'idle-topic-10k',
      title: 'Idle connections joined to one topic: memory and handshakes',
      what: `${pick('10,000', '200')} connections opened (${pick(128, 16)} handshakes at a time), each joined one topic, then idle`,
      kind: 'idle',
      mode: 'echo-topic',
      deflate: false,
      connections: pick(10_000, 200),
      concurrency: pick(128, 16),
      metrics: IDLE_METRICS,
    },
    {
      id: 'accept-burst-10k',
      title: 'Accepting 10,000 connections at once',
      what: `${pick('10,000', '200')} connections started together (no limit on handshakes at a time), then idle`,
      kind: 'idle',
      mode: 'echo',
      deflate: false,
      connections: pick(10_000, 200),
      concurrency: pick(10_000, 200),
      metrics: BURST_METRICS,
    },
    {
      id: 'capacity-1-process',
      title: 'Most idle connections in one server process',
      what: `${pick('19,000', '300')} connections from ${pick(2, 2)} client processes (the machine allows 20,000 open files per process)`,
      kind: 'idle',
      capacity: true,
      mode: 'echo',
      deflate: false,
      connections: pick(19_000, 300),
      generators: 2,
      concurrency: pick(128, 16),
      metrics: CAPACITY_METRICS,
    },
    {
      // 20,000 open files a process: 8 server processes (Node cluster's round robin hands a
      // connection to whichever worker is free, so the shares are not quite even) and 6 client
      // processes, each connecting from two source addresses of its own (~28,000 ports each).
      id: 'capacity-100k',
      title: 'Idle connections across server processes behind one port',
      what: `${pick('100,000', '400')} connections to ${pick(8, 2)} server processes (Node cluster, or SO_REUSEPORT for uWS and Bun), from ${pick(6, 2)} client processes`,
      kind: 'idle',
      capacity: true,
      mode: 'echo',
      deflate: false,
      connections: pick(100_000, 400),
      generators: pick(6, 2),
      serverProcesses: pick(8, 2),
      concurrency: pick(128, 16),
      metrics: CAPACITY_METRICS,
    },
    {
      id: 'fanout-10k',
      title: 'Publish to 10,000 subscribers, 32 B text',
      what: `${pick('10,000', '200')} connections on one topic; one publication at a time, the next once all got it`,
      kind: 'load',
      mode: 'fanout',
      deflate: false,
      connections: pick(10_000, 200),
      concurrency: pick(128, 16),
      load: { kind: 'fanout', inflight: 1, payload: { type: 'text', size: 32 } },
      minCompleted: pick(3, 1),
      metrics: FANOUT_METRICS,
    },
    {
      id: 'echo-deflate-json',
      title: 'Echo with permessage-deflate, 2 KiB JSON',
      what: `${pick(50, 4)} connections × ${pick(4, 2)} in flight, 64 different JSON messages, browser's offer`,
      kind: 'load',
      mode: 'echo',
      deflate: true,
      connections: pick(50, 4),
      load: { kind: 'echo', inflight: pick(4, 2), payload: { type: 'json', size: 2048, variants: 64 } },
      metrics: [...ECHO_METRICS, WIRE_BYTES],
    },
    {
      id: 'fanout-deflate-json',
      title: 'Publish to 10,000 subscribers with permessage-deflate, 2 KiB JSON',
      what: `${pick('10,000', '200')} connections on one topic, 64 different JSON messages, browser's offer`,
      kind: 'load',
      mode: 'fanout',
      deflate: true,
      connections: pick(10_000, 200),
      concurrency: pick(128, 16),
      load: { kind: 'fanout', inflight: 1, payload: { type: 'json', size: 2048, variants: 64 } },
      minCompleted: pick(3, 1),
      maxWaitMs: pick(30_000, 10_000),
      metrics: [...FANOUT_METRICS, WIRE_BYTES],
    },
    {
      id: 'channel-fanout-10k',
      group: 'channel',
      title: 'Publish to a channel of 10,000 subscribers: the real-time layer, plain topics, socket.io',
      what: `${pick('10,000', '200')} subscribers and one publisher, each server in its own protocol (fdx.v1; plain messages with wss.publish; socket.io rooms); a 32 B JSON chat line, one publication at a time, the next once all got it`,
      kind: 'load',
      mode: 'channel',
      deflate: false,
      connections: pick(10_001, 201),
      concurrency: pick(128, 16),
      load: { kind: 'channel', channel: 'room:bench', inflight: 1, payload: { type: 'chat', size: 32 } },
      minCompleted: pick(3, 1),
      metrics: FANOUT_METRICS,
      references: CHANNEL_REFERENCES,
    },
    ...['presence', 'presence-count'].map((mode) => ({
      id: mode === 'presence' ? 'presence-storm-10k' : 'presence-count-storm-10k',
      group: 'presence',
      title: `Presence: ${pick('10,000', '200')} members join one channel within ${pick(10, 1)} s${mode === 'presence' ? '' : ', count-only'}`,
      what: `${pick('10,000', '200')} fdx.v1 connections, each its own user, subscribe to one ${mode === 'presence' ? 'presence' : 'count-only presence'} channel, paced evenly over ${pick(10, 1)} s; diffs batched per 150 ms tick; done when every member was told the full count`,
      kind: 'storm',
      mode,
      deflate: false,
      connections: pick(10_000, 200),
      load: { kind: 'storm', channel: 'room:storm', windowMs: pick(10_000, 1_000) },
      metrics: PRESENCE_METRICS,
      references: [],
    })),
  ];
}
