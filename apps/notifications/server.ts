/**
 * The notifications demo, mounted at /notifications/ by the home server (apps/server.ts): each
 * user has a channel, `notify:<user>`, that only their pages may subscribe to; a back end
 * publishes to it over HTTP with a bearer token:
 *   curl -X POST http://127.0.0.1:8080/notifications/api/notify -H 'Authorization: Bearer TOKEN' \
 *        -d '{"user":"ada","title":"Build finished","body":"all green"}'
 * answers 202 {id}; 401 without the token, 400 for bad input, 413 past 4 KiB, 429 past the rate
 * (20 at once, then 10 a second; Retry-After), 405 for another method. The token is NOTIFY_TOKEN
 * or one made on first start and kept in the data folder (so processes sharing it agree).
 *
 * Delivery is the real-time layer's: the page keeps its channel position in localStorage, so a
 * user offline for a while (tab closed, network gone, server restarted with Redis) gets every
 * notification on return, once, in order; past the history window the page reloads the list.
 * Read state lives on the server (notify:read), and read markers are published on the same
 * channel, so every tab of the user agrees.
 *
 * Wire (fdx.v1; connect data {user}):
 *   welcome {user, token}   notify:list {} -> {items}   notify:read {ids | 'all'} -> {read}
 *   channel notify:<user>: {kind: 'notification', id, title, body, ts} | {kind: 'read', ids}
 * Must not: reach into src/, or let a page publish or read another user's channel.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryEngine, RealtimeError, RealtimeServer, type Engine } from 'fullduplex/realtime';
import { browserClientFile } from '../shared/browser-client.js';
import { openRedisEngine } from '../shared/open-redis-engine.js';
import type { CreateDemo } from '../shared/demo.js';
import { PublicFolder } from '../shared/public-folder.js';
import { RealtimeEndpoint, pathBelow } from '../shared/realtime-endpoint.js';
import { EngineNotificationStore, FileNotificationStore, type Notification, type NotificationEvent, type NotificationStore } from './notification-store.js';
import { HttpRefusal, USER, bearerMatches, readBody, readNotify } from './notify-request.js';
import { RateLimiter } from '../shared/rate-limiter.js';

export const LIMITS = {
  /** Largest request body of the publish endpoint. */
  maxBodyBytes: 4096,
  maxTitleLength: 120,
  maxTextLength: 1000,
  /** Publishes accepted: a burst of 20, then 10 a second (429 beyond). */
  rate: { burst: 20, perSecond: 10, maxStrikes: Number.MAX_SAFE_INTEGER },
  /** Notifications kept per user (and the channel history recovery can replay). */
  maxPerUser: 200,
  /** How long a channel keeps what an offline user has not received yet, in ms (a week). */
  historyTtlMs: 7 * 24 * 3600 * 1000,
} as const;

type Visitor = { user: string };

export const channelOf = (user: string): string => `notify:${user}`;

