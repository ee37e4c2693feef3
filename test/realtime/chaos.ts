/**
 * Chaos for the real-time layer: clients publish and receive through a TCP proxy of our own
 * that cuts connections at random moments (often in the middle of a frame), the server crashes
 * and restarts once and drains and restarts once (same engine, as a process restarted beside a
 * shared store), and one client is kept away longer than the history window. At the end every client checks every channel
 * against the engine's history: nothing lost where no `recovered: false` was reported, nothing
 * duplicated, order kept; and every acknowledged publication is stored exactly once.
 */
import { randomUUID } from 'node:crypto';
import { MemoryEngine, type Engine, type LiveHandler, type Position, type PublishOptions } from '../../src/realtime.js';
import { RedisEngine } from '../../src/broker/redis.js';
import type { RealtimeClient } from '../../src/client.js';
import { connectClient, startLoopback, until } from './loopback.js';
import { ChaosProxy } from './chaos-proxy.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { deleteKeys } from '../support/redis-keys.js';

/** Where the run keeps channels: in process, on one Redis (REDIS_URL or 127.0.0.1:6379), or on a 3-master cluster it starts. */
export type ChaosEngine = 'memory' | 'redis' | 'redis-cluster';
export const CHAOS_ENGINES: readonly ChaosEngine[] = ['memory', 'redis', 'redis-cluster'];

export interface ChaosOptions {
  seconds: number;
  clients?: number;
  channels?: number;
  /** Publications kept per channel: the window the sleeping client falls out of. */
  historySize?: number;
  /** Each client publishes once per this many ms. */
  publishEveryMs?: number;
  seed?: number;
  engine?: ChaosEngine;
}

export interface ChaosResult {
  engine: ChaosEngine;
  clients: number;
  channels: number;
  seconds: number;
  seed: number;
  published: number;
  acknowledged: number;
  refused: number;
  /** The error codes of the refused publications. */
  refusedCodes: string[];
  deliveries: number;
  cuts: number;
  midFrame: number;
  /** Server restarts: one crash (connections dropped), one graceful drain. */
  restarts: number;
  /** What the restarts were, for the summary. Default 'a crash and a drain'. */
  restartKinds?: string;
  /** Server processes, when the run spans several (test/realtime/chaos-processes.ts). */
  processes?: number;
  notRecovered: number;
  /** Client subscriptions watched (the multi-process run). */
  subscriptions?: number;
  /** `recovered: false` reported where no history was lost (checked by the multi-process run). */
  misreported?: number;
  lost: number;
  duplicated: number;
  reordered: number;
}

export function summary(r: ChaosResult): string {
  return (
    `chaos: ${r.engine} engine, ${r.processes ? `${r.processes} processes, ` : ''}${r.clients} clients, ${r.channels} channels, ${r.seconds} s, seed ${r.seed}: ${r.published} publications ` +
    `(${r.acknowledged} acknowledged, ${r.refused} refused${r.refused ? ` ${r.refusedCodes.join(' ')}` : ''}), ${r.deliveries} deliveries, ${r.cuts} cuts ` +
    `(${r.midFrame} mid-frame), ${r.restarts} server restarts (${r.restartKinds ?? 'a crash and a drain'}), recovered:false ${r.notRecovered}${r.misreported === undefined ? '' : ` (${r.misreported} where history was kept)`}, ` +
    `lost ${r.lost}, duplicated ${r.duplicated}, reordered ${r.reordered}`
  );
}

/** xorshift32: a small seeded generator, so that a failing run can be repeated with its seed. */
export function generator(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    return x / 4294967296;
  };
}

/** An engine that also keeps every publication it stored: the truth the run is checked against. */
class RecordingEngine implements Engine {
  readonly stored: { channel: string; offset: string; data: unknown }[] = [];
  readonly #inner: Engine;
  constructor(inner: Engine) {
    this.#inner = inner;
  }
  async publish(channel: string, data: unknown, options?: PublishOptions) {
    const result = await this.#inner.publish(channel, data, options);
    if (!result.duplicate) this.stored.push({ channel, offset: result.offset, data });
    return result;
  }
  subscribe(channel: string, handler: LiveHandler) {
    return this.#inner.subscribe(channel, handler);
  }
  history(channel: string, since?: Position) {
    return this.#inner.history(channel, since);
  }
  close() {
    return this.#inner.close();
  }
}

