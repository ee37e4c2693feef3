/**
 * The public types of the fdx.v1 client (realtime-client.ts): its options, the client's
 * interface, its lifecycle events, and the parts of the platform's WebSocket and Storage it uses.
 * Must not: hold runtime code (types only, free in the browser build).
 */
import type { Clock } from '../clock.js';
import type { EventData, EventMap, EventName, EventReply } from '../event-map.js';
import type { Position, PresenceMember, PublishResult } from '../protocol.js';
import type { RealtimeError } from '../realtime-error.js';

/** The part of the platform WebSocket the client uses. */
export interface WebSocketLike {
  readonly protocol: string;
  /** Set to 'arraybuffer': binary publications arrive as ArrayBuffers (or any Uint8Array source). */
  binaryType?: string;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocols: string | string[]) => WebSocketLike;

/** The part of the Storage interface (sessionStorage) used to keep positions. */
export interface PositionStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface ClientOptions {
  /** WebSocket class; default: the platform's (`globalThis.WebSocket`). */
  WebSocket?: WebSocketConstructor;
  /** Sent in `connect`; a function is called before every connection (e.g. to refresh a token). */
  token?: string | (() => string | Promise<string>);
  /** Sent in `connect` as `data`. */
  data?: unknown;
  /** Backoff: first delay bound and largest delay, in ms. Defaults 500 and 20000. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Time a request (publish, request) waits for its reply. Default 10000. */
  timeoutMs?: number;
  /** Resends after a timeout or a dropped connection. Default 0 (publishes always resend: they are idempotent). */
  retries?: number;
  /** Time a publish or request may take in all, queued offline included. Default 30000. */
  deadlineMs?: number;
  /** Publishes and requests kept while offline (or waiting for room in flight). Default 100. */
  maxOutbox?: number;
  /** Requests awaiting replies at once; more wait in the outbox. Default 32 (the server allows 64). */
  maxInflight?: number;
  /** Keep positions across page reloads: true for sessionStorage, or a Storage-like object. */
  persist?: boolean | PositionStorage;
  clock?: Clock;
  /** Random numbers in [0, 1) for jitter and keys. Default Math.random. */
  random?: () => number;
}

export type ClientState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface PublicationInfo extends Position {
  channel: string;
}

export interface Lifecycle {
  state: (state: ClientState) => void;
  /** Connected and welcomed; `data` is what the server's `welcome` hook gave, if anything. */
  online: (data: unknown) => void;
  offline: (code: number) => void;
  drain: () => void;
  error: (error: RealtimeError) => void;
  /** Every publication received, on any channel (server-side joins included). */
  publication: (data: unknown, info: PublicationInfo) => void;
  /** A channel was (re)subscribed: `recovered` false means publications may have been missed. */
  subscribed: (channel: string, recovered: boolean) => void;
}

/** Events of a channel's presence view. */
export interface PresenceEvents {
  /** A user became a member (its first connection subscribed, on any process). */
  join: (user: string, member: PresenceMember) => void;
  /** A member's metadata or connection count changed. */
  update: (user: string, member: PresenceMember) => void;
  /** A user is no longer a member (its last connection left); `member` is what it was. */
  leave: (user: string, member: PresenceMember) => void;
  /** A presence message was applied (a snapshot or a diff): `count` is the member count now. */
  sync: (count: number) => void;
}

/**
 * A channel's presence as this client sees it: a snapshot when the channel is (re)subscribed,
 * then the server's batched diffs. Count-only channels keep `members` empty and update `count`.
 */
export interface PresenceView {
  readonly members: ReadonlyMap<string, PresenceMember>;
  readonly count: number;
  on<K extends keyof PresenceEvents>(type: K, listener: PresenceEvents[K]): () => void;
  /**
   * Sets this user's metadata on the channel (e.g. `{ typing: true }`); kept and sent again each
   * time the channel is (re)subscribed. Resolves once the server took it (or at once while the
   * channel is not yet subscribed).
   */
  set(meta: unknown): Promise<unknown>;
}

export interface RequestOptions {
  timeoutMs?: number;
  retries?: number;
  deadlineMs?: number;
}

export interface RealtimeClient<ToServer extends EventMap = EventMap, ToClient extends EventMap = EventMap> {
  readonly state: ClientState;
  /** This connection's id on the server ('' while not connected). */
  readonly id: string;
  /** `data` is a Uint8Array for binary publications (live and recovered), else the JSON value. */
  subscribe(channel: string, handler?: (data: any, info: PublicationInfo) => void): () => void;
  /** The last position received on a channel. */
  position(channel: string): Position | undefined;
  /**
   * Publishes on a channel; a Uint8Array is a binary publication (sent in a binary frame; it is
   * sent as it is when it leaves the outbox, so do not change it before the promise settles).
   */
  publish(channel: string, data: unknown, options?: RequestOptions): Promise<PublishResult>;
  request<E extends EventName<ToServer>>(event: E, data: EventData<ToServer, E>, options?: RequestOptions): Promise<EventReply<ToServer, E>>;
  emit<E extends EventName<ToServer>>(event: E, data: EventData<ToServer, E>): void;
  /** The presence view of a channel (the same object every call); filled while subscribed to it. */
  presence(channel: string): PresenceView;
  /** Handles a server event; the handler's result (or promise) answers a request. */
  handle<E extends EventName<ToClient>>(event: E, handler: (data: EventData<ToClient, E>) => EventReply<ToClient, E> | Promise<EventReply<ToClient, E>>): void;
  on<K extends keyof Lifecycle>(type: K, listener: Lifecycle[K]): () => void;
  /** Reconnects now (skipping the backoff wait) if disconnected. */
  reconnect(): void;
  close(): void;
}
