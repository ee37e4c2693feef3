/**
 * The chat demo: one node:http server serves the page (public/) and, on the path /ws, a
 * WebSocketServer through which every open tab chats in rooms. Each room is a topic: a chat
 * message is published once (wss.publish, framed once) and reaches the room's members on every
 * process. With --redis, several processes share one Redis and form one chat; the room directory
 * (room-directory.ts) tells each process who is where and what was said recently.
 *
 * Wire format, JSON text messages:
 *   client -> server  see client-command.ts: join, leave, message
 *   server -> client  {type: 'welcome', name, text, ts, rooms, online}   your name, the rooms
 *                     {type: 'rooms', rooms, online}                     counts changed
 *                     {type: 'joined', room, members, history, text, ts} you are in `room`
 *                     {type: 'left', room, text, ts}                     you left `room`
 *                     {type: 'message', id, room, name, text, ts}        someone said (you too)
 *                     {type: 'join' | 'leave', room, name, text, ts}     someone came or went
 *                     {type: 'error', code, text, ts}                    your last input was refused
 *   where rooms is [{name, online}] in a fixed order and online counts everyone connected.
 * The nickname comes from the query string (/ws?name=Ada); an empty or missing one gets a
 * generated name, a taken one a numeric suffix, a long one is shortened (the welcome says so).
 *
 * Run: npm start [-- --port 8080] [--host H] [--redis redis://127.0.0.1:6379 [--redis-prefix P]]
 * (PORT env also sets the port; --heartbeat-ms sets how often processes announce themselves.)
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { MemoryBroker, WebSocketServer, type Broker, type WebSocket } from 'fullduplex';
import { readCommand, type Refusal } from './client-command.js';
import { RateLimiter } from './rate-limiter.js';
import { RoomDirectory, type ChatLine } from './room-directory.js';

/** The rooms, in the order the page lists them. */
export const ROOMS = ['general', 'random', 'tech', 'games'] as const;

export const LIMITS = {
  /** Longest chat message, in characters (UTF-16 code units, as the page's maxlength counts). */
  maxTextLength: 500,
  /** Longest nickname, in characters. */
  maxNameLength: 24,
  /** Largest WebSocket message accepted; anything bigger is closed with 1009. */
  maxPayload: 8 * 1024,
  /** Bytes waiting for a slow reader before it is closed with 1008. */
  maxBackpressure: 1024 * 1024,
  /** Messages kept per room to show to newcomers. */
  maxHistory: 50,
  /** Client messages of any kind: a burst of 20, then 5 a second; 40 refusals close with 1008. */
  rate: { burst: 20, perSecond: 5, maxStrikes: 40 },
} as const;

export interface ChatOptions {
  port?: number;
  host?: string;
  /** Share rooms with the other chat processes on this Redis; default: this process alone. */
  redisUrl?: string;
  /** Prefix of every Redis channel the chat uses. Default 'fdx-chat:'. */
  redisPrefix?: string;
  /** How often this process re-announces its members to the others. Default 5000. */
  heartbeatMs?: number;
}

export interface Chat {
  /** http://host:port/ of the page. */
  url: string;
  port: number;
  server: http.Server;
  wss: WebSocketServer;
  directory: RoomDirectory;
  /** Says goodbye to the other processes, closes every chat connection (1001) and the HTTP server. */
  close(): Promise<void>;
}

