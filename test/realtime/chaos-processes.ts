/**
 * Chaos across processes on the Redis engine: N server processes (test/support/chaos-server.ts)
 * share one redis-server of the run's own (own port; append-only file in a temp dir when it is
 * to keep its data) behind one TCP proxy that sends each new connection to the next live process,
 * round robin, and cuts connections at random (also mid-frame), so clients move between
 * processes. A publisher publishes numbered messages per channel (each with an idempotency key,
 * resent on a dropped connection); subscribers each watch a few channels. During the run one
 * process is killed with SIGKILL and restarted on its port, and Redis is killed and restarted
 * once, with or without its data. At the end every subscriber's messages are checked: every
 * acknowledged number arrived unless a `recovered: false` excused it, none twice, in order; and
 * `recovered: false` came only where Redis really lost the history (never when it kept its data).
 * It must not reach into a server process: it sees only what clients see.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RealtimeClient } from '../../src/client.js';
import { startChildServer, type ChildServer } from '../support/child-server.js';
import { freePort, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { ChaosProxy } from './chaos-proxy.js';
import { generator, type ChaosResult } from './chaos.js';
import { connectClient, until } from './loopback.js';

export interface ProcessChaosOptions {
  seconds: number;
  /** Server processes. Default 3. */
  processes?: number;
  /** Subscribers. Default 6. */
  clients?: number;
  channels?: number;
  /** Whether Redis restarts with its data (append-only file) or empty. Default true. */
  keepRedisData?: boolean;
  /** The publisher publishes once per this many ms, to the channels in turn. Default 15. */
  publishEveryMs?: number;
  seed?: number;
}

/** Publications kept per channel: more than a run publishes, so only a Redis that lost its data loses history. */
const HISTORY_SIZE = 10_000;

interface Watch {
  /** Message numbers received, in order. */
  got: number[];
  subscribed: boolean;
  /** Number ranges (after, upTo] excused by a `recovered: false`. */
  excused: [number, number][];
}

/** What the multi-process run adds to the summary's numbers: where the proxy sent connections. */
export interface ProcessChaosResult extends ChaosResult {
  /** New connections the proxy sent to each process (subscribers' and publisher's). */
  connectionsPerProcess: number[];
  /** Of those, sent to the killed process after it was restarted. */
  connectionsAfterRestart: number;
}

