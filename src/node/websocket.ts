/**
 * WebSocket: the public face of one connection, server side or client side, with the API of
 * `ws` (EventEmitter events, send/ping/pong/close/terminate, pause/resume), of the browser (on*,
 * addEventListener; browser-api.ts), and, on a server's connections, topics (pubsub/). It checks
 * arguments as `ws` does and hands everything else to its Link (link.ts), which holds the
 * socket, the core Connection and the closing handshake.
 * Must not: hold connection state itself (the link and the core do), or reach the server other
 * than through the link's host (internal.ts).
 */
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { ReadyState, isValidCloseCode } from '../protocol/constants.js';
import { isToken } from '../protocol/header-tokens.js';
import { UsageError } from '../protocol/errors.js';
import type { PublishOptions, PublishResult, SendResult } from '../pubsub/pubsub.js';
import {
  addEventListener,
  getAttributeListener,
  removeEventListener,
  setAttributeListener,
  type CloseEvent,
  type ErrorEvent,
  type Event,
  type EventListenerLike,
  type EventListenerOptions,
  type MessageEvent,
  type WebSocketEventListener,
  type WebSocketEventMap,
} from './browser-api.js';
import { isBinaryType, type BinaryType } from './bytes/convert-message.js';
import type { SendData } from './bytes/to-bytes.js';
import { clientHost, openClient, parseTarget, type DialResult } from './client.js';
import type { ServerTopics } from './internal.js';
import { Link } from './link.js';
import type { Callback, ClientOptions, SendOptions } from './options.js';
import type { PreparedMessage } from './prepared-message.js';
import { publishTo } from './topic-bridge.js';

export type { ClientOptions, SendOptions } from './options.js';
export type { BackpressurePolicy } from './send-policy.js';

export type RawData = Buffer | ArrayBuffer | Buffer[];

/** A ping's or pong's callback, typed as `ws` types it (it gets no error once the frame is written). */
export type ControlCallback = (error: Error) => void;

const EMPTY_BUFFER = Buffer.alloc(0);
const NO_TOPICS: ReadonlySet<string> = new Set();
const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

/**
 * An EventEmitter's table of listeners, with no prototype as Node makes it, but fast: V8 keeps
 * Node's `{ __proto__: null }` literal as a dictionary (about 150 bytes once two listeners are
 * on), while the instances of a constructor share hidden classes (about 40 bytes).
 */
function ListenerTable(): void {}
ListenerTable.prototype = Object.create(null) as object;
const newListenerTable = ListenerTable as unknown as new () => object;

export class WebSocket extends EventEmitter {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  /** Null only for an instance made unconnected (`new WebSocket(null)`). */
  #link: Link | null = null;
  #binaryType: BinaryType = 'nodebuffer';
  /** A client's URL and its opening handshake (under way, or how it ended); null on a server's connection. */
  #client: { url: string; dial: DialResult | null } | null = null;

