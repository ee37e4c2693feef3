/**
 * One `fdx bench` run: the plan (scenario, target, options) put to work on a WorkerPool, and
 * the workers' replies merged into one result. Phases: connect -> start -> warm-up (ticks) ->
 * measure (ticks each second: the timeline) -> report (-> ping, for hold) -> close. Counts add
 * up, histograms merge exactly (latency-histogram.ts), CPU is kept per worker so that one
 * saturated generator shows.
 * Must not: print (it hands progress to a callback), or parse a command line.
 */
import { performance } from 'node:perf_hooks';
import type { LoadTls } from './client.js';
import type { ConnectPhase, Load } from './generator.js';
import { LatencyHistogram, type LatencySummary } from './latency-histogram.js';
import { WorkerPool, type WorkerReply } from './worker-pool.js';
import type { WireName } from './wires.js';

export const SCENARIOS = ['echo', 'rate', 'connect', 'hold', 'fanout', 'publish'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchPlan {
  scenario: Scenario;
  url: string;
  host: string;
  port: number;
  hostHeader: string;
  path: string;
  connections: number;
  /** Messages (rate) or publications (fanout, publish) per second, in total. */
  rate: number;
  size: number;
  binary: boolean;
  /** echo: messages in flight per connection; rate: most outstanding per connection. */
  inflight: number;
  durationS: number;
  warmupS: number;
  workers: number;
  sourceAddresses: string[];
  /** Handshakes in progress at once, per worker, while connecting. */
  concurrency: number;
  channel: string;
  headers: string[];
  subprotocol: string | null;
  timeoutMs: number;
  /** wss://: TLS settings; null for ws://. */
  tls: LoadTls | null;
}

export interface TimelinePoint {
  /** Seconds since the measured window began (negative during the warm-up). */
  t: number;
  messagesPerSec: number;
  sentPerSec: number;
  p50Us: number | null;
  p99Us: number | null;
  maxUs: number | null;
  errors: number;
  open: number;
  /** The busiest worker's CPU share of one core. */
  cpu: number;
}

export interface BenchResult {
  schema: 1;
  scenario: Scenario;
  url: string;
  startedAt: string;
  /** The plan's options; `tls` says only whether certificates were checked, never the CA itself. */
  options: Omit<BenchPlan, 'host' | 'port' | 'hostHeader' | 'path' | 'url' | 'scenario' | 'tls'> & { tls: { rejectUnauthorized: boolean } | null };
  connections: { requested: number; opened: number; failed: number; handshakesPerSec: number | null; handshake: LatencySummary };
  measuredS: number;
  throughput: { messagesPerSec: number; sentPerSec: number; publicationsPerSec?: number; deliveriesPerPublication?: number | null };
  /** What a message's latency is measured from, in words. */
  latencyFrom: string;
  latency: LatencySummary & { histogram: string; distribution: Array<[number, number]> };
  uncorrectedLatency?: LatencySummary & { distribution: Array<[number, number]> };
  held?: number;
  errors: { total: number; byKind: Record<string, number>; samples: string[] };
  /** Each worker's CPU share of one core and latency samples (their sum is latency.samples). */
  generator: { workers: number; cpuPerWorker: number[]; samplesPerWorker: number[]; cpuTotal: number; saturated: boolean };
  timeline: TimelinePoint[];
}

export interface Progress {
  phase: 'connecting' | 'warmup' | 'measuring';
  point: TimelinePoint | null;
  elapsedS: number;
  totalS: number;
}

/** A generator busier than this share of a core is the bottleneck. */
export const SATURATED_CPU = 0.9;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** `total` split into `parts` near-equal whole shares. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** The source addresses worker `index` of `workers` uses: its own share when there are enough. */
function addressesOf(addresses: readonly string[], index: number, workers: number): string[] {
  if (addresses.length < workers) return [...addresses];
  return addresses.filter((_, i) => i % workers === index);
}

function loadOf(plan: BenchPlan, worker: number): Load {
  const payload = { type: plan.binary ? 'binary' : 'text', size: plan.size } as const;
  const rate = split(plan.rate, plan.workers)[worker]!;
  switch (plan.scenario) {
    case 'echo':
      return { kind: 'echo', inflight: plan.inflight, payload };
    case 'rate':
      return { kind: 'paced', rate: Math.max(rate, 1), payload, maxInflight: plan.inflight };
    case 'connect':
      return { kind: 'connect', concurrency: split(plan.connections, plan.workers)[worker]! };
    case 'hold':
      return { kind: 'hold' };
    case 'fanout':
    case 'publish':
      return { kind: 'stamped', rate: plan.rate, size: plan.size, channel: plan.channel };
  }
}

const WIRE_OF: Partial<Record<Scenario, WireName>> = { fanout: 'plain', publish: 'fdx' };

const LATENCY_FROM: Record<Scenario, string> = {
  echo: 'the send of the message its reply answers (closed loop)',
  rate: 'the intended send time (open loop, coordinated omission corrected)',
  connect: 'the TCP connect to the 101 response (handshake time)',
  hold: 'a ping to its pong, sent to every held connection at the end',
  fanout: 'the publish time carried in the payload, to each delivery',
  publish: 'the publish time carried in the payload, to each delivery',
};

function sumOf(replies: readonly WorkerReply[], field: string): number {
  return replies.reduce((s, r) => s + (typeof r[field] === 'number' ? (r[field] as number) : 0), 0);
}

function mergeHistograms(replies: readonly WorkerReply[], field: string): LatencyHistogram {
  const merged = new LatencyHistogram();
  for (const reply of replies) merged.add(String(reply[field] ?? ''));
  return merged;
}

function mergeErrors(replies: readonly WorkerReply[]): BenchResult['errors'] {
  const byKind: Record<string, number> = {};
  // Each worker's samples read "text (xN)": the same text from several workers is added up.
  const samples = new Map<string, number>();
  for (const reply of replies) {
    for (const [kind, n] of Object.entries((reply.errorsByKind ?? {}) as Record<string, number>)) byKind[kind] = (byKind[kind] ?? 0) + n;
    for (const sample of (reply.errorSamples ?? []) as string[]) {
      const [, text = sample, n = '1'] = /^(.*) \(x(\d+)\)$/s.exec(sample) ?? [];
      samples.set(text, (samples.get(text) ?? 0) + Number(n));
    }
  }
  return { total: sumOf(replies, 'errors'), byKind, samples: [...samples].slice(0, 8).map(([text, n]) => `${text} (x${n})`) };
}

/** Runs the plan; `onProgress` is called at each tick. Resolves with the merged result. */
export async function runBench(plan: BenchPlan, onProgress: (progress: Progress) => void = () => {}): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const pool = new WorkerPool(plan.workers);
  try {
    onProgress({ phase: 'connecting', point: null, elapsedS: 0, totalS: plan.warmupS + plan.durationS });
    const shares = split(plan.connections, plan.workers);
    const wire = WIRE_OF[plan.scenario];
    const connectPhase = (i: number): ConnectPhase => ({
      type: 'connect',
      host: plan.host,
      port: plan.port,
      hostHeader: plan.hostHeader,
      path: plan.path,
      // The connect scenario opens its connections in its load, not here.
      count: plan.scenario === 'connect' ? 0 : shares[i]!,
      concurrency: plan.concurrency,
      localAddresses: addressesOf(plan.sourceAddresses, i, plan.workers),
      subprotocol: plan.subprotocol,
      headers: plan.headers,
      timeoutMs: plan.timeoutMs,
      tls: plan.tls,
      ...(wire ? { wire, channel: plan.channel, publisher: i === 0 } : {}),
    });
    const connected = await pool.all(connectPhase, plan.timeoutMs + plan.connections * 10);
    const opened = sumOf(connected, 'opened');
    const failed = sumOf(connected, 'failed');
    const connectMs = Math.max(...connected.map((c) => Number(c.elapsedMs)));
    const handshake = mergeHistograms(connected, 'handshakes');

    const timeline: TimelinePoint[] = [];
    const ticking = async (seconds: number, phase: Progress['phase'], offsetS: number): Promise<void> => {
      const end = performance.now() + seconds * 1000;
      let t = 0;
      while (performance.now() < end) {
        await sleep(Math.min(1000, Math.max(0, end - performance.now())));
        const ticks = await pool.all(() => ({ type: 'tick' }));
        const elapsedS = Math.max(...ticks.map((r) => Number(r.elapsedMs))) / 1000;
        t += elapsedS;
        const interval = mergeHistograms(ticks, 'histogram');
        const point: TimelinePoint = {
          t: round(t + offsetS, 2),
          messagesPerSec: round(sumOf(ticks, 'messages') / elapsedS),
          sentPerSec: round(sumOf(ticks, 'sent') / elapsedS),
          p50Us: interval.percentileUs(50),
          p99Us: interval.percentileUs(99),
          maxUs: interval.percentileUs(100),
          errors: sumOf(ticks, 'errors'),
          open: sumOf(ticks, 'open'),
          cpu: round(Math.max(...ticks.map((r) => Number(r.cpuUs) / 1e6 / elapsedS)), 3),
        };
        if (phase === 'measuring') timeline.push(point);
        onProgress({ phase, point, elapsedS: (phase === 'measuring' ? plan.warmupS : 0) + t, totalS: plan.warmupS + plan.durationS });
      }
    };

    const loaded = opened > 0 || plan.scenario === 'connect';
    if (loaded) {
      await pool.all((i) => ({ type: 'start', load: loadOf(plan, i) }));
      await ticking(plan.warmupS, 'warmup', -plan.warmupS);
      await pool.all(() => ({ type: 'measure' }));
      await ticking(plan.durationS, 'measuring', 0);
    }
    let held: number | undefined;
    if (plan.scenario === 'hold') {
      // The ping round trips are the hold scenario's latency: recorded before the report.
      const pings = await pool.all(() => ({ type: 'ping', timeoutMs: 10_000 }), 60_000);
      held = sumOf(pings, 'answered');
    }
    const reports = await pool.all(() => ({ type: 'report' }));
    // The errors of the whole run, the opening included.
    const closed = await pool.all(() => ({ type: 'close' }));
    const latency = mergeHistograms(reports, 'histogram');
    const measuredS = loaded ? Math.max(...reports.map((r) => Number(r.elapsedMs))) / 1000 : 0;
    const cpuPerWorker = reports.map((r) => (loaded ? round(Number(r.cpuUs) / 1e6 / Math.max(Number(r.elapsedMs) / 1000, 1e-3), 3) : 0));
    const perSecond = (n: number): number => (measuredS > 0 ? round(n / measuredS) : 0);
    const messages = sumOf(reports, 'messages');
    const published = sumOf(reports, 'published');
    const stampedRun = plan.scenario === 'fanout' || plan.scenario === 'publish';
    const uncorrected = mergeHistograms(reports, 'uncorrected');
    return {
      schema: 1,
      scenario: plan.scenario,
      url: plan.url,
      startedAt,
      options: {
        connections: plan.connections,
        rate: plan.rate,
        size: plan.size,
        binary: plan.binary,
        inflight: plan.inflight,
        durationS: plan.durationS,
        warmupS: plan.warmupS,
        workers: plan.workers,
        sourceAddresses: plan.sourceAddresses,
        concurrency: plan.concurrency,
        channel: plan.channel,
        // Names only: a header may carry a credential, and reports get shared.
        headers: plan.headers.map((line) => line.slice(0, line.indexOf(':'))),
        subprotocol: plan.subprotocol,
        timeoutMs: plan.timeoutMs,
        tls: plan.tls ? { rejectUnauthorized: plan.tls.rejectUnauthorized } : null,
      },
      connections: {
        requested: plan.connections,
        opened,
        failed,
        handshakesPerSec: opened > 0 && connectMs > 0 ? round(opened / (connectMs / 1000)) : null,
        handshake: handshake.summary(),
      },
      measuredS: round(measuredS, 3),
      throughput: {
        messagesPerSec: perSecond(messages),
        sentPerSec: perSecond(sumOf(reports, 'sent')),
        ...(stampedRun ? { publicationsPerSec: perSecond(published), deliveriesPerPublication: published > 0 ? round(messages / published, 2) : null } : {}),
      },
      latencyFrom: LATENCY_FROM[plan.scenario],
      latency: { ...latency.summary(), histogram: latency.encode(), distribution: latency.distribution() },
      ...(plan.scenario === 'rate' ? { uncorrectedLatency: { ...uncorrected.summary(), distribution: uncorrected.distribution() } } : {}),
      ...(held !== undefined ? { held } : {}),
      errors: mergeErrors(closed),
      generator: {
        workers: plan.workers,
        cpuPerWorker,
        samplesPerWorker: reports.map((r) => LatencyHistogram.decode(String(r.histogram ?? '')).count),
        cpuTotal: round(cpuPerWorker.reduce((a, b) => a + b, 0), 3), saturated: cpuPerWorker.some((c) => c >= SATURATED_CPU) },
      timeline,
    };
  } finally {
    await pool.stop();
  }
}
