/**
 * The chat demo, mounted at /chat/ by the home server (apps/server.ts): rooms on the real-time
 * layer (fullduplex/realtime), the page on its browser client (fullduplex/client).
 *
 * Each room is a channel, `chat:<room>`. Every page subscribes to all four, so it counts unread
 * messages in the rooms it does not show, and after a reconnect the layer's recovery gives it
 * what it missed, in order, once. The server keeps each room's last messages (chat-history.ts,
 * written to the demo's data folder) so that a page whose recovery failed (a server restart:
 * a new epoch) reloads them.
 *
 * Who is where is the layer's presence on one channel, `chat:people`: each connection (tab) is a
 * member under the user `<connection id>:<name>` (the name is the server's, so no page can speak
 * for another), with the metadata its page sets: `{color, room, typing}` (room: the one it shows,
 * typing: true while its text box is not empty, cleared on send or after typingMs idle). Pages
 * group members by name per room (several tabs of one name count once, typing if any types).
 * With --redis the members live in a RedisPresenceStore, so every process sees all of them; a
 * process that dies takes its members with it within the store's ttl.
 *
 * Wire (fdx.v1 events; connect data {name}):
 *   welcome                    {name, color, rooms}
 *   chat:history {room}        -> {history}      the room's last messages
 *   chat:send    {room, text}  -> {id}           published on chat:<room> as {id, name, color, text, ts}
 *   subscribe chat:people, set-presence {color, room, typing}
 * Refusals are RealtimeErrors (INVALID_PAYLOAD, CHANNEL_FORBIDDEN, RATE_LIMITED, ...).
 * Must not: reach into src/, or let a page publish on a channel itself (all goes through chat:send).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MemoryEngine, RealtimeServer, type Engine, type PresenceStore, type RealtimeConnection } from 'fullduplex/realtime';
import { browserClientFile } from '../shared/browser-client.js';
import { openRedisEngine } from '../shared/open-redis-engine.js';
import type { CreateDemo } from '../shared/demo.js';
import { PublicFolder } from '../shared/public-folder.js';
import { RealtimeEndpoint, pathBelow } from '../shared/realtime-endpoint.js';
import { EngineChatHistory, FileChatHistory, type ChatHistory, type ChatLine } from './chat-history.js';
import { readMessage, readName, readRoom } from './client-command.js';

/** The rooms, in the order the page lists them. */
export const ROOMS = ['general', 'random', 'tech', 'games'] as const;

export const LIMITS = {
  /** Longest chat message, in characters (UTF-16 code units, as the page's maxlength counts). */
  maxTextLength: 500,
  /** Longest nickname, in characters. */
  maxNameLength: 24,
  /** Messages kept per room (and shown to whoever enters it). */
  maxHistory: 50,
  /** A page stops saying it types after this long without a keystroke. */
  typingMs: 5000,
  /** Largest fdx.v1 message, in bytes of UTF-8. */
  maxMessageBytes: 8 * 1024,
  /** Events per second per connection (bursts of twice that); a flood is closed with 4001. */
  eventsPerSecond: 10,
  /** With Redis: how long the rooms' messages are kept, in ms (a week). */
  historyTtlMs: 7 * 24 * 3600 * 1000,
  /** With Redis: the presence ttl (a dead process's members leave within about 4/3 of it). */
  presenceTtlMs: 15_000,
} as const;

interface Visitor {
  name: string;
  color: string;
}

const ADJECTIVES = ['Brave', 'Calm', 'Clever', 'Eager', 'Gentle', 'Happy', 'Jolly', 'Lucky', 'Quick', 'Quiet', 'Witty', 'Bold'];
const ANIMALS = ['Otter', 'Falcon', 'Badger', 'Heron', 'Lynx', 'Panda', 'Koala', 'Fox', 'Owl', 'Seal', 'Wren', 'Yak'];
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;

/** A colour per name, the same on every process and after every restart. */
export function colorOf(name: string): string {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  return `hsl(${hash % 360} 65% 38%)`;
}

export const channelOf = (room: string): string => `chat:${room}`;

/** The presence channel: every page is a member, its metadata says which room it shows. */
export const PEOPLE_CHANNEL = 'chat:people';

