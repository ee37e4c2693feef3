/**
 * The live dashboard demo on the real-time layer: a server sampling forty metric series 20 times
 * a second (this process, the machine, synthetic waves and sensors) and publishing each sample
 * (16 bytes, a binary publication) on the series' own channel, `series.<node>.<id>`
 * (series-channels.ts). A page's selection is
 * its subscriptions: `authorize` lets it subscribe only to series in the catalog, and
 * maxChannelsPerConnection caps how many. Reconnecting, resubscribing and recovering what a page
 * missed while offline (from a short history) are the real-time client's.
 *
 * Every sample is published with `latest: 'sample'` on a WebSocketServer whose backpressure
 * policy is 'latest': a page that cannot keep up gets the newest sample of each series when its
 * connection drains, never a growing queue. "Simulate slow client" makes this server hold that
 * page's socket writes and release them only every `slowReleaseMs`, so that the policy can be
 * watched at work (replaced frames, a bounded buffer).
 *
 * Wire (fdx.v1 at <base>rt; docs/protocol.md):
 *   welcome          {node, compression, hz, series: [{id, label, unit, group, channel}], defaults, limits}
 *   channel series.<node>.<id>: binary publications of one sample each (sample-codec.ts: t, v)
 *   server -> page   event catalog {series}                  when other processes come or go (--redis)
 *                    event stats {buffered, maxBuffered, slow}   every statsMs: bytes waiting in the socket
 *   page -> server   request slow {on: boolean} -> {on}
 * Bad input: CHANNEL_FORBIDDEN (a channel that is no series, or a publish), TOO_MANY_CHANNELS,
 * INVALID_PAYLOAD, UNKNOWN_EVENT, RATE_LIMITED then close 4001 (events), MESSAGE_TOO_LARGE,
 * 1009 past maxPayload, 1008 for a page subscribing faster than LIMITS.subscribes.
 * Must not: reach into src/ (public entry points only).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { WebSocket } from 'fullduplex';
import { MemoryEngine, RealtimeServer, mountRealtime, type Engine, type RealtimeConnection } from 'fullduplex/realtime';
import { buildBrowserBundle } from '../shared/browser-bundle.js';
import type { CreateDemo, Demo } from '../shared/demo.js';
import { servePublicFiles, upgradeAt } from '../shared/demo-endpoints.js';
import { openRedisEngine } from '../shared/open-redis-engine.js';
import { PublicFolder } from '../shared/public-folder.js';
import { RateLimiter } from '../shared/rate-limiter.js';
import { MetricSampler } from './metric-sampler.js';
import { PeerCatalog } from './peer-catalog.js';
import { encodeSample } from './sample-codec.js';
import { WantedChannels, readToggle, seriesChannel, type CatalogEntry } from './series-channels.js';

export const LIMITS = {
  /** Time between two samples: 20 Hz. */
  tickMs: 50,
  /** Series (channels) one page may stream at once: TOO_MANY_CHANNELS past it. */
  maxSelected: 16,
  /** Largest fdx.v1 message a page may send: MESSAGE_TOO_LARGE past it. */
  maxMessageBytes: 4 * 1024,
  /** Largest WebSocket message: closed with 1009 past it. */
  maxPayload: 16 * 1024,
  /** Bytes waiting in a connection's buffer before the `latest` policy holds its frames: room for a tick of
   * every series a page may select (about 130 bytes each), small enough that "simulate slow client"
   * shows the policy within a second. */
  maxBackpressure: 8 * 1024,
  /** With "simulate slow client", the connection's writes are released this often. */
  slowReleaseMs: 2000,
  /** A stats event this often. */
  statsMs: 250,
  /** Samples kept per series: 10 s, so that a page that was offline that long has no hole. */
  historySize: 200,
  historyTtlMs: 60_000,
  /** A series nobody watches is still published this long, for pages reconnecting. */
  graceMs: 30_000,
  /** Events (the slow toggle): 10 a second after a burst of 20 (RATE_LIMITED); 40 refused in a row close with 4001. */
  events: { publishRatePerSecond: 10, publishBurst: 20, floodLimit: 40 },
  /** Subscriptions: a burst of 32 (twice a whole selection), then 10 a second; faster closes with 1008. */
  subscribes: { burst: 32, perSecond: 10, maxStrikes: 1 },
} as const;