  /**
   * `new WebSocket(url, protocols?, options?)` dials a server. `new WebSocket(null)` makes an
   * unconnected instance; a server passes the accepted connection's link as the third argument
   * (where `ws` passes its options), so a user's subclass is constructed the same way.
   */
  constructor(address: null);
  constructor(address: string | URL, options?: ClientOptions | http.ClientRequestArgs);
  constructor(address: string | URL, protocols?: string | string[], options?: ClientOptions | http.ClientRequestArgs);
  constructor(address: string | URL | null, protocols?: string | string[] | ClientOptions | http.ClientRequestArgs, options?: ClientOptions | http.ClientRequestArgs);
  constructor(address: string | URL | null, protocols?: string | string[] | ClientOptions | http.ClientRequestArgs, options?: ClientOptions | http.ClientRequestArgs) {
    super();
    (this as unknown as { _events: object })._events = new newListenerTable();
    if (address === null) {
      // A server's connection: `ws`'s instances made this way have no URL (#client stays null).
      if (options instanceof Link) {
        this.#link = options;
        options.bind(this);
      }
      return;
    }
    let list: string[] = [];
    let opts: ClientOptions = {};
    if (typeof protocols === 'string') list = [protocols];
    else if (Array.isArray(protocols)) list = protocols;
    else if (protocols && typeof protocols === 'object') opts = protocols as ClientOptions;
    // As in `ws`: anything else given as the protocols (null, a number) is an invalid subprotocol.
    else if (protocols !== undefined) list = [protocols as unknown as string];
    if (options) opts = options as ClientOptions;
    const target = parseTarget(address);
    // RFC 6455 §4.1: each subprotocol a token, none twice; the same check and error as `ws`.
    if (list.some((p, i) => typeof p !== 'string' || !isToken(p) || list.indexOf(p) !== i)) {
      throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    const link = new Link(clientHost(opts));
    link.bind(this);
    this.#link = link;
    const dial: DialResult = { request: null, redirects: 0, abort: () => {} };
    const client = { url: target.url.href, dial: dial as DialResult | null };
    this.#client = client;
    openClient(this, link, target, list, opts, {
      redirected: (url) => (client.url = url),
      // An open connection keeps only the count of redirects (when there were any); a failed
      // handshake stays as it ended, for `_req` and `_redirects`.
      settled: (opened) => {
        const ended = client.dial;
        if (opened && ended !== null) client.dial = ended.redirects > 0 ? { request: null, redirects: ended.redirects, abort: () => {} } : null;
      },
    }, dial);
  }

  // ------------------------------------------------------------------ properties

  get readyState(): ReadyState {
    return this.#link?.readyState ?? ReadyState.CONNECTING;
  }

  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(type: BinaryType) {
    if (isBinaryType(type)) this.#binaryType = type;
  }

  /** Bytes queued (framed, in the socket's buffer or about to be written) and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#link?.bufferedAmount ?? 0;
  }

  get protocol(): string {
    return this.#link?.protocol ?? '';
  }

  get extensions(): string {
    return this.#link?.extensions ?? '';
  }

  get url(): string {
    return this.#client === null ? (undefined as unknown as string) : this.#client.url;
  }

  get isPaused(): boolean {
    return this.#link?.paused ?? false;
  }

  /** True once the close frames crossed and the socket closed in order. */
  get wasClean(): boolean {
    return this.#link?.wasClean ?? false;
  }

  /** The underlying socket (null before the handshake). */
  get socket(): Duplex | null {
    return this.#link?.socket ?? null;
  }

  /**
   * The underlying socket under the name `ws` gives it: undocumented there, yet read by
   * libraries (engine.io-client's autoUnref) and apps (`ws._socket.remoteAddress`).
   */
  get _socket(): Duplex | null {
    return this.#link?.socket ?? null;
  }

  /**
   * Under the names `ws` keeps them by (undocumented there, read by its own suite and by a few
   * libraries): the client's handshake request while it is under way, and the redirects it
   * followed. A server's connection has neither (null and 0).
   */
  get _req(): http.ClientRequest | null {
    return this.#client?.dial?.request ?? null;
  }

  get _redirects(): number {
    return this.#client?.dial?.redirects ?? 0;
  }

  /** Messages dropped by the backpressure policy so far. */
  get droppedMessages(): number {
    return this.#link?.droppedMessages ?? 0;
  }

  // ------------------------------------------------------------------ browser-style events

  get onopen(): ((event: Event<WebSocket>) => void) | null {
    return getAttributeListener(this, 'open') as ((event: Event<WebSocket>) => void) | null;
  }
  set onopen(listener: ((event: Event<WebSocket>) => void) | null) {
    setAttributeListener(this, 'open', listener);
  }
  get onmessage(): ((event: MessageEvent<WebSocket>) => void) | null {
    return getAttributeListener(this, 'message') as ((event: MessageEvent<WebSocket>) => void) | null;
  }
  set onmessage(listener: ((event: MessageEvent<WebSocket>) => void) | null) {
    setAttributeListener(this, 'message', listener);
  }
  get onclose(): ((event: CloseEvent<WebSocket>) => void) | null {
    return getAttributeListener(this, 'close') as ((event: CloseEvent<WebSocket>) => void) | null;
  }
  set onclose(listener: ((event: CloseEvent<WebSocket>) => void) | null) {
    setAttributeListener(this, 'close', listener);
  }
  get onerror(): ((event: ErrorEvent<WebSocket>) => void) | null {
    return getAttributeListener(this, 'error') as ((event: ErrorEvent<WebSocket>) => void) | null;
  }
  set onerror(listener: ((event: ErrorEvent<WebSocket>) => void) | null) {
    setAttributeListener(this, 'error', listener);
  }

  addEventListener<K extends keyof WebSocketEventMap>(type: K, listener: WebSocketEventListener<K, WebSocket>, options: EventListenerOptions = {}): void {
    addEventListener(this, type, listener as EventListenerLike, options);
  }

  removeEventListener<K extends keyof WebSocketEventMap>(type: K, listener: WebSocketEventListener<K, WebSocket>): void {
    removeEventListener(this, type, listener as EventListenerLike);
  }

  // ------------------------------------------------------------------ sending

  /**
   * Sends a message. Strings go as text, everything else as binary, unless `binary` says
   * otherwise. Throws while CONNECTING; after closing, `cb` gets an error (as in `ws`).
   * Returns 'sent' (written), 'buffered' (waiting in a buffer: a 'drain' event follows) or
   * 'dropped' (by the backpressure policy, or because the connection is closing).
   */
  send(data: SendData, options?: SendOptions | Callback, cb?: Callback): SendResult;
  send(data: SendData, cb?: Callback): SendResult;
  send(data: SendData, options?: SendOptions | Callback, cb?: Callback): SendResult {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    return this.#open().send(data, options, cb);
  }

  /**
   * Sends a message framed once for many (`wss.prepare`): the same bytes as every other
   * connection it goes to, under this connection's backpressure policy (`key` as in send).
   * Throws while CONNECTING; after closing (or while a fragmented message is being sent) it
   * returns 'dropped'.
   */
  sendPrepared(message: PreparedMessage, options?: { key?: string }): SendResult {
    return this.#open().deliver(message, options?.key);
  }

  /**
   * Sends a ping (RFC 6455 §5.5.2) with at most 125 bytes of data. `mask` left out, the side
   * decides (a client masks, RFC 6455 §5.3); given, it is obeyed, as in `ws` (mask-override.ts).
   */
  ping(data?: SendData, mask?: boolean | ControlCallback, cb?: ControlCallback): void {
    this.#control('ping', data, mask, cb);
  }

  pong(data?: SendData, mask?: boolean | ControlCallback, cb?: ControlCallback): void {
    this.#control('pong', data, mask, cb);
  }

  #control(kind: 'ping' | 'pong', data: SendData | undefined, mask: boolean | ControlCallback | undefined, cb: ControlCallback | undefined): void {
    if (typeof data === 'function') {
      cb = data as ControlCallback;
      data = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
    }
    this.#open().control(kind, data, cb as Callback | undefined, typeof mask === 'boolean' ? mask : undefined);
  }

