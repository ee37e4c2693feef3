/**
 * The public types of the fdx.v1 client (realtime-client.ts): its options, the client's
 * interface, its lifecycle events, and the parts of the platform's WebSocket and Storage it uses.
 * Must not: hold runtime code (types only, free in the browser build).
 */
import type { Clock } from '../clock.js';
import type { EventData, EventMap, EventName, EventReply } from '../event-map.js';
import type { Position, PublishResult } from '../protocol.js';
import type { RealtimeError } from '../realtime-error.js';

/** The part of the platform WebSocket the client uses. */
export interface WebSocketLike {
  readonly protocol: string;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
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

export interface RequestOptions {
  timeoutMs?: number;
  retries?: number;
  deadlineMs?: number;
}

export interface RealtimeClient<ToServer extends EventMap = EventMap, ToClient extends EventMap = EventMap> {
  readonly state: ClientState;
  /** This connection's id on the server ('' while not connected). */
  readonly id: string;
  subscribe(channel: string, handler?: (data: any, info: PublicationInfo) => void): () => void;
  /** The last position received on a channel. */
  position(channel: string): Position | undefined;
  publish(channel: string, data: unknown, options?: RequestOptions): Promise<PublishResult>;
  request<E extends EventName<ToServer>>(event: E, data: EventData<ToServer, E>, options?: RequestOptions): Promise<EventReply<ToServer, E>>;
  emit<E extends EventName<ToServer>>(event: E, data: EventData<ToServer, E>): void;
  /** Handles a server event; the handler's result (or promise) answers a request. */
  handle<E extends EventName<ToClient>>(event: E, handler: (data: EventData<ToClient, E>) => EventReply<ToClient, E> | Promise<EventReply<ToClient, E>>): void;
  on<K extends keyof Lifecycle>(type: K, listener: Lifecycle[K]): () => void;
  /** Reconnects now (skipping the backoff wait) if disconnected. */
  reconnect(): void;
  close(): void;
}