/** The presence user of a connection: its id (each tab a member) and the name the server gave it. */
export const userOf = (connection: RealtimeConnection<any, Visitor>): string => `${connection.id}:${connection.data.name}`;

export const createDemo: CreateDemo = async (context) => {
  const processId = randomBytes(4).toString('hex');
  let engine: Engine;
  let history: ChatHistory;
  let presenceStore: PresenceStore | undefined;
  if (context.redisUrl) {
    engine = await openRedisEngine(context.redisUrl, { keyPrefix: 'fdx-demo:chat:', historySize: LIMITS.maxHistory, historyTtlMs: LIMITS.historyTtlMs });
    history = new EngineChatHistory(engine, channelOf, LIMITS.maxHistory);
    const { RedisPresenceStore } = await import('fullduplex/redis');
    presenceStore = new RedisPresenceStore({ url: context.redisUrl, keyPrefix: 'fdx-demo:chat:', ttlMs: LIMITS.presenceTtlMs });
  } else {
    engine = new MemoryEngine({ historySize: LIMITS.maxHistory });
    history = new FileChatHistory(ROOMS, LIMITS.maxHistory, context.dataDir);
  }
  let nextId = 0;
  const readable = new Set([...ROOMS.map(channelOf), PEOPLE_CHANNEL]);
  const realtime: RealtimeServer<any, any, Visitor> = new RealtimeServer<any, any, Visitor>({
    engine,
    maxMessageBytes: LIMITS.maxMessageBytes,
    publishRatePerSecond: LIMITS.eventsPerSecond,
    publishBurst: LIMITS.eventsPerSecond * 2,
    authenticate: ({ data }) => {
      const name = readName(data, LIMITS.maxNameLength) || `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;
      return { name, color: colorOf(name) };
    },
    authorize: (_connection, channel, action) => action === 'subscribe' && readable.has(channel),
    welcome: (connection) => ({ ...connection.data, rooms: ROOMS }),
    presence: (channel) => channel === PEOPLE_CHANNEL,
    ...(presenceStore ? { presenceStore } : {}),
    userId: userOf,
    presenceMeta: (connection) => ({ color: connection.data.color, room: null, typing: false }),
  });

  const visitor = (connection: RealtimeConnection<any, Visitor>): Visitor => connection.data;
  realtime.on('chat:history', async (data) => ({ history: await history.lines(readRoom(data, ROOMS)) }));
  realtime.on('chat:send', async (data, connection, { key }) => {
    const { room, text } = readMessage(data, ROOMS, LIMITS.maxTextLength);
    const { name, color } = visitor(connection);
    const line: ChatLine = { id: `${processId}.${(nextId++).toString(36)}`, name, color, text, ts: Date.now() };
    // The key makes a resent request (after a drop) one message, not two.
    const { duplicate } = await realtime.publish(channelOf(room), line, key ? { key } : {});
    if (!duplicate) history.add(room, line);
    return { id: line.id };
  });

  const endpoint = new RealtimeEndpoint(realtime, `${context.basePath}rt`);
  const files = new PublicFolder(fileURLToPath(new URL('./public/', import.meta.url)), { 'client.js': browserClientFile() });
  context.log(`rooms ${ROOMS.join(', ')}; history ${context.redisUrl ? `in Redis at ${context.redisUrl}` : `kept in ${context.dataDir}`}`);

  return {
    name: 'chat',
    title: 'Chat',
    summary:
      'Rooms where each message is published once on a channel and framed once for all its readers. The list on the left counts who is in each room and marks unread messages in the others; the presence list shows who is typing. Cut the network or restart the server: the page says it is offline, and on return it gets every message it missed, once, in order (recovery), or reloads the room when the server lost its positions. A reload returns to the same room.',
    handleRequest: async (req, res) => {
      const below = pathBelow(req, context.basePath);
      return below !== null && files.serve(req, res, below);
    },
    handleUpgrade: (req, socket, head) => endpoint.handleUpgrade(req, socket, head),
    close: async () => {
      await endpoint.close();
      await presenceStore?.close();
      await history.flush();
      await engine.close();
    },
  };
};
