/**
 * `fdx serve`: one HTTP server, on one port, with a static folder (--static), the fdx.v1
 * real-time endpoint (fullduplex/realtime, at /rt by default), and optionally a plain echo
 * endpoint (--echo PATH) and plain topics (--topics PATH: a connection to PATH/NAME is
 * subscribed to topic NAME, and what it sends is published to the topic's other subscribers;
 * --redis shares them with other processes through RedisBroker). Upgrades to any other path
 * get 404. --metrics answers Prometheus scrapes at /metrics and --admin serves the admin page
 * at /admin (fullduplex/metrics), behind a token. SIGINT or SIGTERM drains the real-time connections (drain, then 1012), closes the
 * rest with 1001, and exits 0; a second signal exits at once.
 * Must not: import past the public entry points, or exit the process itself (save on a second
 * signal).
 */
import { randomBytes } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type Broker, type WebSocket } from '../../index.js';
import { MetricsCollector, createAdminHandler, createMetricsHandler } from '../../metrics/index.js';
import { RealtimeServer, mountRealtime } from '../../realtime.js';
import { ExitCode, UsageMistake, parseInteger, stringValue, type Command } from '../args.js';
import { formatAddress, onShutdownSignal } from '../shutdown-signals.js';
import { serveStatic } from '../static-files.js';

export interface ServeOptions {
  port: number;
  host: string;
  /** Absolute real path of the static folder, or null for none. */
  staticRoot: string | null;
  realtimePath: string;
  echoPath: string | null;
  topicsPath: string | null;
  redisUrl: string | null;
  redisPrefix: string;
  drainMs: number;
  /** Answer Prometheus scrapes at /metrics. */
  metrics: boolean;
  /** The admin page's token (madeUp: generated here, so printed at start), or null for no admin page. */
  admin: { token: string; madeUp: boolean } | null;
}

export const serveCommand: Command = {
  summary: 'Serve a static folder, an fdx.v1 real-time endpoint and plain WebSockets on one port',
  usage: [
    'Usage: fdx serve [--port PORT] [--host HOST] [--static DIR] [--realtime-path PATH]',
    '                 [--echo PATH] [--topics PATH] [--redis URL] [--drain-ms MS]',
    '                 [--metrics] [--admin] [--admin-token TOKEN]',
    '',
    'Serves, on one port until SIGINT or SIGTERM:',
    '  - the files of --static DIR (GET and HEAD; other methods 405; paths never leave DIR);',
    '  - the real-time endpoint (fdx.v1, fullduplex/realtime) at --realtime-path;',
    '  - with --echo PATH, a plain WebSocket echo endpoint;',
    '  - with --topics PATH, plain topics: a connection to PATH/NAME is subscribed to topic',
    '    NAME, and each message it sends goes to the topic\'s other subscribers;',
    '  - with --metrics, Prometheus metrics at /metrics (fullduplex/metrics);',
    '  - with --admin, the admin page at /admin: live numbers, the busiest channels,',
    '    publish to a channel, disconnect a connection; behind a token.',
    'Prints "listening on http://HOST:PORT" and the endpoints once it accepts connections.',
    'On SIGINT or SIGTERM it drains: real-time clients get "drain" and then 1012 (spread',
    'over --drain-ms), plain ones 1001; then it exits 0. A second signal exits at once.',
    '',
    'Options:',
    '  --port PORT           TCP port, 0 for any free port (default 8080)',
    '  --host HOST           Address to bind (default 127.0.0.1; 0.0.0.0 for every interface)',
    '  --static DIR          Folder to serve (default: none, plain requests get 404)',
    '  --realtime-path PATH  Path of the fdx.v1 endpoint (default /rt)',
    '  --echo PATH           Path of a plain echo endpoint (default: none)',
    '  --topics PATH         Path prefix of plain topics (default: none)',
    '  --redis URL           Share plain topics with other processes through Redis',
    '                        (RedisBroker). The real-time layer has no Redis engine yet:',
    '                        its channels stay within this process.',
    '  --redis-prefix PREFIX Prefix of the Redis channels (default fdx:)',
    '  --drain-ms MS         Period over which the drain spreads real-time clients\'',
    '                        reconnections (default 1000)',
    '  --metrics             Answer Prometheus scrapes at /metrics (no token: bind it',
    '                        to a private address)',
    '  --admin               Serve the admin page at /admin. Its token is --admin-token,',
    '                        else $FDX_ADMIN_TOKEN, else a random one printed at start',
    '  --admin-token TOKEN   The admin page\'s token (at least 8 characters; implies --admin)',
    '  -h, --help            Show this help',
    '',
    'Exit codes: 0 after a signal drained it, 1 when it cannot listen (e.g. the port is',
    'taken), 2 usage mistake.',
  ].join('\n'),
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    static: { type: 'string' },
    'realtime-path': { type: 'string' },
    echo: { type: 'string' },
    topics: { type: 'string' },
    redis: { type: 'string' },
    'redis-prefix': { type: 'string' },
    'drain-ms': { type: 'string' },
    metrics: { type: 'boolean' },
    admin: { type: 'boolean' },
    'admin-token': { type: 'string' },
  },
  positionals: false,
  async run({ values }) {
    const host = stringValue(values, 'host') ?? '127.0.0.1';
    if (host === '') throw new UsageMistake('--host must not be empty');
    const paths = {
      realtime: checkPath('--realtime-path', stringValue(values, 'realtime-path') ?? '/rt'),
      echo: optionalPath('--echo', stringValue(values, 'echo')),
      topics: optionalPath('--topics', stringValue(values, 'topics')),
    };
    const taken = [paths.realtime, paths.echo, paths.topics].filter((p): p is string => p !== null);
    if (new Set(taken).size !== taken.length) throw new UsageMistake(`the endpoints need different paths, got ${taken.join(', ')}`);
    const redisUrl = stringValue(values, 'redis') ?? null;
    if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) throw new UsageMistake(`--redis wants redis://HOST:PORT, got '${redisUrl}'`);
    return serve({
      port: parseInteger('--port', stringValue(values, 'port'), 0, 65535) ?? 8080,
      host,
      staticRoot: staticRoot(stringValue(values, 'static')),
      realtimePath: paths.realtime,
      echoPath: paths.echo,
      topicsPath: paths.topics,
      redisUrl,
      redisPrefix: stringValue(values, 'redis-prefix') ?? 'fdx:',
      drainMs: parseInteger('--drain-ms', stringValue(values, 'drain-ms'), 0, 600_000) ?? 1000,
      metrics: values.metrics === true,
      admin: adminToken(values.admin === true, stringValue(values, 'admin-token')),
    });
  },
};