/** The series a page streams before it chooses. */
export const DEFAULT_SELECTION = ['process.cpu.user', 'process.memory.heapUsed', 'process.eventLoop.delay', 'synthetic.sine'];

/** What the server keeps of one page (the connection's `data`). */
interface Viewer {
  /** The page's WebSocket, whose writes "simulate slow client" holds. */
  ws: WebSocket | undefined;
  subscribes: RateLimiter;
  /** The most bytes seen waiting in its socket's buffer. */
  maxBuffered: number;
  /** Releases the held writes every slowReleaseMs while "simulate slow client" is on. */
  slowTimer: NodeJS.Timeout | null;
}

type Page = RealtimeConnection<any, Viewer>;

/** With the 'latest' backpressure policy, a waiting sample of a series is replaced by a newer one. */
const LATEST_SAMPLE = { latest: 'sample' };

export const createDemo: CreateDemo = async (context) => {
  const here = fileURLToPath(new URL('./', import.meta.url));
  const bundle = await buildBrowserBundle({ entry: `${here}browser/main.js`, outDir: `${context.dataDir}/bundle`, fileName: 'app.js' });
  const files = new PublicFolder(`${here}public`, {
    'app.js': bundle,
    'uplot.css': fileURLToPath(import.meta.resolve('uplot/dist/uPlot.min.css')),
  });

  const history = { historySize: LIMITS.historySize, historyTtlMs: LIMITS.historyTtlMs };
  const engine: Engine = context.redisUrl
    ? await openRedisEngine(context.redisUrl, { keyPrefix: 'fdx-demo:dashboard:', ...history })
    : new MemoryEngine(history);
  const node = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const sampler = new MetricSampler();
  const own: CatalogEntry[] = sampler.catalog.map((info) => ({ ...info, channel: seriesChannel(node, info.id) }));
  let peers: PeerCatalog | null = null;
  let channels = new Set(own.map((entry) => entry.channel));
  const catalog = (): CatalogEntry[] => (peers ? [...own, ...peers.catalog()] : own);

  // Each page's WebSocket by its upgrade request, which the real-time connection keeps as its handshake.
  const sockets = new WeakMap<object, WebSocket>();
  const realtime = new RealtimeServer<any, any, Viewer>({
    engine,
    maxChannelsPerConnection: LIMITS.maxSelected,
    maxMessageBytes: LIMITS.maxMessageBytes,
    ...LIMITS.events,
    authenticate: ({ request }) => ({ ws: sockets.get(request as object), subscribes: new RateLimiter(LIMITS.subscribes), maxBuffered: 0, slowTimer: null }),
    authorize: (connection: Page, channel, action) => {
      if (action !== 'subscribe') return false; // samples come from the server only
      if (connection.data.subscribes.take() !== 'accept') {
        connection.close(1008, 'too many subscriptions');
        return false;
      }
      return channels.has(channel);
    },
    welcome: (connection: Page) => ({
      node,
      compression: connection.data.ws?.extensions ?? '',
      hz: 1000 / LIMITS.tickMs,
      series: catalog(),
      defaults: DEFAULT_SELECTION,
      limits: { maxSelected: LIMITS.maxSelected, maxBackpressure: LIMITS.maxBackpressure, slowReleaseMs: LIMITS.slowReleaseMs },
    }),
    onDisconnect: (connection: Page) => stopSlow(connection.data),
  });
  const wss = mountRealtime(realtime, {
    noServer: true,
    maxPayload: LIMITS.maxPayload,
    perMessageDeflate: { threshold: 0, serverNoContextTakeover: false },
    maxBackpressure: LIMITS.maxBackpressure,
    backpressure: 'latest',
  });
  wss.on('connection', (ws: WebSocket, request: object) => sockets.set(request, ws));

  const stopSlow = (viewer: Viewer) => {
    if (viewer.slowTimer === null) return;
    clearInterval(viewer.slowTimer);
    viewer.slowTimer = null;
    const socket = viewer.ws?.socket;
    while (socket && socket.writableCorked > 0) socket.uncork();
  };
  realtime.on('slow', (data, connection: Page) => {
    const on = readToggle(data);
    const viewer = connection.data;
    const socket = viewer.ws?.socket;
    if (!on) stopSlow(viewer);
    else if (viewer.slowTimer === null && socket) {
      socket.cork();
      viewer.slowTimer = setInterval(() => {
        // Lets out what was held, then holds again: a link that delivers in bursts.
        socket.uncork();
        socket.cork();
      }, LIMITS.slowReleaseMs);
    }
    return { on: viewer.slowTimer !== null };
  });

  const catalogChanged = () => {
    channels = new Set(catalog().map((entry) => entry.channel));
    realtime.broadcast('catalog', { series: catalog() });
  };
  // Across processes, this process's own series are always published: other processes' pages may watch them.
  if (context.redisUrl) peers = await PeerCatalog.open(engine, node, sampler.catalog.filter((info) => info.group === 'process'), catalogChanged);
  const shared = new Set(peers ? own.filter((entry) => entry.group === 'process').map((entry) => entry.channel) : []);

  const wanted = new WantedChannels(LIMITS.graceMs);
  const tick = setInterval(() => {
    const t = Date.now();
    const values = sampler.sample();
    const subscribed = new Set<string>();
    for (const connection of realtime.connections.values()) {
      for (const channel of connection.channels) subscribed.add(channel);
      const viewer = connection.data;
      viewer.maxBuffered = Math.max(viewer.maxBuffered, viewer.ws?.bufferedAmount ?? 0);
    }
    wanted.update(subscribed, t);
    own.forEach(({ channel }, i) => {
      if (!wanted.has(channel) && !shared.has(channel)) return;
      realtime.publish(channel, encodeSample(t, values[i]!), LATEST_SAMPLE).catch(() => undefined); // a failure costs one sample
    });
  }, LIMITS.tickMs);
  const stats = setInterval(() => {
    for (const connection of realtime.connections.values()) {
      const viewer = connection.data;
      const buffered = viewer.ws?.bufferedAmount ?? 0;
      viewer.maxBuffered = Math.max(viewer.maxBuffered, buffered);
      connection.emit('stats', { buffered, maxBuffered: viewer.maxBuffered, slow: viewer.slowTimer !== null });
    }
  }, LIMITS.statsMs);

  const demo: Demo = {
    name: 'dashboard',
    title: 'Live dashboard',
    summary:
      'Forty metric series (this process, the machine, synthetic waves and sensors) sampled 20 times a second, each published on its own channel of the real-time layer and streamed, compressed, to each tab, which subscribes to the series it charts. Turn on "simulate slow client": the server then holds that tab\'s socket writes and releases them in bursts, and the `latest` backpressure policy keeps only the newest sample of each series waiting instead of a growing queue; the tab shows how many frames were replaced and how many bytes ever waited. When a tab loses its connection, the real-time client reconnects by itself and recovers the samples it missed from each channel\'s short history, so its charts have no hole.',
    handleRequest: servePublicFiles(files, context.basePath),
    handleUpgrade: upgradeAt(wss, `${context.basePath}rt`),
    async close() {
      clearInterval(tick);
      clearInterval(stats);
      for (const connection of realtime.connections.values()) stopSlow(connection.data);
      sampler.close();
      await peers?.close();
      await realtime.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await engine.close();
    },
  };
  return demo;
};