/** NOTIFY_TOKEN, or the data folder's token, made on first start. */
function loadToken(dataDir: string): string {
  if (process.env.NOTIFY_TOKEN) return process.env.NOTIFY_TOKEN;
  const file = join(dataDir, 'token');
  try {
    writeFileSync(file, randomBytes(18).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(file, 'utf8').trim();
}

function answer(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export const createDemo: CreateDemo = async (context) => {
  const token = loadToken(context.dataDir);
  const processId = randomBytes(4).toString('hex');
  let nextId = 0;
  let engine: Engine;
  let store: NotificationStore;
  const engineLimits = { historySize: LIMITS.maxPerUser * 2, historyTtlMs: LIMITS.historyTtlMs };
  if (context.redisUrl) {
    engine = await openRedisEngine(context.redisUrl, { keyPrefix: 'fdx-demo:notifications:', ...engineLimits });
    store = new EngineNotificationStore(engine, channelOf, engineLimits.historySize);
  } else {
    engine = new MemoryEngine(engineLimits);
    store = new FileNotificationStore(context.dataDir, LIMITS.maxPerUser);
  }
  const limiter = new RateLimiter(LIMITS.rate);

  const realtime = new RealtimeServer<any, any, Visitor>({
    engine,
    maxMessageBytes: 4096,
    authenticate: ({ data }) => {
      const user = (data as { user?: unknown } | null)?.user;
      if (typeof user !== 'string' || !USER.test(user)) throw new RealtimeError('UNAUTHORIZED', 'connect with data {user}: 1 to 32 letters, digits, _ or -');
      return { user };
    },
    authorize: (connection, channel, action) => action === 'subscribe' && channel === channelOf(connection.data.user),
    welcome: (connection) => ({ user: connection.data.user, token }),
  });
  realtime.on('notify:list', async (_data, connection) => ({ items: await store.list(connection.data.user) }));
  realtime.on('notify:read', async (data, connection) => {
    const ids = (data as { ids?: unknown } | null)?.ids;
    if (ids !== 'all' && !(Array.isArray(ids) && ids.length <= LIMITS.maxPerUser && ids.every((id) => typeof id === 'string' && id.length <= 64))) {
      throw new RealtimeError('INVALID_PAYLOAD', '"ids" must be "all" or a list of notification ids');
    }
    const user = connection.data.user;
    const read = await store.markRead(user, ids);
    if (read.length > 0) await realtime.publish(channelOf(user), { kind: 'read', ids: read } satisfies NotificationEvent);
    return { read };
  });

  const notify = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') return answer(res, 405, { error: 'method', message: 'POST a notification' }, { allow: 'POST' });
    if (!bearerMatches(req.headers.authorization, token)) {
      return answer(res, 401, { error: 'unauthorized', message: 'send Authorization: Bearer TOKEN (the token is printed at start and shown on the page)' }, { 'www-authenticate': 'Bearer' });
    }
    if (limiter.take() !== 'accept') return answer(res, 429, { error: 'rate-limited', message: `at most ${LIMITS.rate.perSecond} a second` }, { 'retry-after': '1' });
    const { user, title, body } = readNotify(await readBody(req, LIMITS.maxBodyBytes), LIMITS);
    const notification: Notification = { id: `${processId}.${(nextId++).toString(36)}`, title, body, ts: Date.now() };
    await realtime.publish(channelOf(user), { kind: 'notification', ...notification } satisfies NotificationEvent);
    store.added(user, notification);
    answer(res, 202, { id: notification.id, user });
  };

  const endpoint = new RealtimeEndpoint(realtime, `${context.basePath}rt`);
  const files = new PublicFolder(fileURLToPath(new URL('./public/', import.meta.url)), { 'client.js': browserClientFile() });
  context.log(`publish with: curl -X POST http://HOST:PORT${context.basePath}api/notify -H 'Authorization: Bearer ${token}' -d '{"user":"ada","title":"Hello","body":"from curl"}'`);

  return {
    name: 'notifications',
    title: 'Notifications',
    summary:
      'Every user has a private channel, and a back end publishes to it with one authenticated HTTP request (the curl line is on the page). Open the page as two users in two tabs: a notification goes to the right tab only, as a toast and an unread entry. Close a tab, send a few, open it again: it gets every one it missed, exactly once, from the channel\'s history (recovery). Read state is kept by the server, so all of a user\'s tabs agree.',
    handleRequest: async (req, res) => {
      const below = pathBelow(req, context.basePath);
      if (below === null) return false;
      if (below !== 'api/notify') return files.serve(req, res, below);
      try {
        await notify(req, res);
      } catch (error) {
        if (!(error instanceof HttpRefusal)) throw error;
        answer(res, error.status, { error: error.code, message: error.message }, error.status === 413 ? { connection: 'close' } : {});
      }
      return true;
    },
    handleUpgrade: (req, socket, head) => endpoint.handleUpgrade(req, socket, head),
    close: async () => {
      await endpoint.close();
      await store.flush();
      await engine.close();
    },
  };
};
