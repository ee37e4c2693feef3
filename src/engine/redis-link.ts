/**
 * The engine's way to Redis, the same for one Redis and for a Redis Cluster: commands routed by
 * key, sharded subscriptions (SSUBSCRIBE), readiness and a "reconnected" signal. One server gets
 * two connections (a subscribing one cannot run commands); a cluster client keeps one connection
 * per node and one sharded-subscriber connection per shard itself.
 * Invariants: commands are never queued while Redis is unreachable (the offline queue is off),
 * so they fail at once; an outage never crashes the process (every client has an 'error'
 * listener) and clients reconnect for ever with a backoff doubling from 50 ms; no command, (un)subscription
 * or first connection waits longer than `commandTimeoutMs` for Redis's answer.
 * Must not: know about channels, offsets or scripts.
 */
import { createClient, createCluster } from 'redis';
import { withTimeout } from './command-timeout.js';

export type ShardedListener = (message: string, channel: string) => void;

export interface RedisLink {
  readonly isReady: boolean;
  /** Sends one command to the node holding `key`. */
  run(key: string, args: string[]): Promise<unknown>;
  sSubscribe(channel: string, listener: ShardedListener): Promise<void>;
  sUnsubscribe(channel: string, listener: ShardedListener): Promise<void>;
  /** `listener` runs after each reconnection (subscriptions are restored by then). */
  onReconnect(listener: () => void): void;
  /** Connects; rejects if Redis cannot be reached now (the link keeps trying). */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export interface RedisLinkOptions {
  /** One Redis: its URL. */
  url?: string;
  /** A Redis Cluster: URLs of some of its nodes. */
  clusterUrls?: string[];
  maxReconnectDelayMs: number;
  /** Longest wait for an answer to a command, a (un)subscription or the first connection. */
  commandTimeoutMs: number;
  onError(error: unknown): void;
}

const FIRST_RECONNECT_DELAY_MS = 50;

export function makeRedisLink(options: RedisLinkOptions): RedisLink {
  const socket = {
    reconnectStrategy: (retries: number) => Math.min(FIRST_RECONNECT_DELAY_MS * 2 ** retries, options.maxReconnectDelayMs),
    connectTimeout: 2000,
  };
  const timeoutMs = options.commandTimeoutMs;
  const link = options.clusterUrls
    ? clusterLink(options.clusterUrls, socket, options.onError, timeoutMs)
    : serverLink(options.url ?? 'redis://127.0.0.1:6379', socket, options.onError, timeoutMs);
  return bounded(link, options.commandTimeoutMs);
}

/** `link` with every wait for Redis bounded by `timeoutMs`. */
function bounded(link: RedisLink, timeoutMs: number): RedisLink {
  return {
    get isReady() {
      return link.isReady;
    },
    run: (key, args) => withTimeout(link.run(key, args), timeoutMs),
    sSubscribe: (channel, listener) => withTimeout(link.sSubscribe(channel, listener), timeoutMs),
    sUnsubscribe: (channel, listener) => withTimeout(link.sUnsubscribe(channel, listener), timeoutMs),
    onReconnect: (listener) => link.onReconnect(listener),
    connect: () => withTimeout(link.connect(), timeoutMs),
    close: () => link.close(),
  };
}

function serverLink(url: string, socket: object, onError: (error: unknown) => void, timeoutMs: number): RedisLink {
  const commands = createClient({ url, disableOfflineQueue: true, socket });
  const subscriber = createClient({ url, disableOfflineQueue: true, socket });
  const reconnectListeners: Array<() => void> = [];
  let started = false;
  for (const client of [commands, subscriber]) client.on('error', onError);
  subscriber.on('ready', () => {
    if (started) for (const listener of reconnectListeners) listener();
  });
  return {
    get isReady() {
      return commands.isReady;
    },
    run: (_key, args) => commands.sendCommand(args),
    sSubscribe: (channel, listener) => subscriber.sSubscribe(channel, listener),
    sUnsubscribe: (channel, listener) => subscriber.sUnsubscribe(channel, listener),
    onReconnect: (listener) => void reconnectListeners.push(listener),
    async connect() {
      await Promise.all([firstContact(commands), firstContact(subscriber)]);
      started = true;
    },
    async close() {
      await Promise.all([commands, subscriber].map((client) => releaseClient(client, timeoutMs)));
    },
  };
}

function clusterLink(urls: string[], socket: object, onError: (error: unknown) => void, timeoutMs: number): RedisLink {
  const cluster = createCluster({
    rootNodes: urls.map((url) => ({ url })),
    defaults: { disableOfflineQueue: true, socket },
  });
  const reconnectListeners: Array<() => void> = [];
  let started = false;
  cluster.on('error', onError);
  cluster.on('node-error', onError);
  cluster.on('node-ready', () => {
    if (started) for (const listener of reconnectListeners) listener();
  });
  return {
    get isReady() {
      return cluster.isReady;
    },
    run: (key, args) => cluster.sendCommand(key, false, args),
    sSubscribe: (channel, listener) => cluster.sSubscribe(channel, listener),
    sUnsubscribe: (channel, listener) => cluster.sUnsubscribe(channel, listener),
    onReconnect: (listener) => void reconnectListeners.push(listener),
    async connect() {
      await firstContact(cluster);
      started = true;
    },
    async close() {
      await releaseClient(cluster, timeoutMs);
    },
  };
}

interface Connectable {
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/**
 * Connects; settles on the first success or the first error (the client's own promise would wait
 * through every reconnection attempt), while the client goes on trying in the background.
 */
function firstContact(client: Connectable): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown): void => {
      client.off('error', fail);
      reject(error);
    };
    client.on('error', fail);
    client.connect().then(
      () => {
        client.off('error', fail);
        resolve();
      },
      (error: unknown) => fail(error),
    );
  });
}

/** Closing methods changed names between node-redis majors (quit/disconnect in v4). */
interface Closable {
  readonly isOpen: boolean;
  readonly isReady?: boolean;
  close?(): Promise<unknown>;
  destroy?(): unknown;
  quit?(): Promise<unknown>;
  disconnect?(): Promise<unknown>;
}

/** Closes gracefully (answers still awaited), or drops the connection if Redis does not answer in time. */
export async function releaseClient(client: object, timeoutMs: number): Promise<void> {
  const closable = client as Closable;
  if (closable.isReady !== false && closable.isOpen) {
    try {
      await withTimeout(closable.close ? closable.close() : closable.quit!(), timeoutMs);
      return;
    } catch {
      // A hung Redis never answers the goodbye (or a racing failure closed it): drop it.
    }
  }
  try {
    // Not guarded by isOpen: a close() that timed out already reports the client closed.
    await (closable.destroy ? closable.destroy() : closable.disconnect?.());
  } catch {
    // Already closed: nothing is left to release.
  }
}
