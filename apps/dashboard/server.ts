/**
 * The live dashboard demo: a server sampling many metric series 20 times a second (this
 * process, the machine, synthetic waves and sensors) and streaming each page the series it
 * chose, over one WebSocket at `<base>ws` with permessage-deflate. Every sample frame is sent
 * with the key 'samples' under the `latest` backpressure policy: a page that cannot keep up
 * gets the newest frame when its connection drains, never a growing queue. "Simulate slow
 * client" makes this server hold the page's socket writes and release them only every
 * `slowReleaseMs`, so the policy can be watched at work (replaced frames, buffered bytes).
 *
 * Wire format, JSON text messages:
 *   page -> server   see viewer-command.ts: {type:'select', series:[id...]}, {type:'slow', on}
 *   server -> page   {type:'catalog', hz, series:[{id,label,unit,group}], selected, limits}
 *                    {type:'selected', series, version}           the selection now streamed
 *                    {type:'samples', seq, version, t, values}   values in the order of `series`
 *                    {type:'stats', sent, replaced, dropped, buffered, maxBuffered, slow}
 *                    {type:'slow', on}                             the toggle took effect
 *                    {type:'error', code, text}                    the last input was refused
 * `seq` counts this connection's sample frames, so a page sees how many it never got; the
 * catalog is sent again when other processes' series appear or go (with --redis).
 * Bad input: refusals as above; more than LIMITS.maxPayload bytes: 1009; flooding: 1008.
 */
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'fullduplex';
import type { CreateDemo, Demo } from '../shared/demo.js';
import { buildBrowserBundle } from '../shared/browser-bundle.js';
import { servePublicFiles, upgradeAt } from '../shared/demo-endpoints.js';
import { PublicFolder } from '../shared/public-folder.js';
import { RateLimiter } from '../shared/rate-limiter.js';
import { MetricSampler, type SeriesInfo } from './metric-sampler.js';
import { SeriesRelay } from './series-relay.js';
import { readViewerCommand, type Refusal } from './viewer-command.js';

export const LIMITS = {
  /** Time between two samples: 20 Hz. */
  tickMs: 50,
  /** Series one page may stream at once. */
  maxSelected: 16,
  /** Largest message a page may send; bigger ones are closed with 1009. */
  maxPayload: 4 * 1024,
  /** Bytes waiting in a connection's buffer before the `latest` policy holds its frames: small, so that
   * "simulate slow client" shows the policy within a second (a compressed frame of 16 values is ~70 bytes). */
  maxBackpressure: 1024,
  /** With "simulate slow client", the connection's writes are released this often. */
  slowReleaseMs: 2000,
  /** A stats message every this many ticks. */
  statsEveryTicks: 5,
  /** Page messages: a burst of 20, then 10 a second; 40 refusals in a row close with 1008. */
  rate: { burst: 20, perSecond: 10, maxStrikes: 40 },
} as const;

/** The series a page streams before it chooses. */
export const DEFAULT_SELECTION = ['process.cpu.user', 'process.memory.heapUsed', 'process.eventLoop.delay', 'synthetic.sine'];

/** One page's connection. */
interface Viewer {
  ws: WebSocket;
  limiter: RateLimiter;
  /** Indexes of the selected series in the catalog, in the page's order. */
  ids: string[];
  version: number;
  seq: number;
  sent: number;
  replaced: number;
  dropped: number;
  maxBuffered: number;
  /** Releases the held writes every slowReleaseMs while "simulate slow client" is on. */
  slowTimer: NodeJS.Timeout | null;
}

const json = (value: object): string => JSON.stringify(value);