/** The engine of the run and what to release after it. */
async function makeEngine(kind: ChaosEngine, historySize: number): Promise<{ engine: RecordingEngine; release(): Promise<void> }> {
  const historyTtlMs = 3_600_000;
  if (kind === 'memory') {
    const engine = new RecordingEngine(new MemoryEngine({ historySize, historyTtlMs }));
    return { engine, release: () => engine.close() };
  }
  if (kind === 'redis') {
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const keyPrefix = `fdx-chaos-${randomUUID()}:`;
    const redis = new RedisEngine({ url, keyPrefix, historySize, historyTtlMs, metaTtlMs: historyTtlMs });
    await redis.ready();
    const engine = new RecordingEngine(redis);
    return {
      engine,
      async release() {
        await engine.close();
        await deleteKeys(url, [keyPrefix]);
      },
    };
  }
  const cluster = await startRedisCluster();
  const redis = new RedisEngine({ clusterUrls: cluster.urls, historySize, historyTtlMs });
  await redis.ready().catch(async (error: unknown) => {
    await cluster.stop();
    throw error;
  });
  const engine = new RecordingEngine(redis);
  return {
    engine,
    async release() {
      await engine.close();
      await cluster.stop();
    },
  };
}

interface Watch {
  /** Offsets received, in order. */
  got: number[];
  /** Position of the first subscription: publications after it are expected. */
  start: number | null;
  /** Offset ranges (after, upTo] excused by a `recovered: false`. */
  excused: [number, number][];
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const clientCount = options.clients ?? 6;
  const channelCount = options.channels ?? 3;
  const historySize = options.historySize ?? 100;
  const publishEveryMs = options.publishEveryMs ?? 40;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = generator(seed);
  const channels = Array.from({ length: channelCount }, (_, i) => `chaos:${i}`);
  const engineKind = options.engine ?? 'memory';
  const { engine, release } = await makeEngine(engineKind, historySize);
  const loop = await startLoopback({ engine, drainTimeoutMs: 1000 });
  const proxy = new ChaosProxy(() => loop.port, random, [100, 1200]);
  const sleeperProxy = new ChaosProxy(() => loop.port, random, [300, 2000]);
  const proxyUrl = `ws://127.0.0.1:${await proxy.listen()}/rt`;
  const sleeperUrl = `ws://127.0.0.1:${await sleeperProxy.listen()}/rt`;

  const clients: RealtimeClient[] = [];
  const watches: Map<string, Watch>[] = [];
  let deliveries = 0;
  let notRecovered = 0;
  for (let i = 0; i < clientCount; i++) {
    // The last client goes through the proxy that will keep it away past the window.
    const client = connectClient(i === clientCount - 1 ? sleeperUrl : proxyUrl, {
      minDelayMs: 10,
      maxDelayMs: 200,
      timeoutMs: 3000,
      retries: 5,
      deadlineMs: 120_000,
      maxOutbox: 10_000,
    });
    const byChannel = new Map<string, Watch>();
    for (const channel of channels) {
      const watch: Watch = { got: [], start: null, excused: [] };
      byChannel.set(channel, watch);
      client.subscribe(channel, (_data, info) => {
        deliveries++;
        watch.got.push(Number(info.offset));
      });
    }
    client.on('subscribed', (channel, recovered) => {
      const watch = byChannel.get(channel)!;
      const now = Number(client.position(channel)!.offset);
      if (watch.start === null) watch.start = now;
      else if (!recovered) {
        notRecovered++;
        const before = watch.got.length > 0 ? watch.got[watch.got.length - 1]! : watch.start;
        watch.excused.push([before, now]);
      }
    });
    clients.push(client);
    watches.push(byChannel);
  }
  await until(() => watches.every((w) => [...w.values()].every((x) => x.start !== null)), 10_000, 'every client subscribed');