export async function runProcessChaos(options: ProcessChaosOptions): Promise<ProcessChaosResult> {
  const processCount = options.processes ?? 3;
  const clientCount = options.clients ?? 6;
  const channelCount = options.channels ?? 3;
  const keepRedisData = options.keepRedisData ?? true;
  const publishEveryMs = options.publishEveryMs ?? 15;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = generator(seed);
  const channels = Array.from({ length: channelCount }, (_, i) => `chaos:${i}`);

  const dir = keepRedisData ? await mkdtemp(join(tmpdir(), 'fdx-chaos-aof-')) : null;
  const redis: RedisServer = await startRedisServer(dir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir] : []);
  const ports: number[] = [];
  for (let i = 0; i < processCount; i++) ports.push(await freePort());
  const servers: (ChildServer | null)[] = ports.map(() => null);
  const start = async (i: number) => {
    servers[i] = await startChildServer('test/support/chaos-server.ts', [redis.url, 'fdx-chaos:', String(ports[i]), String(HISTORY_SIZE)], /listening on (\d+)/);
  };
  const proxies: ChaosProxy[] = [];
  const clients: RealtimeClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    await Promise.all(ports.map((_, i) => start(i)));
    // Round robin over the live processes; a connection to one that just died fails and the client retries.
    let next = 0;
    const connectionsPerProcess = ports.map(() => 0);
    let connectionsAfterRestart = 0;
    let victimBack = false;
    const victim = processCount - 1;
    const livePort = () => {
      let i = 0;
      for (let tried = 0; tried < processCount; tried++) {
        i = next++ % processCount;
        if (servers[i]) break;
      }
      connectionsPerProcess[i]!++;
      if (i === victim && victimBack) connectionsAfterRestart++;
      return ports[i]!;
    };
    const proxy = new ChaosProxy(livePort, random, [150, 1500]);
    // The publisher's connections are not cut at random; they move when their process dies.
    const publisherProxy = new ChaosProxy(livePort, random, [0, 0]);
    publisherProxy.cutting = false;
    proxies.push(proxy, publisherProxy);
    const url = `ws://127.0.0.1:${await proxy.listen()}/rt`;
    const publisherUrl = `ws://127.0.0.1:${await publisherProxy.listen()}/rt`;
    const clientOptions = { minDelayMs: 10, maxDelayMs: 200, timeoutMs: 3000, deadlineMs: 60_000, maxOutbox: 10_000 };

    // What the publisher issued (highest number per channel) and what was acknowledged.
    const issued = new Map<string, number>(channels.map((c) => [c, 0]));
    const acknowledged = new Map<string, Set<number>>(channels.map((c) => [c, new Set()]));
    let deliveries = 0;
    let notRecovered = 0;
    let notRecoveredOutsideLoss = 0;
    /** Whether Redis has come back without its data: only from then may history be lost. */
    let historyLost = false;

    const watches: Map<string, Watch>[] = [];
    for (let i = 0; i < clientCount; i++) {
      const client = connectClient(url, clientOptions);
      // A few channels each: every channel with probability 2/3, at least one.
      const mine = channels.filter(() => random() < 2 / 3);
      if (mine.length === 0) mine.push(channels[i % channelCount]!);
      const byChannel = new Map<string, Watch>();
      for (const channel of mine) {
        const watch: Watch = { got: [], subscribed: false, excused: [] };
        byChannel.set(channel, watch);
        client.subscribe(channel, (data: { n: number }) => {
          deliveries++;
          watch.got.push(data.n);
        });
      }
      client.on('subscribed', (channel, recovered) => {
        const watch = byChannel.get(channel)!;
        if (!watch.subscribed) return void (watch.subscribed = true);
        if (recovered) return;
        notRecovered++;
        if (!historyLost) notRecoveredOutsideLoss++;
        watch.excused.push([watch.got.at(-1) ?? 0, issued.get(channel)!]);
      });
      clients.push(client);
      watches.push(byChannel);
    }
    await until(() => watches.every((w) => [...w.values()].every((x) => x.subscribed)), 20_000, 'every client subscribed');

    const publisher = connectClient(publisherUrl, clientOptions);
    clients.push(publisher);
    const acks: Promise<void>[] = [];
    let published = 0;
    let refused = 0;
    const refusedCodes = new Set<string>();
    let turn = 0;
    timers.push(
      setInterval(() => {
        const channel = channels[turn++ % channelCount]!;
        const n = issued.get(channel)! + 1;
        issued.set(channel, n);
        published++;
        acks.push(
          publisher.publish(channel, { n }).then(
            () => void acknowledged.get(channel)!.add(n),
            (error: { code?: string }) => {
              refused++;
              refusedCodes.add(error.code ?? 'ERROR');
            },
          ),
        );
      }, publishEveryMs),
    );

    const ms = options.seconds * 1000;
    const wait = (t: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t)));
    const began = Date.now();
    const at = (t: number) => wait(began + t - Date.now());
    // One process dies without a goodbye and comes back on its port.
    await at(ms * 0.25);
    const dying = servers[victim]!;
    servers[victim] = null;
    await dying.stop('SIGKILL');
    await wait(300);
    await start(victim);
    victimBack = true;
    // Its start (tsx compiles) may take a while on a busy machine: the timeline moves with it, so
    // that Redis goes down only once the process is back (its server waits for Redis to start).
    const processBack = Date.now() - began;
    // Redis dies and comes back, with its append-only file or empty.
    await at(Math.max(ms * 0.55, processBack + ms * 0.1));
    await redis.kill();
    await wait(300);
    await redis.restart();
    if (!keepRedisData) historyLost = true;
    const redisBack = Date.now() - began;
    // Publishing and cutting go on for a while after both came back, whatever the delays.
    await at(Math.max(ms, redisBack + ms * 0.3, processBack + ms * 0.25));

    // Quiesce: stop publishing and cutting, wait for every acknowledgement and for every
    // subscriber to hold the last acknowledged number of each of its channels.
    for (const timer of timers) clearInterval(timer);
    proxy.cutting = false;
    await Promise.all(acks);
    const top = (channel: string) => Math.max(0, ...acknowledged.get(channel)!);
    await until(
      () => watches.every((byChannel) => [...byChannel].every(([channel, w]) => w.got.includes(top(channel)) || top(channel) === 0)),
      30_000,
      'every subscriber at every channel top',
    ).catch(() => undefined); // what is missing is counted as lost below

    let lost = 0;
    let duplicated = 0;
    let reordered = 0;
    for (const byChannel of watches) {
      for (const [channel, watch] of byChannel) {
        const seen = new Set<number>();
        let previous = 0;
        for (const n of watch.got) {
          if (seen.has(n)) duplicated++;
          else if (n < previous) reordered++;
          seen.add(n);
          previous = Math.max(previous, n);
        }
        for (const n of acknowledged.get(channel)!) {
          if (seen.has(n) || watch.excused.some(([after, upTo]) => n > after && n <= upTo)) continue;
          lost++;
        }
      }
    }
    let acknowledgedCount = 0;
    for (const set of acknowledged.values()) acknowledgedCount += set.size;
    return {
      engine: 'redis',
      processes: processCount,
      clients: clientCount,
      channels: channelCount,
      seconds: options.seconds,
      seed,
      published,
      acknowledged: acknowledgedCount,
      refused,
      refusedCodes: [...refusedCodes],
      deliveries,
      cuts: proxy.cuts,
      midFrame: proxy.midFrame,
      restarts: 2,
      restartKinds: `a SIGKILL of process ${victim + 1}, a Redis restart ${keepRedisData ? 'with' : 'without'} its data`,
      subscriptions: watches.reduce((sum, byChannel) => sum + byChannel.size, 0),
      notRecovered,
      misreported: notRecoveredOutsideLoss,
      connectionsPerProcess,
      connectionsAfterRestart,
      lost,
      duplicated,
      reordered,
    };
  } finally {
    for (const timer of timers) clearInterval(timer);
    for (const client of clients) client.close();
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all(servers.map((s) => s?.stop('SIGKILL')));
    await redis.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
