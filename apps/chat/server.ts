/**
 * The chat demo: one node:http server serves the page (public/) and, on the path /ws, a
 * WebSocketServer through which every open tab chats with the others.
 *
 * Wire format, JSON text messages of the shape {type, name, text, ts}:
 *   client -> server  {type: 'message', text}
 *   server -> client  {type: 'welcome', name, text, ts, online, history}  your name, who is here
 *                     {type: 'message', name, text, ts}
 *                     {type: 'join' | 'leave', name, text, ts, online}
 *                     {type: 'error', name, text, ts}                       your last input was refused
 * The nickname comes from the query string (/ws?name=Ada); an empty or missing one gets a
 * generated name, a taken one a numeric suffix.
 *
 * Run: npm start (PORT env or --port to choose the port, default 8080).
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { WebSocketServer, type WebSocket } from 'fullduplex';

export const LIMITS = {
  /** Longest chat message, in characters (UTF-16 code units, as the page's maxlength counts). */
  maxTextLength: 500,
  /** Longest nickname, in characters. */
  maxNameLength: 24,
  /** Largest WebSocket message accepted; anything bigger is closed with 1009. */
  maxPayload: 8 * 1024,
  /** Messages kept to show to newcomers. */
  maxHistory: 50,
} as const;

export interface ChatOptions {
  port?: number;
  host?: string;
}

export interface Chat {
  /** http://host:port/ of the page. */
  url: string;
  port: number;
  server: http.Server;
  wss: WebSocketServer;
  /** Closes every chat connection (1001) and the HTTP server. */
  close(): Promise<void>;
}

interface ChatEvent {
  type: 'welcome' | 'message' | 'join' | 'leave' | 'error';
  name: string;
  text: string;
  ts: number;
  online?: number;
  history?: ChatEvent[];
}

const PUBLIC = new URL('./public/', import.meta.url);
/** The only files served: no path from the request ever reaches the file system. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const ADJECTIVES = ['Brave', 'Calm', 'Clever', 'Eager', 'Gentle', 'Happy', 'Jolly', 'Lucky', 'Quick', 'Quiet', 'Witty', 'Bold'];
const ANIMALS = ['Otter', 'Falcon', 'Badger', 'Heron', 'Lynx', 'Panda', 'Koala', 'Fox', 'Owl', 'Seal', 'Wren', 'Yak'];

/** Starts the chat; resolves once it accepts connections. Port 0 picks a free port. */
export async function startChat(options: ChatOptions = {}): Promise<Chat> {
  const server = http.createServer((req, res) => {
    void serveFile(req, res);
  });
  const wss = new WebSocketServer({ server, path: '/ws', maxPayload: LIMITS.maxPayload });
  const members = new Map<WebSocket, string>();
  const history: ChatEvent[] = [];

  const broadcast = (event: ChatEvent): void => {
    const data = JSON.stringify(event);
    for (const ws of members.keys()) {
      if (ws.readyState === ws.OPEN) ws.send(data);
    }
  };

  wss.on('connection', (ws, req) => {
    const name = uniqueName(requestedName(req.url), new Set(members.values()));
    members.set(ws, name);
    const now = Date.now();
    ws.send(
      JSON.stringify({
        type: 'welcome',
        name,
        text: `Welcome, ${name}!`,
        ts: now,
        online: members.size,
        history,
      } satisfies ChatEvent),
    );
    broadcast({ type: 'join', name, text: `${name} joined`, ts: now, online: members.size });

    ws.on('message', (data, isBinary) => {
      const text = isBinary ? null : readChatText(String(data));
      if (typeof text !== 'string') {
        const reason = text === null ? 'expected {"type":"message","text":"..."}' : text.error;
        ws.send(JSON.stringify({ type: 'error', name, text: reason, ts: Date.now() } satisfies ChatEvent));
        return;
      }
      const event: ChatEvent = { type: 'message', name, text, ts: Date.now() };
      history.push(event);
      if (history.length > LIMITS.maxHistory) history.shift();
      broadcast(event);
    });
    // Protocol violations (e.g. a message over maxPayload) close the connection; 'close' follows.
    ws.on('error', () => {});
    ws.on('close', () => {
      if (!members.delete(ws)) return;
      broadcast({ type: 'leave', name, text: `${name} left`, ts: Date.now(), online: members.size });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? 'localhost';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`;

  return {
    url,
    port: address.port,
    server,
    wss,
    close: () =>
      new Promise<void>((resolve) => {
        wss.close(() => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }),
  };
}

async function serveFile(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const pathname = (req.url ?? '/').split('?')[0]!;
  const entry = Object.hasOwn(FILES, pathname) ? FILES[pathname] : undefined;
  if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(entry ? 405 : 404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(entry ? 'Method Not Allowed\n' : 'Not Found\n');
    return;
  }
  try {
    const body = await readFile(new URL(entry.file, PUBLIC));
    res.writeHead(200, {
      'Content-Type': entry.type,
      'Content-Length': body.length,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Internal Server Error\n');
  }
}

/**
 * Validates one client message: a JSON object {type: 'message', text: string} whose text, once
 * trimmed and stripped of control characters (newlines and tabs excepted), is 1 to maxTextLength
 * characters. Returns the clean text, null for a wrong shape, or a reason.
 */
export function readChatText(raw: string): string | null | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const { type, text } = parsed as { type?: unknown; text?: unknown };
  if (type !== 'message' || typeof text !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
  if (clean.length === 0) return { error: 'empty message' };
  if (clean.length > LIMITS.maxTextLength) return { error: `message longer than ${LIMITS.maxTextLength} characters` };
  return clean;
}

/** The nickname asked for in /ws?name=..., cleaned to printable text of at most maxNameLength. */
function requestedName(url: string | undefined): string {
  const query = url?.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const raw = new URLSearchParams(query).get('name') ?? '';
  // eslint-disable-next-line no-control-regex
  return raw.replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim().slice(0, LIMITS.maxNameLength).trim();
}

function uniqueName(wanted: string, taken: Set<string>): string {
  let base = wanted;
  if (base === '') {
    base = `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;
  }
  if (!taken.has(base)) return base;
  for (let i = 2; i < 10_000; i++) {
    const candidate = `${base.slice(0, LIMITS.maxNameLength - String(i).length - 1)} ${i}`;
    if (!taken.has(candidate)) return candidate;
  }
  return `${base.slice(0, 10)} ${Date.now()}`;
}

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)]!;
}

async function run(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' } } });
  const portText = values.port ?? process.env.PORT ?? '8080';
  const port = Number(portText);
  if (!/^[0-9]+$/.test(portText) || port > 65535) {
    console.error(`chat: invalid port '${portText}'`);
    process.exitCode = 2;
    return;
  }
  const chat = await startChat({ port, host: values.host });
  console.log(`chat listening on ${chat.url}`);
  const stop = (): void => {
    void chat.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().catch((error: unknown) => {
    console.error(`chat: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