  // Publish, cut, restart once, keep the sleeper away for a while.
  const acks: Promise<void>[] = [];
  const acknowledged = new Set<string>();
  let published = 0;
  let refused = 0;
  const refusedCodes = new Set<string>();
  const timers: NodeJS.Timeout[] = [];
  clients.forEach((client, i) => {
    let n = 0;
    timers.push(
      setInterval(() => {
        const channel = channels[Math.floor(random() * channels.length)]!;
        const id = `${i}:${++n}`;
        published++;
        acks.push(
          client.publish(channel, { id }).then(
            () => void acknowledged.add(id),
            (error) => {
              refused++;
              refusedCodes.add(error.code);
            },
          ),
        );
      }, publishEveryMs),
    );
  });
  const ms = options.seconds * 1000;
  // The sleeper stays away 1.5 times as long as the window lasts at this publication rate.
  const perChannelPerSecond = (clientCount * 1000) / publishEveryMs / channelCount;
  const sleepFor = Math.ceil((historySize / perChannelPerSecond) * 1500);
  const wait = (t: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t)));
  const began = Date.now();
  const at = (t: number) => wait(began + t - Date.now());
  await at(ms * 0.2);
  sleeperProxy.blocked = true;
  sleeperProxy.cutAll();
  const wake = at(Math.min(ms * 0.2 + sleepFor, ms * 0.9)).then(() => void (sleeperProxy.blocked = false));
  await at(ms * 0.5);
  await loop.crash();
  await wait(300);
  await loop.restart();
  let restarts = 1;
  await wake;
  // A graceful restart too: every connection drained over 300 ms, nothing in flight lost.
  await at(ms * 0.75);
  await loop.drainAndStop(300);
  await loop.restart();
  restarts++;
  await at(ms);

  // Quiesce: stop publishing and cutting, wait for every acknowledgement and every position.
  for (const timer of timers) clearInterval(timer);
  proxy.cutting = false;
  sleeperProxy.cutting = false;
  await Promise.all(acks);
  const tops = new Map<string, number>();
  for (const channel of channels) tops.set(channel, Number((await engine.history(channel)).position.offset));
  await until(
    () => clients.every((client) => channels.every((channel) => Number(client.position(channel)?.offset) === tops.get(channel))),
    30_000,
    'every client at every channel top',
  );

  // Verify.
  let lost = 0;
  let duplicated = 0;
  let reordered = 0;
  const stored = new Map<string, number>();
  for (const p of engine.stored) {
    const id = (p.data as { id: string }).id;
    stored.set(id, (stored.get(id) ?? 0) + 1);
  }
  for (const [id, count] of stored) if (count > 1) duplicated += count - 1;
  for (const id of acknowledged) if (!stored.has(id)) lost++;
  for (const byChannel of watches) {
    for (const [channel, watch] of byChannel) {
      const seen = new Set<number>();
      let previous = -1;
      for (const offset of watch.got) {
        if (seen.has(offset)) duplicated++;
        else if (offset < previous) reordered++;
        seen.add(offset);
        previous = Math.max(previous, offset);
      }
      for (let offset = watch.start! + 1; offset <= tops.get(channel)!; offset++) {
        if (seen.has(offset)) continue;
        if (watch.excused.some(([after, upTo]) => offset > after && offset <= upTo)) continue;
        lost++;
      }
    }
  }

  for (const client of clients) client.close();
  await proxy.close();
  await sleeperProxy.close();
  await loop.stop();
  await release();
  return {
    engine: engineKind,
    clients: clientCount,
    channels: channelCount,
    seconds: options.seconds,
    seed,
    published,
    acknowledged: acknowledged.size,
    refused,
    refusedCodes: [...refusedCodes],
    deliveries,
    cuts: proxy.cuts + sleeperProxy.cuts,
    midFrame: proxy.midFrame + sleeperProxy.midFrame,
    restarts,
    notRecovered,
    lost,
    duplicated,
    reordered,
  };
}