/** One connection of this process. */
interface Member {
  id: string;
  name: string;
  /** The room the member is in; null before the first join and after a leave. */
  room: string | null;
  /** A room being joined, until the broker confirmed its topic's subscription. */
  joining: string | null;
  /** Bumped by every join and leave, so a join overtaken by another is abandoned. */
  ticket: number;
  limiter: RateLimiter;
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

const topicOf = (room: string): string => `room:${room}`;
const json = (value: object): string => JSON.stringify(value);

/** Starts the chat; resolves once it accepts connections. Port 0 picks a free port. */
export async function startChat(options: ChatOptions = {}): Promise<Chat> {
  const broker = await openBroker(options);
  const server = http.createServer((req, res) => {
    void serveFile(req, res);
  });
  const wss = new WebSocketServer({
    server,
    path: '/ws',
    maxPayload: LIMITS.maxPayload,
    maxBackpressure: LIMITS.maxBackpressure,
    backpressurePolicy: 'close',
    broker,
  });
  let closing = false;

  // Room counts go to this process's clients only (wss.broadcast: framed once, no broker): each
  // process learns every change through the directory and tells its own clients.
  let roomsQueued = false;
  const roomsChanged = (): void => {
    if (roomsQueued || closing) return;
    roomsQueued = true;
    setImmediate(() => {
      roomsQueued = false;
      if (!closing) wss.broadcast(json({ type: 'rooms', rooms: directory.counts(), online: directory.online }));
    });
  };

  let lastWarningAt = 0;
  const directory = new RoomDirectory({
    bus: broker,
    rooms: ROOMS,
    heartbeatMs: options.heartbeatMs,
    maxHistory: LIMITS.maxHistory,
    onChange: roomsChanged,
    // Members of a process that stopped or went silent: every process tells its own clients.
    onRepair: ({ type, room, name }) => {
      const topic = topicOf(room);
      const text = `${name} ${type === 'join' ? 'joined' : 'left'} #${room}`;
      wss.broadcast(json({ type, room, name, text, ts: Date.now() }), { filter: (ws) => ws.isSubscribed(topic) });
    },
    onError: (error) => {
      if (Date.now() - lastWarningAt < 10_000) return;
      lastWarningAt = Date.now();
      console.warn(`chat: room directory: ${error.message}`);
    },
  });
  try {
    await directory.start();
  } catch (error) {
    await broker.close().catch(() => undefined);
    throw new Error(`cannot reach the broker${options.redisUrl ? ` at ${options.redisUrl}` : ''}: ${(error as Error).message}`, { cause: error });
  }

  const refuse = (ws: WebSocket, { code, text }: Refusal): void => {
    ws.send(json({ type: 'error', code, text, ts: Date.now() }));
  };

  /**
   * Leaves the member's room (or abandons the join under way); true if it was in one. The
   * directory is told unless the member is disconnecting (its removal follows).
   */
  const leaveRoom = (ws: WebSocket, member: Member, disconnecting = false): boolean => {
    member.ticket++;
    if (member.joining !== null) {
      ws.unsubscribe(topicOf(member.joining));
      member.joining = null;
    }
    const room = member.room;
    if (room === null) return false;
    member.room = null;
    ws.unsubscribe(topicOf(room));
    if (!closing) {
      const text = `${member.name} left #${room}`;
      wss.publish(topicOf(room), json({ type: 'leave', room, name: member.name, text, ts: Date.now() }));
      if (!disconnecting) directory.set(member.id, member.name, null);
    }
    return true;
  };

  const joinRoom = async (ws: WebSocket, member: Member, room: string): Promise<void> => {
    if (member.room === room || member.joining === room) {
      refuse(ws, { code: 'already-in-room', text: `you are already in #${room}` });
      return;
    }
    leaveRoom(ws, member);
    const ticket = member.ticket;
    member.joining = room;
    const topic = topicOf(room);
    let reachable = true;
    try {
      // From the broker's confirmation on, the member misses nothing said in the room by any process.
      await ws.subscribeAsync(topic);
    } catch {
      reachable = false;
    }
    if (member.ticket !== ticket || ws.readyState !== ws.OPEN || closing) return;
    member.joining = null;
    member.room = room;
    directory.set(member.id, member.name, room);
    const ts = Date.now();
    ws.send(json({ type: 'joined', room, members: directory.members(room), history: directory.history(room), text: `You joined #${room}`, ts }));
    if (!reachable) {
      refuse(ws, { code: 'broker-unavailable', text: 'the other chat servers are unreachable: you may miss what is said there until they are back' });
    }
    ws.publish(topic, json({ type: 'join', room, name: member.name, text: `${member.name} joined #${room}`, ts }));
  };

  const say = (ws: WebSocket, member: Member, text: string): void => {
    const room = member.room;
    if (room === null) {
      refuse(ws, { code: 'not-in-room', text: 'join a room first' });
      return;
    }
    const line: ChatLine = { id: directory.newId(), name: member.name, text, ts: Date.now() };
    // History first: a process that delivers the message has already recorded it.
    directory.said(room, line);
    wss.publish(topicOf(room), json({ type: 'message', room, ...line }), {}, (error) => {
      if (error && ws.readyState === ws.OPEN) {
        refuse(ws, { code: 'broker-unavailable', text: 'your message reached only the people on this server: the others are unreachable' });
      }
    });
  };

  wss.on('connection', (ws, req) => {
    const { name: wanted, shortened } = requestedName(req.url);
    const name = uniqueName(wanted, directory.names());
    const member: Member = { id: directory.newId(), name, room: null, joining: null, ticket: 0, limiter: new RateLimiter(LIMITS.rate) };
    directory.set(member.id, name, null);
    const note = shortened ? ` (names are at most ${LIMITS.maxNameLength} characters)` : '';
    ws.send(json({ type: 'welcome', name, text: `Welcome, ${name}!${note}`, ts: Date.now(), rooms: directory.counts(), online: directory.online }));

    ws.on('message', (data, isBinary) => {
      const verdict = member.limiter.take();
      if (verdict === 'flooding') {
        ws.close(1008, 'too many messages');
        return;
      }
      if (verdict === 'refuse') {
        refuse(ws, { code: 'rate-limited', text: 'too many messages: slow down' });
        return;
      }
      const command = isBinary
        ? ({ code: 'binary', text: 'binary messages are not understood: send JSON text' } as const)
        : readCommand(String(data), ROOMS, LIMITS.maxTextLength);
      if ('code' in command) {
        refuse(ws, command);
      } else if (command.type === 'join') {
        void joinRoom(ws, member, command.room);
      } else if (command.type === 'leave') {
        const room = member.room;
        if (leaveRoom(ws, member)) ws.send(json({ type: 'left', room, text: `You left #${room}`, ts: Date.now() }));
        else refuse(ws, { code: 'not-in-room', text: 'you are in no room' });
      } else {
        say(ws, member, command.text);
      }
    });
    // Protocol violations (e.g. a message over maxPayload) close the connection; 'close' follows.
    ws.on('error', () => {});
    ws.on('close', () => {
      leaveRoom(ws, member, true);
      if (!closing) directory.remove(member.id);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await directory.close();
    await broker.close().catch(() => undefined);
    throw error;
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? 'localhost';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`;

  return {
    url,
    port: address.port,
    server,
    wss,
    directory,
    close: async () => {
      if (closing) return;
      // The others forget this process's members on its 'bye' and tell their clients; the
      // closing connections below therefore publish nothing more.
      closing = true;
      await directory.close();
      await new Promise<void>((resolve) => {
        wss.close(() => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      });
      await broker.close().catch(() => undefined);
    },
  };
}

/** The broker rooms travel on: Redis shared with other processes, or one in this process. */
async function openBroker(options: ChatOptions): Promise<Broker> {
  if (!options.redisUrl) return new MemoryBroker();
  // Imported only when asked for: a lone chat process does not need the redis package.
  const { RedisBroker } = await import('fullduplex/redis');
  return new RedisBroker({ url: options.redisUrl, keyPrefix: options.redisPrefix ?? 'fdx-chat:' });
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

/** The nickname asked for in /ws?name=..., cleaned to printable text of at most maxNameLength. */
function requestedName(url: string | undefined): { name: string; shortened: boolean } {
  const query = url?.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  // eslint-disable-next-line no-control-regex
  const clean = (new URLSearchParams(query).get('name') ?? '').replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim();
  return { name: clean.slice(0, LIMITS.maxNameLength).trim(), shortened: clean.length > LIMITS.maxNameLength };
}

/**
 * `wanted`, or with a numeric suffix if someone on any process has it. Two processes may hand
 * out the same name to two people connecting at the same instant; the page tells them apart by
 * nothing more than the name, which is acceptable for a demo.
 */
function uniqueName(wanted: string, taken: Set<string>): string {
  const base = wanted === '' ? `${pick(ADJECTIVES)} ${pick(ANIMALS)}` : wanted;
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

const USAGE = 'usage: npm start -- [--port 8080] [--host HOST] [--redis redis://127.0.0.1:6379] [--redis-prefix fdx-chat:] [--heartbeat-ms 5000]';

/** A whole number from the command line within [min, max]; null (and a message) otherwise. */
function readNumber(text: string, what: string, min: number, max: number): number | null {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value < min || value > max) {
    console.error(`chat: invalid ${what} '${text}'\n${USAGE}`);
    process.exitCode = 2;
    return null;
  }
  return value;
}

async function run(): Promise<void> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        redis: { type: 'string' },
        'redis-prefix': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
      },
    }));
  } catch (error) {
    console.error(`chat: ${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const port = readNumber(values.port ?? process.env.PORT ?? '8080', 'port', 0, 65535);
  const heartbeat = values['heartbeat-ms'];
  const heartbeatMs = heartbeat === undefined ? undefined : readNumber(heartbeat, 'heartbeat', 10, 3_600_000);
  if (port === null || heartbeatMs === null) return;
  const chat = await startChat({ port, host: values.host, redisUrl: values.redis, redisPrefix: values['redis-prefix'], heartbeatMs });
  const shared = values.redis ? `, sharing rooms through ${values.redis}` : '';
  console.log(`chat listening on ${chat.url}${shared}`);
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
    // A half-open Redis client would keep the process alive.
    setImmediate(() => process.exit(1));
  });
}