/** The admin token: given, else from the environment, else made up (and printed at start). */
function adminToken(admin: boolean, given: string | undefined): { token: string; madeUp: boolean } | null {
  if (given === undefined && !admin) return null;
  const token = given ?? process.env.FDX_ADMIN_TOKEN;
  if (token === undefined) return { token: randomBytes(12).toString('base64url'), madeUp: true };
  if (token.length < 8) throw new UsageMistake('the admin token must have at least 8 characters');
  return { token, madeUp: false };
}

function checkPath(flag: string, path: string): string {
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(path)) throw new UsageMistake(`${flag} must be a path starting with "/", got '${path}'`);
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function optionalPath(flag: string, path: string | undefined): string | null {
  return path === undefined ? null : checkPath(flag, path);
}

function staticRoot(dir: string | undefined): string | null {
  if (dir === undefined) return null;
  try {
    const root = realpathSync(resolvePath(dir));
    if (statSync(root).isDirectory()) return root;
  } catch {
    // reported below
  }
  throw new UsageMistake(`--static ${dir} is not a folder`);
}

/** Runs the server; resolves to the exit code after a signal drained it, or it failed to start. */
export async function serve(options: ServeOptions): Promise<ExitCode> {
  let broker: Broker | undefined;
  if (options.redisUrl !== null && options.topicsPath !== null) {
    // Loaded only when asked for: the redis package is an optional peer dependency.
    const { RedisBroker } = await import('../../broker/redis.js');
    broker = new RedisBroker({ url: options.redisUrl, keyPrefix: options.redisPrefix });
  } else if (options.redisUrl !== null) {
    process.stderr.write('fdx: --redis shares plain topics only; without --topics it has nothing to share\n');
  }

  const realtime = new RealtimeServer();
  const endpoints = new Map<string, WebSocketServer>();
  endpoints.set(options.realtimePath, mountRealtime(realtime, { noServer: true }));
  if (options.echoPath !== null) endpoints.set(options.echoPath, echoEndpoint());
  const topics = options.topicsPath !== null ? topicsEndpoint(broker) : null;
  const collector = options.metrics || options.admin !== null ? new MetricsCollector() : null;
  const metrics = options.metrics ? createMetricsHandler(collector!) : null;
  const plain = [...(options.echoPath !== null ? [endpoints.get(options.echoPath)!] : []), ...(topics ? [topics] : [])];
  const admin = options.admin !== null ? createAdminHandler({ token: options.admin.token, collector: collector!, realtime, wss: plain }) : null;
  const http = createServer((request, response) => {
    if (metrics && pathOf(request) === '/metrics') metrics(request, response);
    else if (!admin?.(request, response)) serveStatic(options.staticRoot, request, response);
  });

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = pathOf(request);
    let wss = path === null ? undefined : endpoints.get(path);
    let topic: string | null = null;
    if (!wss && topics && path !== null && path.startsWith(`${options.topicsPath}/`)) {
      topic = decodeTopic(path.slice(options.topicsPath!.length + 1));
      if (topic !== null) wss = topics;
    }
    if (!wss) {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\n404 Not Found\n');
      return;
    }
    const target = wss;
    target.handleUpgrade(request, socket, head, (ws) => target.emit('connection', ws, request, topic));
  });

  return new Promise((resolve) => {
    let listening = false;
    const shutdown = async (): Promise<void> => {
      http.close();
      await realtime.drain(options.drainMs);
      const closing = [...endpoints.values(), ...(topics ? [topics] : [])].map((wss) => new Promise<void>((done) => wss.close(() => done())));
      await Promise.all(closing);
      await realtime.close();
      await broker?.close().catch(() => undefined);
      collector?.close();
      http.closeAllConnections();
    };
    const stopHandlingSignals = onShutdownSignal('draining', () => {
      void shutdown().then(() => {
        stopHandlingSignals();
        resolve(ExitCode.OK);
      });
    });

    http.on('listening', () => {
      listening = true;
      const base = formatAddress(http.address() as AddressInfo);
      const parts = [`realtime ws://${base}${options.realtimePath}`];
      if (options.echoPath !== null) parts.push(`echo ws://${base}${options.echoPath}`);
      if (options.topicsPath !== null) parts.push(`topics ws://${base}${options.topicsPath}/NAME${broker ? ' (through Redis)' : ''}`);
      parts.push(options.staticRoot === null ? 'no static folder' : `static ${options.staticRoot}`);
      if (options.metrics) parts.push(`metrics http://${base}/metrics`);
      process.stdout.write(`listening on http://${base} (${parts.join(', ')})\n`);
      // The token is printed only when it was made up here: a given one is the operator's already.
      if (options.admin !== null) process.stdout.write(`admin http://${base}/admin${options.admin.madeUp ? ` (token ${options.admin.token})` : ''}\n`);
    });
    http.on('error', (error: NodeJS.ErrnoException) => {
      if (listening) {
        process.stderr.write(`fdx: server error: ${error.message}\n`);
        return;
      }
      const why = error.code === 'EADDRINUSE' ? 'the port is taken (EADDRINUSE)' : error.code === 'EACCES' ? 'permission denied (EACCES)' : (error.code ?? error.message);
      process.stderr.write(`fdx: cannot listen on ${options.host}:${options.port}: ${why}\n`);
      stopHandlingSignals();
      collector?.close();
      void realtime.close().then(() => broker?.close().catch(() => undefined)).then(() => resolve(ExitCode.FAILURE));
    });
    http.listen(options.port, options.host);
  });
}

