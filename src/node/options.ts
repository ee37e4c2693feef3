/**
 * Every option type and default of the Node layer (connections, servers, clients,
 * permessage-deflate, single sends), and the one resolver that turns the options a user gives (to
 * a server or to a client) into the settings its connections run with. The README's limits
 * table lists and justifies each default.
 * Must not: hold state, or let server and client resolve the same option differently (where
 * their defaults differ, the tables below say so).
 */
import { Buffer } from 'node:buffer';
import type http from 'node:http';
import type net from 'node:net';
import type { PeerCertificate, SecureContextOptions, ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type zlib from 'node:zlib';
import type { MessageCodec } from '../protocol/codec.js';
import { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD, DEFAULT_MAX_PENDING_PONGS, type ConnectionOptions as CoreOptions, type Side } from '../protocol/connection.js';
import type { DeflateConfig } from '../protocol/permessage-deflate.js';
import { applyMaskFast, maskIntoFast } from './bytes/apply-mask-fast.js';
import { generateMask } from './bytes/generate-mask.js';
import { isValidUtf8Message } from './bytes/is-valid-utf8-message.js';
import type { BackpressurePolicy } from './send-policy.js';

/** The `perMessageDeflate` option, in `ws`'s shape. */
export interface PerMessageDeflateOptions extends Omit<DeflateConfig, 'clientMaxWindowBits'> {
  /** A client window limit (8 to 15); `true` (as in `ws`) offers client_max_window_bits without a value. */
  clientMaxWindowBits?: number | boolean;
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  /**
   * level, memLevel, strategy for compression (windowBits comes from negotiation). The level
   * defaults to DEFLATE_DEFAULTS.level, not zlib's 6. Any zlib option is accepted, as in `ws`.
   */
  zlibDeflateOptions?: zlib.ZlibOptions;
  zlibInflateOptions?: zlib.ZlibOptions;
  /**
   * Accepted for `ws` compatibility. zlib work here is synchronous, so exactly one zlib job runs
   * at a time per process whatever this says.
   */
  concurrencyLimit?: number;
}

/**
 * Defaults of permessage-deflate. The level is zlib's best speed: real-time messages favour
 * speed; on 2 KiB JSON records (50 streams in turn) level 1 takes about 40% of the time of
 * zlib's default 6 for about 25% more bytes. Messages under the threshold are not worth it.
 */
export const DEFLATE_DEFAULTS = {
  threshold: 1024,
  level: 1,
};

/** PerMessageDeflateOptions with the client window limit a number or absent. */
export type ResolvedDeflateOptions = Omit<PerMessageDeflateOptions, 'clientMaxWindowBits'> & DeflateConfig;

/** `perMessageDeflate: true` means every default; false or absent, no compression. */
export function resolveDeflateOptions(option: boolean | PerMessageDeflateOptions | undefined): ResolvedDeflateOptions | null {
  if (!option) return null;
  if (option === true) return {};
  const { clientMaxWindowBits, ...rest } = option;
  // `true` is what `ws` users write for "offer it without a value", which is what absent does here.
  return typeof clientMaxWindowBits === 'number' ? { ...rest, clientMaxWindowBits } : rest;
}

/** Options every connection reads, whoever made it (server or client). */
export interface WebSocketOptions {
  /** Largest message accepted, in bytes (0: no limit). Default 16 MiB. */
  maxPayload?: number;
  /** Most frames one message may have (0: no limit). Default 131072. */
  maxFragments?: number;
  /** Most automatic pongs queued at once. Default 16. */
  maxPendingPongs?: number;
  skipUTF8Validation?: boolean;
  autoPong?: boolean;
  allowSynchronousEvents?: boolean;
  /** How long to wait for the close handshake before destroying the socket. Server 5000, client 30000. */
  closeTimeoutMs?: number;
  /** `ws`'s name for closeTimeoutMs. */
  closeTimeout?: number;
  /** Bytes allowed to wait in a connection's send buffer before backpressurePolicy applies (0: no limit). Server 16 MiB, client none. */
  maxBackpressure?: number;
  /** 'close' (1008, default), 'drop', or 'latest' (newest message per key). */
  backpressurePolicy?: BackpressurePolicy;
  /** permessage-deflate (RFC 7692) in `ws`'s shape: off by default on a server, offered by default by a client, as in `ws`. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

export interface ClientOptions
  extends WebSocketOptions,
    SecureContextOptions,
    Pick<TlsConnectionOptions, 'rejectUnauthorized' | 'servername'> {
  /** Extra request headers. */
  headers?: { [name: string]: string };
  /**
   * WebSocket over HTTP/2 (RFC 8441): true dials HTTP/2 only (wss: with ALPN h2, ws: as h2c
   * with prior knowledge); 'auto' uses HTTP/2 when a wss: server chooses h2 and announces
   * SETTINGS_ENABLE_CONNECT_PROTOCOL, else HTTP/1.1. WebSockets to one origin share one
   * HTTP/2 connection. Default false.
   */
  http2?: boolean | 'auto';
  /** Milliseconds allowed for the whole opening handshake (0: none). */
  handshakeTimeout?: number;
  followRedirects?: boolean;
  /** Most redirects followed. Default 10. */
  maxRedirects?: number;
  /** Value of the Origin header. */
  origin?: string;
  agent?: http.Agent;
  /** Sec-WebSocket-Version; only 13 is spoken. */
  protocolVersion?: number;
  family?: number;
  localAddress?: string;
  lookup?: http.RequestOptions['lookup'];
  createConnection?: typeof net.createConnection | http.RequestOptions['createConnection'];
  timeout?: number;
  auth?: string;
  /** Accepted as `ws` accepts them (its types list them); the URL decides both. */
  host?: string;
  protocol?: string;
  /** Fills each 4-byte masking key instead of the CSPRNG (RFC 6455 §5.3 wants them unpredictable). */
  generateMask?(mask: Buffer): void;
  /** Sends the upgrade request itself (instead of `request.end()`), e.g. after adding headers. */
  finishRequest?: FinishRequestCallback;
  /** TLS: checks the server's certificate, as `tls.connect` does (`ws`'s typings let it return a boolean). */
  checkServerIdentity?(servername: string, cert: CertMeta | PeerCertificate): boolean | Error | undefined;
  /** Accepted for `ws` compatibility; inbound data is bounded by maxPayload and maxFragments instead. */
  maxBufferedChunks?: number;
}

/** Options of one send (`ws.send(data, options)`). */
export interface SendOptions {
  binary?: boolean;
  compress?: boolean;
  fin?: boolean;
  mask?: boolean;
  /** With the 'latest' backpressure policy: a newer message with the same key replaces this one while it waits. */
  key?: string;
}

/** Called once a send left (Node may pass null), or with the reason it could not. */
export type Callback = (error?: Error) => void;

/**
 * `Socket` is the WebSocket making the request; this file does not import websocket.ts (which
 * imports it), so it defaults to `any`, as loose as `ws`'s typings.
 */
export type FinishRequestCallback<Socket = any> = (request: http.ClientRequest, websocket: Socket) => void;

/** Certificate data as `ws`'s types name it. */
export type CertMeta = string | string[] | Buffer | Buffer[];

/** Defaults of the server's limits; the core's own limits are taken from the core, not restated. */
export const SERVER_DEFAULTS = {
  maxPayload: DEFAULT_MAX_PAYLOAD,
  maxFragments: DEFAULT_MAX_FRAGMENTS,
  maxPendingPongs: DEFAULT_MAX_PENDING_PONGS,
  handshakeTimeoutMs: 10_000,
  maxHeaderSize: 16 * 1024,
  pingIntervalMs: 30_000,
  closeTimeoutMs: 5_000,
  maxConnections: 0,
  maxBackpressure: 16 * 1024 * 1024,
  maxStreamsPerSession: 1000,
};

/**
 * Defaults of a client connection: the server's message limits; a longer close wait (the
 * client waits for the server to close TCP, RFC 6455 §7.1.1) and no send limit (a client has
 * one connection, its buffer is its user's business), as `ws` has.
 */
export const CLIENT_DEFAULTS = {
  maxPayload: SERVER_DEFAULTS.maxPayload,
  maxFragments: SERVER_DEFAULTS.maxFragments,
  maxPendingPongs: SERVER_DEFAULTS.maxPendingPongs,
  closeTimeoutMs: 30_000,
  maxBackpressure: 0,
  maxRedirects: 10,
};

/** What a connection runs with: every option of WebSocketOptions resolved. */
export interface ConnectionSettings {
  readonly side: Side;
  readonly maxPayload: number;
  readonly maxFragments: number;
  readonly maxPendingPongs: number;
  readonly skipUTF8Validation: boolean;
  readonly autoPong: boolean;
  readonly allowSynchronousEvents: boolean;
  readonly closeTimeoutMs: number;
  /** 0: no limit. */
  readonly maxBackpressure: number;
  readonly backpressurePolicy: BackpressurePolicy;
}

/** The one resolver of connection options, for both sides. */
export function resolveConnectionSettings(side: Side, options: WebSocketOptions): ConnectionSettings {
  const defaults = side === 'server' ? SERVER_DEFAULTS : CLIENT_DEFAULTS;
  return {
    side,
    maxPayload: options.maxPayload ?? defaults.maxPayload,
    maxFragments: options.maxFragments ?? defaults.maxFragments,
    maxPendingPongs: options.maxPendingPongs ?? defaults.maxPendingPongs,
    skipUTF8Validation: options.skipUTF8Validation ?? false,
    autoPong: options.autoPong ?? true,
    allowSynchronousEvents: options.allowSynchronousEvents ?? true,
    closeTimeoutMs: options.closeTimeoutMs ?? options.closeTimeout ?? defaults.closeTimeoutMs,
    maxBackpressure: options.maxBackpressure ?? defaults.maxBackpressure,
    backpressurePolicy: options.backpressurePolicy ?? 'close',
  };
}

const allocUnsafe = (size: number): Buffer => Buffer.allocUnsafe(size);

/** A user's generateMask (a client option), handed each key as the Buffer `ws` hands it. */
export function userMask(fill: ((mask: Buffer) => void) | undefined): ((key: Uint8Array) => void) | undefined {
  if (fill === undefined) return undefined;
  // Zeroed first, as in `ws`: a function that fills nothing (`generateMask() {}`) asks for the
  // all-zero key, which leaves payloads as they are.
  return (key) => {
    key.fill(0);
    fill(Buffer.from(key.buffer, key.byteOffset, key.byteLength));
  };
}

/** The core options of connections without compression, one object per server (per settings). */
const sharedCoreOptions = new WeakMap<ConnectionSettings, CoreOptions>();

/**
 * The core Connection's options for a connection with `settings`: Node's fast paths (pooled
 * output and message buffers, the SIMD mask (in place and while copying), native UTF-8 checks, CSPRNG masking keys on the client), and
 * close frames answered by the link once the events before them were dispatched. A Connection
 * keeps its options object, so connections without compression share one per server.
 */
export function coreOptions(
  settings: ConnectionSettings,
  codec: MessageCodec | null,
  maskSource?: (key: Uint8Array) => void,
): CoreOptions {
  if (codec !== null || maskSource !== undefined) return makeCoreOptions(settings, codec, maskSource);
  let options = sharedCoreOptions.get(settings);
  if (options === undefined) {
    options = makeCoreOptions(settings, null, undefined);
    sharedCoreOptions.set(settings, options);
  }
  return options;
}

function makeCoreOptions(
  settings: ConnectionSettings,
  codec: MessageCodec | null,
  maskSource: ((key: Uint8Array) => void) | undefined,
): CoreOptions {
  return {
    side: settings.side,
    maxPayload: settings.maxPayload,
    maxFragments: settings.maxFragments,
    maxPendingPongs: settings.maxPendingPongs,
    skipUtf8Validation: settings.skipUTF8Validation,
    autoPong: settings.autoPong,
    autoCloseReply: false,
    generateMask: settings.side === 'client' ? (maskSource ?? generateMask) : undefined,
    isUtf8: isValidUtf8Message,
    allocate: allocUnsafe,
    mask: applyMaskFast,
    maskInto: maskIntoFast,
    codec,
  };
}

/** A server's options with every default filled in (`wss.options`, as in `ws`). */
export type ResolvedServerOptions<T> = T & typeof SERVER_DEFAULTS & { clientTracking: boolean };

export function resolveServerOptions<T extends Partial<typeof SERVER_DEFAULTS> & { clientTracking?: boolean; perMessageDeflate?: unknown }>(
  options: T,
): ResolvedServerOptions<T> {
  // The defaults `ws` shows in wss.options too; `perMessageDeflate: true` reads back as {}.
  const resolved = {
    ...SERVER_DEFAULTS,
    clientTracking: true,
    allowSynchronousEvents: true,
    autoPong: true,
    skipUTF8Validation: false,
    perMessageDeflate: false,
    ...options,
  } as ResolvedServerOptions<T>;
  if (resolved.perMessageDeflate === true) (resolved as { perMessageDeflate: unknown }).perMessageDeflate = {};
  for (const key of Object.keys(SERVER_DEFAULTS) as Array<keyof typeof SERVER_DEFAULTS>) {
    if (resolved[key] === undefined) (resolved as typeof SERVER_DEFAULTS)[key] = SERVER_DEFAULTS[key];
  }
  return resolved;
}