  /** The link, past the opening handshake; sending before it throws, as in `ws`. */
  #open(): Link {
    const link = this.#link;
    if (link === null || link.readyState === ReadyState.CONNECTING) {
      throw new UsageError('WS_ERR_NOT_OPEN', 'WebSocket is not open: readyState 0 (CONNECTING)');
    }
    return link;
  }

  /**
   * Runs `fn`; everything it sends leaves in one socket write. (Sends are batched this way until
   * the end of the tick anyway, but a publication reaching a connection with nothing queued is
   * written at once; inside cork it waits for the rest, as in uWebSockets.js.)
   */
  cork(fn: () => void): void {
    const link = this.#link;
    if (link === null) fn();
    else link.cork(fn);
  }

  // ------------------------------------------------------------------ topics (server side)

  #topics(): ServerTopics {
    const topics = this.#link?.host.topics;
    if (!topics) throw new UsageError('WS_ERR_NO_TOPICS', 'topics exist only on connections accepted by a WebSocketServer');
    return topics;
  }

  /** Subscribes this connection to `topic`; false if it already was (or is not open). */
  subscribe(topic: string): boolean {
    const topics = this.#topics();
    if (this.readyState !== ReadyState.OPEN) return false;
    return topics.subscribe(this.#link!, topic);
  }

  /**
   * subscribe(), settled once the server's broker confirmed the topic's channel subscription
   * (at once without a broker, or when it is confirmed already): from then on, publications
   * from every process reach this connection. Rejects with the broker's error (BrokerError).
   */
  subscribeAsync(topic: string): Promise<boolean> {
    const topics = this.#topics();
    if (this.readyState !== ReadyState.OPEN) return Promise.resolve(false);
    return topics.subscribeAsync(this.#link!, topic);
  }

  unsubscribe(topic: string): boolean {
    return this.#topics().unsubscribe(this.#link!, topic);
  }

  isSubscribed(topic: string): boolean {
    const link = this.#link;
    return link?.host.topics?.isSubscribed(link, topic) ?? false;
  }

  /** The topics this connection is subscribed to. */
  get topics(): ReadonlySet<string> {
    const link = this.#link;
    return link?.host.topics?.topicsOf(link) ?? NO_TOPICS;
  }

  /** Publishes to every subscriber of `topic` but this connection (in every process, with a broker). */
  publish(topic: string, data: SendData, options: PublishOptions = {}, cb?: (error: Error | null) => void): PublishResult {
    return publishTo(this.#topics(), topic, data, options, this.#link, cb);
  }

  // ------------------------------------------------------------------ closing

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2). While CONNECTING it aborts the handshake.
   * Code and reason as in `ws`: a valid close code, a reason of at most 123 UTF-8 bytes.
   */
  close(code?: number, reason?: string | Buffer): void {
    const link = this.#link;
    if (link === null || link.readyState === ReadyState.CLOSED) return;
    if (link.readyState === ReadyState.CONNECTING || !link.attached) {
      // Still opening (or failing to: then there is nothing left to close).
      this.#client?.dial?.abort();
      return;
    }
    if (code !== undefined && (typeof code !== 'number' || !isValidCloseCode(code))) {
      throw new TypeError('First argument must be a valid error code number');
    }
    // As in `ws`: without a code the close frame is empty and the reason is not sent.
    const reasonBytes = code === undefined || reason === undefined ? EMPTY_BUFFER : typeof reason === 'string' ? Buffer.from(reason) : reason;
    if (reasonBytes.length > 123) throw new RangeError('The message must not be greater than 123 bytes');
    link.close(code, reasonBytes);
  }

  /** Destroys the connection at once, without a closing handshake. */
  terminate(): void {
    const link = this.#link;
    if (link === null || link.readyState === ReadyState.CLOSED) return;
    if (link.readyState === ReadyState.CONNECTING || !link.attached) {
      this.#client?.dial?.abort();
      return;
    }
    link.terminate();
  }

  /** Stops reading from the socket (inbound backpressure). */
  pause(): void {
    const state = this.readyState;
    if (state === ReadyState.CONNECTING || state === ReadyState.CLOSED) return;
    this.#link!.pause();
  }

  resume(): void {
    const state = this.readyState;
    if (state === ReadyState.CONNECTING || state === ReadyState.CLOSED) return;
    this.#link!.resume();
  }
}

// As `ws` (and the WHATWG interface) defines them: the ready-state constants read-only and
// enumerable on the class and its prototype, the attributes enumerable accessors.
for (const [i, name] of STATE_NAMES.entries()) {
  Object.defineProperty(WebSocket, name, { value: i, enumerable: true, writable: false, configurable: false });
  Object.defineProperty(WebSocket.prototype, name, { value: i, enumerable: true });
}
for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url', 'onopen', 'onmessage', 'onclose', 'onerror']) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}

/** Typed listeners, as `ws`'s typings give them. */
export interface WebSocket {
  on(event: 'message', listener: (this: WebSocket, data: RawData, isBinary: boolean) => void): this;
  on(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (this: WebSocket, error: Error) => void): this;
  on(event: 'open' | 'drain', listener: (this: WebSocket) => void): this;
  on(event: 'dropped', listener: (this: WebSocket, reason: 'backpressure' | 'replaced') => void): this;
  on(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
  on(event: 'upgrade', listener: (this: WebSocket, response: http.IncomingMessage) => void): this;
  on(event: 'redirect', listener: (this: WebSocket, url: string, request: http.ClientRequest) => void): this;
  on(event: 'unexpected-response', listener: (this: WebSocket, request: http.ClientRequest, response: http.IncomingMessage) => void): this;
  on(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  once(event: 'message', listener: (this: WebSocket, data: RawData, isBinary: boolean) => void): this;
  once(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
  once(event: 'error', listener: (this: WebSocket, error: Error) => void): this;
  once(event: 'open' | 'drain', listener: (this: WebSocket) => void): this;
  once(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
  once(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
}
