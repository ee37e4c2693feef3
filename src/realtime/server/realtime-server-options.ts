/**
 * The options of a RealtimeServer (the limits are in limits.ts), and the three presence hooks
 * read safely: a hook that throws costs a channel its presence or a member its metadata, never a
 * subscription.
 * Must not: import node:* or node/.
 */
import type { Clock } from '../clock.js';
import type { Engine } from '../engine.js';
import type { RealtimeObserver } from '../observer.js';
import type { PresenceStore } from '../presence-store.js';
import type { SessionStore } from '../session-store.js';
import type { RealtimeLimits } from './limits.js';
import type { PresenceChannelOptions } from './presence-hub.js';
import type { RealtimeConnection } from './realtime-connection.js';

export type ChannelAction = 'subscribe' | 'publish';

export interface RealtimeServerOptions<Data> extends Partial<RealtimeLimits> {
  /** Where publications are positioned, kept and fanned out. Default: a MemoryEngine owned by the server. */
  engine?: Engine;
  clock?: Clock;
  /**
   * Connection middleware: the `connect` message's token and data, and the transport's request.
   * Returns the connection's `data`; throwing (or rejecting) refuses it with UNAUTHORIZED and
   * close 4500. Default: every connection is accepted with `data` undefined.
   */
  authenticate?: (info: { token: string | undefined; data: unknown; request: unknown }) => Data | Promise<Data>;
  /** Per-channel authorization hook; false refuses with CHANNEL_FORBIDDEN. Default: all allowed. */
  authorize?: (connection: RealtimeConnection<any, Data>, channel: string, action: ChannelAction) => boolean | Promise<boolean>;
  /** Extra `data` for the `connect` reply (e.g. the user's profile), once authenticated. */
  welcome?: (connection: RealtimeConnection<any, Data>) => unknown;
  /** Called once a connection is authenticated (e.g. to join it to channels). */
  onConnection?: (connection: RealtimeConnection<any, Data>) => void;
  /** Called once an authenticated connection is closed. */
  onDisconnect?: (connection: RealtimeConnection<any, Data>, code: number, reason: string) => void;
  /**
   * Where resumable sessions are kept (e.g. `MemorySessionStore`, or `engine.sessionStore()` of a
   * RedisEngine for every process). With one, each `connect` reply carries a `session`, and a
   * client that names it in its next `connect` within `sessionTtlMs` gets its channels back
   * without `authorize` being asked again. Default: none (no sessions).
   */
  sessions?: SessionStore;
  /** How long a session outlives its connection, in ms. Default 120000. */
  sessionTtlMs?: number;
  /**
   * Which channels have presence, and how: true (members with their metadata, diffs every
   * presenceTickMs), an object (`countOnly`, `tickMs`), or false/undefined (none). Default: none.
   */
  presence?: (channel: string) => PresenceChannelOptions | boolean | undefined;
  /** Where presence is kept across processes. Default: a MemoryPresenceStore owned by the server. */
  presenceStore?: PresenceStore;
  /**
   * A connection's user: the member key of presence (a user's connections are one member).
   * Default: `data` when it is a string, else `data.user` or `data.id` when a string or a number,
   * else the connection's id.
   */
  userId?: (connection: RealtimeConnection<any, Data>) => string;
  /** A member's metadata when it joins a presence channel (before any set-presence). Default null. */
  presenceMeta?: (connection: RealtimeConnection<any, Data>, channel: string) => unknown;
  /** Told of publications, recoveries and timeouts, and reads the gauges (fullduplex/realtime: diagnostics channels). Default: none. */
  observer?: RealtimeObserver;
}

export type EventHandler<Data> = (data: any, connection: RealtimeConnection<any, Data>, meta: { key: string | undefined }) => unknown;

/** The channel's presence settings, or null when it has none. */
export function presenceOptionsOf(options: RealtimeServerOptions<any>, channel: string): PresenceChannelOptions | null {
  let decided: PresenceChannelOptions | boolean | undefined;
  try {
    decided = options.presence?.(channel);
  } catch {
    return null; // a failing policy costs the channel its presence, not the subscription
  }
  if (!decided) return null;
  return decided === true ? {} : decided;
}

/** A connection's member key: the userId hook's answer, else the user named in its data, else its id. */
export function userOf(options: RealtimeServerOptions<any>, connection: RealtimeConnection<any, any>): string {
  if (options.userId) {
    try {
      return String(options.userId(connection));
    } catch {
      return connection.id; // a failing hook makes the connection a member of its own
    }
  }
  const data = connection.data as any;
  if (typeof data === 'string') return data;
  for (const value of [data?.user, data?.id]) if (typeof value === 'string' || typeof value === 'number') return String(value);
  return connection.id;
}

/** A member's metadata when it joins `channel` (the presenceMeta hook's, else null). */
export function initialMetaOf(options: RealtimeServerOptions<any>, connection: RealtimeConnection<any, any>, channel: string): unknown {
  try {
    return options.presenceMeta?.(connection, channel) ?? null;
  } catch {
    return null;
  }
}
