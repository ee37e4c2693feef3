/**
 * The home server of `npm start`: one HTTP server on 127.0.0.1:8080 with the home page at / and
 * every demo of DEMO_NAMES whose apps/<name>/server.ts exists mounted at /<name>/ (its page,
 * its HTTP API and its WebSocket endpoints, through the Demo contract of shared/demo.ts).
 *   npm start [-- --port N] [--host H] [--redis URL] [--data DIR]      (PORT=N works too)
 * A taken port is one line and exit code 1; SIGINT/SIGTERM close every demo (their clients get
 * 1001 and reconnect elsewhere) and stored state is written before the exit.
 * Must not: know what a demo does, or reach into src/ (demos use the public entry points).
 */
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { renderHomePage } from './home-page.js';
import type { CreateDemo, Demo } from './shared/demo.js';
import { SourceListing } from './source-listing.js';

/** The demos, in the home page's order; each is mounted only if its folder has a server.ts. */
export const DEMO_NAMES = ['chat', 'dashboard', 'game', 'editor', 'notifications'] as const;

const APPS = fileURLToPath(new URL('./', import.meta.url));
const DEFAULT_DATA = fileURLToPath(new URL('../.data/', import.meta.url));

export interface HomeOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Every demo shares its state with the other processes on this Redis. */
  redisUrl?: string;
  /** Where demos keep files (one folder each). Default: .data/ in the repository. */
  dataDir?: string;
  /** Which demos to mount (default: all of DEMO_NAMES that exist). */
  demos?: readonly string[];
  log?: (line: string) => void;
}

export interface Home {
  url: string;
  port: number;
  server: http.Server;
  demos: readonly Demo[];
  /** Closes every demo (1001 to their clients, state written), then the HTTP server. */
  close(): Promise<void>;
}

/** Listens, then starts every demo; a listen error (e.g. EADDRINUSE) rejects before any demo starts. */
export async function startHome(options: HomeOptions = {}): Promise<Home> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = options.dataDir ?? DEFAULT_DATA;
  const wanted = options.demos ?? DEMO_NAMES;
  const demos: Demo[] = [];
  const sources = new Map<string, SourceListing>();
  const missing: string[] = [];
  let page = '';
  const closeDemos = (): Promise<unknown> => Promise.all(demos.map((demo) => demo.close().catch((error: Error) => log(`${demo.name}: close failed: ${error.message}`))));

  const server = http.createServer((req, res) => {
    void route(req, res).catch((error: Error) => {
      log(`request ${req.method} ${req.url}: ${error.message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    });
  });
  const notFound = (res: http.ServerResponse): void => {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  };
  const route = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (page === '') {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' }).end('starting\n');
      return;
    }
    if (path === '/' || path === '/index.html') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : page);
      return;
    }
    const [, first = '', second = ''] = path.split('/');
    if (first === 'source' && sources.has(second)) {
      const below = path.slice(`/source/${second}/`.length);
      if (path === `/source/${second}`) res.writeHead(301, { location: `/source/${second}/` }).end();
      else if (!sources.get(second)!.serve(req, res, below)) notFound(res);
      return;
    }
    const demo = demos.find((candidate) => candidate.name === first);
    if (demo && path === `/${first}`) {
      res.writeHead(301, { location: `/${first}/` }).end();
      return;
    }
    if (demo && (await demo.handleRequest(req, res))) return;
    notFound(res);
  };
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const first = (req.url ?? '/').split('/')[1] ?? '';
    const demo = demos.find((candidate) => candidate.name === first);
    if (demo?.handleUpgrade(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Demos start once the port is ours: a taken port is one line, before any demo says a word.
  try {
    for (const name of wanted) {
      const entry = join(APPS, name, 'server.ts');
      if (!existsSync(entry)) {
        missing.push(name);
        continue;
      }
      const { createDemo } = (await import(pathToFileURL(entry).href)) as { createDemo: CreateDemo };
      const demoData = join(dataDir, name);
      mkdirSync(demoData, { recursive: true });
      demos.push(await createDemo({ basePath: `/${name}/`, redisUrl: options.redisUrl, dataDir: demoData, log: (line) => log(`[${name}] ${line}`) }));
      sources.set(name, new SourceListing(name, join(APPS, name)));
    }
  } catch (error) {
    server.close();
    await closeDemos();
    throw error;
  }
  page = renderHomePage(demos, missing, options.redisUrl !== undefined);
  const host = options.host ?? '127.0.0.1';
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    server,
    demos,
    close: () =>
      (closing ??= (async () => {
        server.close();
        await closeDemos();
        server.closeAllConnections();
      })()),
  };
}

const USAGE = 'usage: npm start -- [--port 8080] [--host 127.0.0.1] [--redis redis://127.0.0.1:6379] [--data DIR]';

async function run(): Promise<number | null> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' }, redis: { type: 'string' }, data: { type: 'string' } } }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const portText = values.port ?? process.env.PORT ?? '8080';
  const port = Number(portText);
  if (!/^[0-9]+$/.test(portText) || port > 65535) {
    console.error(`invalid port '${portText}'\n${USAGE}`);
    return 2;
  }
  const host = values.host ?? '127.0.0.1';
  let home: Home;
  try {
    home = await startHome({ port, host, redisUrl: values.redis, dataDir: values.data });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') console.error(`port ${port} on ${host} is taken: stop what uses it, or pick another with --port N (or PORT=N)`);
    else if (code === 'EACCES') console.error(`port ${port} on ${host} needs privileges: pick another with --port N`);
    else if (code === 'EADDRNOTAVAIL') console.error(`${host} is not an address of this machine (--host)`);
    else console.error(`cannot start: ${(error as Error).message}`);
    return 1;
  }
  const shared = values.redis ? `, sharing state through ${values.redis}` : '';
  console.log(`fullduplex demos on ${home.url} (${home.demos.map((demo) => demo.name).join(', ')})${shared}`);
  const stop = (signal: string): void => {
    console.log(`${signal}: closing the demos`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void home.close().then(() => {
      console.log('stopped');
      process.exit(0);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return null;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    (exitCode) => {
      // A half-open Redis client would keep the process alive.
      if (exitCode !== null) setImmediate(() => process.exit(exitCode));
    },
    (error: unknown) => {
      console.error(`cannot start: ${(error as Error).message}`);
      setImmediate(() => process.exit(1));
    },
  );
}