function echoEndpoint(): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on('error', () => {}); // a peer's violation closes that connection only
  });
  return wss;
}

function topicsEndpoint(broker: Broker | undefined): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, ...(broker ? { broker } : {}) });
  wss.on('connection', (ws: WebSocket, _request: IncomingMessage, topic: string) => {
    ws.on('error', () => {});
    ws.subscribeAsync(topic).catch((error: Error) => process.stderr.write(`fdx: topic ${topic}: ${error.message}\n`));
    ws.on('message', (data, isBinary) => {
      ws.publish(topic, data as Buffer, { binary: isBinary }, (error?: Error | null) => {
        if (error) process.stderr.write(`fdx: topic ${topic}: ${error.message}\n`);
      });
    });
  });
  wss.on('publishError', () => {}); // reported through the callbacks above
  return wss;
}

function pathOf(request: IncomingMessage): string | null {
  try {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    return path.length > 1 ? path.replace(/\/+$/, '') : path;
  } catch {
    return null;
  }
}

/** A topic name from the rest of the path: percent-decoded, 1 to 200 characters, no "/". */
function decodeTopic(raw: string): string | null {
  try {
    const topic = decodeURIComponent(raw);
    return topic.length > 0 && topic.length <= 200 && !topic.includes('/') ? topic : null;
  } catch {
    return null;
  }
}