export const createDemo: CreateDemo = async (context) => {
  const base = context.basePath;
  const here = fileURLToPath(new URL('.', import.meta.url));
  const bundle = await buildBrowserBundle({ entry: `${here}browser/main.js`, outDir: `${context.dataDir}/bundle`, fileName: 'app.js' });
  const files = new PublicFolder(`${here}public`, {
    'app.js': bundle,
    'uplot.css': fileURLToPath(import.meta.resolve('uplot/dist/uPlot.min.css')),
  });

  const sampler = new MetricSampler();
  let relay: SeriesRelay | null = null; // opened once everything it calls back exists
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: LIMITS.maxPayload,
    perMessageDeflate: { threshold: 0, serverNoContextTakeover: false },
    maxBackpressure: LIMITS.maxBackpressure,
    backpressurePolicy: 'latest',
  });
  const viewers = new Set<Viewer>();

  const catalog = (): readonly SeriesInfo[] => (relay ? [...sampler.catalog, ...relay.remoteCatalog()] : sampler.catalog);
  const catalogMessage = (viewer: Viewer) =>
    json({
      type: 'catalog',
      hz: 1000 / LIMITS.tickMs,
      series: catalog(),
      selected: viewer.ids,
      limits: { maxSelected: LIMITS.maxSelected, maxBackpressure: LIMITS.maxBackpressure, slowReleaseMs: LIMITS.slowReleaseMs },
    });
  function sendCatalogToAll(): void {
    const known = new Set(catalog().map((info) => info.id));
    for (const viewer of viewers) {
      const kept = viewer.ids.filter((id) => known.has(id));
      if (kept.length !== viewer.ids.length) select(viewer, kept);
      viewer.ws.send(catalogMessage(viewer), { key: 'catalog' });
    }
  }

  const refuse = (viewer: Viewer, refusal: Refusal) => viewer.ws.send(json({ type: 'error', ...refusal }), { key: 'error' });
  const select = (viewer: Viewer, ids: string[]) => {
    viewer.ids = ids;
    viewer.version++;
    viewer.ws.send(json({ type: 'selected', series: ids, version: viewer.version }), { key: 'selected' });
  };
  const setSlow = (viewer: Viewer, on: boolean) => {
    const socket = viewer.ws.socket;
    if (on && viewer.slowTimer === null && socket) {
      socket.cork();
      viewer.slowTimer = setInterval(() => {
        // Lets out what was held, then holds again: a link that delivers in bursts.
        socket.uncork();
        socket.cork();
      }, LIMITS.slowReleaseMs);
    } else if (!on && viewer.slowTimer !== null) {
      clearInterval(viewer.slowTimer);
      viewer.slowTimer = null;
      while (socket && socket.writableCorked > 0) socket.uncork();
    }
    viewer.ws.send(json({ type: 'slow', on }), { key: 'slow' });
  };

  wss.on('connection', (ws: WebSocket) => {
    const viewer: Viewer = {
      ws,
      limiter: new RateLimiter(LIMITS.rate),
      ids: DEFAULT_SELECTION,
      version: 0,
      seq: 0,
      sent: 0,
      replaced: 0,
      dropped: 0,
      maxBuffered: 0,
      slowTimer: null,
    };
    viewers.add(viewer);
    ws.on('error', () => {}); // the 'close' that follows says it all
    ws.on('dropped', (reason: string) => {
      if (reason === 'replaced') viewer.replaced++;
      else viewer.dropped++;
    });
    ws.on('close', () => {
      viewers.delete(viewer);
      if (viewer.slowTimer !== null) clearInterval(viewer.slowTimer);
    });
    ws.on('message', (data, isBinary) => {
      const verdict = viewer.limiter.take();
      if (verdict === 'flooding') return ws.close(1008, 'too many messages');
      if (verdict === 'refuse') return refuse(viewer, { code: 'rate-limited', text: 'too many messages: slow down' });
      if (isBinary) return refuse(viewer, { code: 'binary-not-accepted', text: 'messages are JSON text' });
      const known = new Set(catalog().map((info) => info.id));
      const command = readViewerCommand(String(data), known, LIMITS);
      if ('code' in command) return refuse(viewer, command);
      if (command.type === 'select') select(viewer, command.series);
      else setSlow(viewer, command.on);
    });
    ws.send(catalogMessage(viewer), { key: 'catalog' });
    select(viewer, viewer.ids);
  });

  if (context.redisUrl) relay = await SeriesRelay.open(context.redisUrl, sampler.catalog, () => sendCatalogToAll());
  const index = new Map<string, number>(sampler.catalog.map((info, i) => [info.id, i]));
  let ticks = 0;
  const timer = setInterval(() => {
    const t = Date.now();
    const values = sampler.sample();
    relay?.publish(t, values);
    const valueOf = (id: string): number | null => {
      const i = index.get(id);
      if (i !== undefined) return round(values[i]!);
      return relay === null ? null : relay.value(id);
    };
    ticks++;
    for (const viewer of viewers) {
      const { ws } = viewer;
      viewer.seq++;
      const result = ws.send(json({ type: 'samples', seq: viewer.seq, version: viewer.version, t, values: viewer.ids.map(valueOf) }), { key: 'samples' });
      if (result === 'sent') viewer.sent++;
      viewer.maxBuffered = Math.max(viewer.maxBuffered, ws.bufferedAmount);
      if (ticks % LIMITS.statsEveryTicks === 0) {
        const { sent, replaced, dropped, maxBuffered } = viewer;
        ws.send(json({ type: 'stats', sent, replaced, dropped, buffered: ws.bufferedAmount, maxBuffered, slow: viewer.slowTimer !== null }), { key: 'stats' });
      }
    }
  }, LIMITS.tickMs);

  const demo: Demo = {
    name: 'dashboard',
    title: 'Live dashboard',
    summary:
      'Forty metric series (this process, the machine, synthetic waves and sensors) sampled 20 times a second and streamed, compressed, to each tab, which picks the series it charts. Turn on "simulate slow client": the server then holds that tab\'s socket writes and releases them in bursts, and the `latest` backpressure policy keeps only the newest frame waiting instead of a growing queue; the tab shows how many frames were replaced and how many bytes ever waited.',
    handleRequest: servePublicFiles(files, base),
    handleUpgrade: upgradeAt(wss, `${base}ws`),
    async close() {
      clearInterval(timer);
      for (const viewer of viewers) setSlow(viewer, false);
      sampler.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await relay?.close();
    },
  };
  return demo;
};

/** Four significant decimals are plenty for a chart and keep frames small. */
function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
