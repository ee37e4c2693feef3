/**
 * WebSocket: one connection, server side or client side, with the API of `ws` (EventEmitter
 * events, send/ping/pong/close/terminate, pause/resume) and of the browser (on*,
 * addEventListener). It pumps bytes between a Node socket and the Sans-I/O Connection of
 * protocol/ and turns core events into user events.
 *
 * Invariants: the socket is always read (unless the user pauses, or the peer leaves more than
 * maxBackpressure bytes unread) so control frames are seen;
 * sends made in one tick leave in one socket write (cork until the next tick); a payload is copied
 * at most once on its way out; 'close' is emitted once, after the socket closed.
 * Must not: parse frames or handshakes (protocol/ does), know about servers or topics.
 */
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { Connection, type ConnectionEvent } from '../protocol/connection.js';
import { sendFrameOptions } from '../protocol/send-frame-options.js';
import { applyMaskFast } from './wasm-mask.js';
import { CloseCode, ReadyState, isValidCloseCode } from '../protocol/constants.js';
import { UsageError, type ProtocolError } from '../protocol/errors.js';
import type { MessageCodec } from '../protocol/codec.js';
import { HandshakeError } from '../protocol/errors.js';
import { PERMESSAGE_DEFLATE, acceptDeflateResponse, deflateOffer } from '../protocol/permessage-deflate.js';
import { DeflateCodec, resolveDeflateOptions } from './deflate-codec.js';
import { dial, parseTarget, type ClientOptions, type DialResult } from './dial.js';
import {
  addEventListener,
  getAttributeListener,
  removeEventListener,
  setAttributeListener,
  type EventListenerLike,
} from './events.js';
import type { PreparedMessage } from './prepared-message.js';
import type { PublishOptions, PublishResult, SendResult, TopicHub } from './topic-hub.js';
import { asBuffer, convertMessage, generateMask, isValidUtf8Message, toBytes, type BinaryType, type SendData } from './payload.js';

export type { ClientOptions } from './dial.js';

export interface SendOptions {
  binary?: boolean;
  compress?: boolean;
  fin?: boolean;
  mask?: boolean;
  /** With the 'latest' backpressure policy: a newer message with the same key replaces this one while it waits. */
  key?: string;
}

/**
 * What a connection does with a message once `maxBackpressure` bytes wait in its buffer:
 * 'close' closes with 1008, 'drop' drops the message, 'latest' keeps only the newest message
 * per key (and drops messages without a key).
 */
export type BackpressurePolicy = 'close' | 'drop' | 'latest';

export interface TopicServer {
  hub: TopicHub<WebSocket>;
  publish(topic: string, data: SendData, options: PublishOptions, except: WebSocket | null, cb?: Callback): PublishResult;
}

/** What the server hands to a WebSocket it accepted. */
export interface AttachOptions {
  side: 'server' | 'client';
  maxPayload?: number;
  maxFragments?: number;
  maxPendingPongs?: number;
  skipUTF8Validation?: boolean;
  autoPong?: boolean;
  allowSynchronousEvents?: boolean;
  closeTimeoutMs?: number;
  protocol?: string;
  extensions?: string;
  codec?: MessageCodec | null;
  maxBackpressure?: number;
  backpressurePolicy?: BackpressurePolicy;
  topicServer?: TopicServer | null;
  /** Called once when the connection is closed, before its 'close' event (the server's books). */
  onClosed?: ((ws: WebSocket) => void) | null;
}

type Callback = (error?: Error | null) => void;

const EMPTY_BUFFER = Buffer.alloc(0);
const allocUnsafe = (size: number): Buffer => Buffer.allocUnsafe(size);
const EMPTY_TOPICS: ReadonlySet<string> = new Set();
const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

/** Module-private access for the server and the stream adapter (no symbols, no underscores). */
let attachSocket: (ws: WebSocket, socket: Duplex, head: Buffer, options: AttachOptions) => void;
/** A heartbeat period passed: releases idle compression state, says whether the peer was heard. */
let heartbeatTick: (ws: WebSocket) => boolean;
let sendPrepared: (ws: WebSocket, message: PreparedMessage, key: string | undefined) => SendResult;
let flushTick: (ws: WebSocket) => void;

/**
 * Connections with output to write at the end of this tick. One nextTick callback writes them
 * all, so a publication to many subscribers costs one scheduled callback, not one each.
 */
let flushQueue: WebSocket[] = [];
function flushAll(): void {
  const queue = flushQueue;
  flushQueue = [];
  let failure: unknown = null;
  for (let i = 0; i < queue.length; i++) {
    try {
      flushTick(queue[i]!);
    } catch (error) {
      // One connection's failure must not leave the others unwritten.
      failure ??= error;
    }
  }
  if (failure !== null) throw failure;
}

/**
 * Socket listeners are shared by every connection and find theirs through this property, so
 * an idle connection carries no closures of its own.
 */
const OWNER = Symbol('fullduplex.websocket');
type OwnedSocket = Duplex & { [OWNER]: WebSocket };
let onSocketData: (this: OwnedSocket, chunk: Buffer) => void;
let onSocketEnd: (this: OwnedSocket) => void;
let onSocketClose: (this: OwnedSocket) => void;
let onSocketError: (this: OwnedSocket) => void;
let onSocketDrain: (this: OwnedSocket) => void;

export class WebSocket extends EventEmitter {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;
  /** Set by the package entry, as on `ws`'s default export. */
  declare static WebSocket: typeof WebSocket;
  declare static WebSocketServer: typeof import('./websocket-server.js').WebSocketServer;
  declare static Server: typeof import('./websocket-server.js').WebSocketServer;
  declare static createWebSocketStream: typeof import('./stream.js').createWebSocketStream;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  #readyState: ReadyState = ReadyState.CONNECTING;
  #socket: Duplex | null = null;
  #connection: Connection | null = null;
  #codec: DeflateCodec | null = null;
  #binaryType: BinaryType = 'nodebuffer';
  #protocol = '';
  #extensions = '';
  #url = '';
  #isServer = false;
  #paused = false;
  /** Reading stopped because the peer does not read: more than maxBackpressure waits for it. */
  #readingHeld = false;
  #allowSynchronousEvents = true;
  #closeTimeoutMs = DEFAULT_CLOSE_TIMEOUT_MS;
  #closeTimer: NodeJS.Timeout | null = null;
  #closeCode: number = CloseCode.ABNORMAL_CLOSURE;
  #closeReason: Buffer = EMPTY_BUFFER;
  #closeFrameReceived = false;
  #closeFrameSent = false;
  #flushScheduled = false;
  #callbacks: Callback[] | null = null;
  #heard = false;
  #dial: DialResult | null = null;
  #deferred: ConnectionEvent[] | null = null;
  #maxBackpressure = Infinity;
  #onClosed: ((ws: WebSocket) => void) | null = null;
  #policy: BackpressurePolicy = 'close';
  /** 'latest' policy: the newest waiting send per key. */
  #latest: Map<string, () => void> | null = null;
  #dropped = 0;
  #sendingFragments = false;
  /** The first fragment of the message being sent was dropped by the backpressure policy. */
  #droppingFragments = false;
  #topicServer: TopicServer | null = null;
  #topics: Set<string> | null = null;

  static {
    attachSocket = (ws, socket, head, options) => ws.#attach(socket, head, options);
    sendPrepared = (ws, message, key) => ws.#sendPrepared(message, key);
    heartbeatTick = (ws) => {
      ws.#codec?.releaseIdle();
      const heard = ws.#heard;
      ws.#heard = false;
      return heard;
    };
  }

  /**
   * `new WebSocket(url, protocols?, options?)` dials a server. `new WebSocket(null)` makes an
   * unconnected instance (servers create those).
   */
  constructor(address: string | URL | null, protocols?: string | string[] | ClientOptions, options?: ClientOptions) {
    super();
    if (address === null) return;
    let list: string[] = [];
    let opts: ClientOptions = {};
    if (typeof protocols === 'string') list = [protocols];
    else if (Array.isArray(protocols)) list = protocols;
    else if (protocols && typeof protocols === 'object') opts = protocols;
    if (options) opts = options;
    this.#startClient(address, list, opts);
  }

  // ------------------------------------------------------------------ properties

  get readyState(): ReadyState {
    return this.#readyState;
  }

  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(type: BinaryType) {
    if (type === 'nodebuffer' || type === 'arraybuffer' || type === 'fragments') this.#binaryType = type;
  }

  /** Bytes queued (framed, in the socket's buffer or about to be written) and not yet handed to the kernel. */
  get bufferedAmount(): number {
    const socket = this.#socket;
    return socket ? socket.writableLength + this.#connection!.outputBytes : 0;
  }

  get protocol(): string {
    return this.#protocol;
  }

  get extensions(): string {
    return this.#extensions;
  }

  get url(): string {
    return this.#url;
  }

  get isPaused(): boolean {
    return this.#paused;
  }

  /** True once the close frames crossed and the socket closed in order. */
  get wasClean(): boolean {
    return this.#closeFrameReceived && this.#closeFrameSent;
  }

  /** The underlying socket (null before the handshake). */
  get socket(): Duplex | null {
    return this.#socket;
  }

  // ------------------------------------------------------------------ browser-style events

  get onopen(): EventListenerLike | null {
    return getAttributeListener(this, 'open');
  }
  set onopen(listener: EventListenerLike | null) {
    setAttributeListener(this, 'open', listener);
  }
  get onmessage(): EventListenerLike | null {
    return getAttributeListener(this, 'message');
  }
  set onmessage(listener: EventListenerLike | null) {
    setAttributeListener(this, 'message', listener);
  }
  get onclose(): EventListenerLike | null {
    return getAttributeListener(this, 'close');
  }
  set onclose(listener: EventListenerLike | null) {
    setAttributeListener(this, 'close', listener);
  }
  get onerror(): EventListenerLike | null {
    return getAttributeListener(this, 'error');
  }
  set onerror(listener: EventListenerLike | null) {
    setAttributeListener(this, 'error', listener);
  }

  addEventListener(type: string, listener: EventListenerLike, options: { once?: boolean } = {}): void {
    addEventListener(this, type, listener, options);
  }

  removeEventListener(type: string, listener: EventListenerLike): void {
    removeEventListener(this, type, listener);
  }

  // ------------------------------------------------------------------ sending

  /**
   * Sends a message. Strings go as text, everything else as binary, unless `binary` says
   * otherwise. Throws while CONNECTING; after closing, `cb` gets an error (as in `ws`).
   * Returns 'sent' (written), 'buffered' (waiting in a buffer: a 'drain' event follows) or
   * 'dropped' (by the backpressure policy, or because the connection is closing).
   */
  send(data: SendData, options?: SendOptions | Callback, cb?: Callback): SendResult {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (this.#readyState === ReadyState.CONNECTING) {
      throw new UsageError('WS_ERR_NOT_OPEN', 'WebSocket is not open: readyState 0 (CONNECTING)');
    }
    const { bytes, owned } = toBytes(data);
    if (this.#readyState !== ReadyState.OPEN || this.#connection!.closeSent) {
      this.#sendAfterClose(cb);
      return 'dropped';
    }
    const key = options?.key;
    const fin = options?.fin ?? true;
    if (this.#droppingFragments) {
      // The first fragment of this message was dropped: the rest goes with it, or the peer
      // would get the message's tail as a whole message.
      if (fin) this.#droppingFragments = false;
      return 'dropped';
    }
    if (!this.#sendingFragments) {
      if (!fin && this.#overLimit(bytes.length)) {
        // A fragmented message is dropped whole (never kept as the 'latest' of its key).
        const result = this.#overflow(undefined, () => undefined);
        this.#droppingFragments = result === 'dropped' && this.#readyState === ReadyState.OPEN;
        return result;
      }
      if (this.#latest !== null && key !== undefined && this.#latest.has(key)) {
        return this.#overflow(key, () => this.send(data, options, cb));
      }
      if (this.#overLimit(bytes.length)) return this.#overflow(key, () => this.send(data, options, cb));
    }
    const binary = options?.binary ?? typeof data !== 'string';
    this.#sendingFragments = !fin;
    this.#connection!.send(bytes, sendFrameOptions(binary, fin, owned, options?.compress ?? true));
    return this.#scheduleFlush(cb) ? 'sent' : 'buffered';
  }

  /**
   * Would `size` more bytes pass maxBackpressure? A message larger than the limit still goes
   * out when nothing waits, so any message can be sent; the buffer stays within the limit plus
   * one message.
   */
  #overLimit(size: number): boolean {
    const waiting = this.bufferedAmount;
    return waiting > 0 && waiting + size > this.#maxBackpressure;
  }

  /** Applies the backpressure policy to a message that does not fit. */
  #overflow(key: string | undefined, retry: () => void): SendResult {
    if (this.#policy === 'latest' && key !== undefined) {
      const latest = (this.#latest ??= new Map());
      if (latest.has(key)) this.#drop('replaced');
      latest.delete(key); // keep insertion order = order of the newest values
      latest.set(key, retry);
      return 'buffered';
    }
    this.#drop('backpressure');
    if (this.#policy === 'close') this.close(1008, 'backpressure limit exceeded');
    return 'dropped';
  }

  #drop(reason: 'backpressure' | 'replaced'): void {
    this.#dropped++;
    if (this.listenerCount('dropped') > 0) this.emit('dropped', reason);
  }

  /** Messages dropped by the backpressure policy so far. */
  get droppedMessages(): number {
    return this.#dropped;
  }

  #onDrain(): void {
    if (this.#readingHeld) {
      this.#readingHeld = false;
      this.#resumeReading();
    }
    const latest = this.#latest;
    if (latest !== null && latest.size > 0) {
      for (const [key, retry] of latest) {
        if (this.bufferedAmount >= this.#maxBackpressure) break;
        latest.delete(key);
        retry();
      }
    }
    this.emit('drain');
  }

  /**
   * Runs `fn`; everything it sends leaves in one socket write. (Every send is batched this way
   * until the end of the tick; cork makes the intent explicit, as in uWebSockets.js.)
   */
  cork(fn: () => void): void {
    fn();
  }

  // ------------------------------------------------------------------ topics (server side)

  #requireTopics(): TopicServer {
    if (!this.#topicServer) throw new UsageError('WS_ERR_NO_TOPICS', 'topics exist only on connections accepted by a WebSocketServer');
    return this.#topicServer;
  }

  /** Subscribes this connection to `topic`; false if it already was. */
  subscribe(topic: string): boolean {
    const server = this.#requireTopics();
    if (this.#readyState !== ReadyState.OPEN) return false;
    if (!server.hub.subscribe(this, topic)) return false;
    (this.#topics ??= new Set()).add(topic);
    return true;
  }

  unsubscribe(topic: string): boolean {
    const server = this.#requireTopics();
    if (!this.#topics?.delete(topic)) return false;
    return server.hub.unsubscribe(this, topic);
  }

  isSubscribed(topic: string): boolean {
    return this.#topics?.has(topic) ?? false;
  }

  /** The topics this connection is subscribed to. */
  get topics(): ReadonlySet<string> {
    return this.#topics ?? EMPTY_TOPICS;
  }

  /** Publishes to every subscriber of `topic` but this connection (in every process, with a broker). */
  publish(topic: string, data: SendData, options: PublishOptions = {}, cb?: Callback): PublishResult {
    return this.#requireTopics().publish(topic, data, options, this, cb);
  }

  ping(data?: SendData, mask?: boolean | Callback, cb?: Callback): void {
    this.#control('ping', data, mask, cb);
  }

  pong(data?: SendData, mask?: boolean | Callback, cb?: Callback): void {
    this.#control('pong', data, mask, cb);
  }

  #control(kind: 'ping' | 'pong', data: SendData | undefined, mask: boolean | Callback | undefined, cb: Callback | undefined): void {
    if (typeof data === 'function') {
      cb = data as unknown as Callback;
      data = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
    }
    if (this.#readyState === ReadyState.CONNECTING) {
      throw new UsageError('WS_ERR_NOT_OPEN', 'WebSocket is not open: readyState 0 (CONNECTING)');
    }
    const bytes = data === undefined ? EMPTY_BUFFER : toBytes(data).bytes;
    if (bytes.length > 125) throw new RangeError('The data size must not be greater than 125 bytes');
    if (this.#readyState !== ReadyState.OPEN || this.#connection!.closeSent) {
      this.#sendAfterClose(cb);
      return;
    }
    if (kind === 'ping') this.#connection!.sendPing(bytes);
    else this.#connection!.sendPong(bytes);
    this.#scheduleFlush(cb);
  }

  /** Sends a message framed once for many, under the backpressure policy. */
  #sendPrepared(message: PreparedMessage, key: string | undefined): SendResult {
    if (this.#readyState !== ReadyState.OPEN || this.#connection!.closeSent || this.#sendingFragments) return 'dropped';
    if ((this.#latest !== null && key !== undefined && this.#latest.has(key)) || this.#overLimit(message.payload.length)) {
      return this.#overflow(key, () => this.#sendPrepared(message, key));
    }
    const codec = this.#codec;
    if (!this.#isServer) {
      this.#connection!.send(message.payload, sendFrameOptions(message.binary, true, false, message.compress));
    } else if (codec && message.compress && codec.shouldCompress(message.payload.length)) {
      this.#connection!.sendFrame(message.compressedFrame(codec.sendWindowBits));
      codec.sentShared();
    } else {
      this.#connection!.sendFrame(message.plainFrame);
    }
    return this.#scheduleFlush() ? 'sent' : 'buffered';
  }

  #sendAfterClose(cb: Callback | undefined): void {
    if (!cb) return;
    const error = new UsageError(
      'WS_ERR_NOT_OPEN',
      `WebSocket is not open: readyState ${this.#readyState} (${STATE_NAMES[this.#readyState]})`,
    );
    process.nextTick(cb, error);
  }

  /**
   * Queues a write of what the core holds at the end of this tick: every frame queued in one
   * tick leaves in one socket write (the core gathers small frames in one buffer). Returns
   * false when the connection's buffer is at or above the socket's high-water mark, so that a
   * 'drain' event will follow.
   */
  #scheduleFlush(cb?: Callback): boolean {
    if (cb) (this.#callbacks ??= []).push(cb);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      if (flushQueue.push(this) === 1) process.nextTick(flushAll);
    }
    return this.bufferedAmount < this.#socket!.writableHighWaterMark;
  }

  /** Writes everything the core queued, now. */
  #flush(): void {
    const socket = this.#socket!;
    const output = this.#connection!.takeOutput();
    const callbacks = this.#callbacks;
    this.#callbacks = null;
    if (output.length === 0) {
      if (callbacks) for (const cb of callbacks) process.nextTick(cb);
      return;
    }
    const done = callbacks
      ? (error?: Error | null) => {
          for (const cb of callbacks) cb(error);
        }
      : undefined;
    if (output.length === 1) {
      socket.write(output[0]!, done);
      return;
    }
    socket.cork();
    const last = output.length - 1;
    for (let i = 0; i < last; i++) socket.write(output[i]!);
    socket.write(output[last]!, done);
    socket.uncork();
  }

  static {
    onSocketData = function (chunk) {
      this[OWNER].#onData(chunk);
    };
    onSocketEnd = function () {
      this[OWNER].#onEnd();
    };
    onSocketClose = function () {
      this[OWNER].#onSocketClose();
    };
    onSocketError = function () {
      // Resets and the like: the socket closes next and 'close' reports 1006.
      this[OWNER].#readyState = ReadyState.CLOSING;
      this.destroy();
    };
    onSocketDrain = function () {
      this[OWNER].#onDrain();
    };
    flushTick = (ws: WebSocket) => {
      ws.#flushScheduled = false;
      if (ws.#socket !== null && ws.#socket.writable) ws.#flush();
    };
  }

  // ------------------------------------------------------------------ closing

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2). While CONNECTING it aborts the handshake.
   * Code and reason as in `ws`: a valid close code, a reason of at most 123 UTF-8 bytes.
   */
  close(code?: number, reason?: string | Buffer): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    if (this.#readyState === ReadyState.CONNECTING) {
      this.#dial?.abort();
      return;
    }
    if (code !== undefined && (typeof code !== 'number' || !isValidCloseCode(code))) {
      throw new TypeError('First argument must be a valid error code number');
    }
    const reasonBytes = reason === undefined ? EMPTY_BUFFER : typeof reason === 'string' ? Buffer.from(reason) : reason;
    if (reasonBytes.length > 123) throw new RangeError('The message must not be greater than 123 bytes');
    if (code === undefined && reasonBytes.length > 0) throw new TypeError('A close reason needs a close code');
    if (this.#closeFrameSent) {
      if (this.#closeFrameReceived && this.#isServer) this.#socket?.end();
      return;
    }
    this.#readyState = ReadyState.CLOSING;
    this.#connection!.sendClose(code, reasonBytes);
    this.#closeFrameSent = true;
    this.#flush();
    this.#afterCloseSent();
  }

  /** Destroys the connection at once, without a closing handshake. */
  terminate(): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    if (this.#readyState === ReadyState.CONNECTING) {
      this.#dial?.abort();
      return;
    }
    this.#readyState = ReadyState.CLOSING;
    this.#socket?.destroy();
  }

  /** Stops reading from the socket (inbound backpressure). */
  pause(): void {
    if (this.#readyState === ReadyState.CONNECTING || this.#readyState === ReadyState.CLOSED) return;
    this.#paused = true;
    this.#socket?.pause();
  }

  resume(): void {
    if (this.#readyState === ReadyState.CONNECTING || this.#readyState === ReadyState.CLOSED) return;
    this.#paused = false;
    this.#resumeReading();
  }

  /** Reads the socket again unless something still holds it: the user, deferred events, the peer's backlog. */
  #resumeReading(): void {
    if (this.#paused || this.#deferred || this.#readingHeld || this.#readyState === ReadyState.CLOSED) return;
    this.#socket?.resume();
  }

  #afterCloseSent(): void {
    const connection = this.#connection!;
    if (connection.closeExpected()) {
      this.#socket!.end();
    }
    this.#armCloseTimer();
  }

  #armCloseTimer(): void {
    if (this.#closeTimer) return;
    this.#closeTimer = setTimeout(() => this.#socket?.destroy(), this.#closeTimeoutMs);
    this.#closeTimer.unref?.();
  }

  // ------------------------------------------------------------------ client handshake

  #startClient(address: string | URL, protocols: string[], options: ClientOptions): void {
    const target = parseTarget(address);
    this.#url = target.url.href;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    const deflate = resolveDeflateOptions(options.perMessageDeflate ?? true);
    this.#dial = dial(target, protocols, options, {
      onUpgrade: (response) => this.emit('upgrade', response),
      onRedirect: (url, request) => {
        this.#url = url.href;
        this.emit('redirect', url.href, request);
      },
      onUnexpectedResponse: (request, response) => {
        if (this.listenerCount('unexpected-response') === 0) return false;
        this.emit('unexpected-response', request, response);
        return true;
      },
      onError: (error) => {
        this.#readyState = ReadyState.CLOSING;
        this.#dial = null;
        if (this.listenerCount('error') > 0) this.emit('error', error);
        this.#emitClose();
      },
      onOpen: (socket, head, response: http.IncomingMessage, accepted) => {
        this.#dial = null;
        let codec: DeflateCodec | null = null;
        if (accepted.extensions.length > 0) {
          // RFC 7692 §5: the client fails the connection on an answer it cannot accept.
          const params = deflate ? acceptDeflateResponse(accepted.extensions, deflate) : null;
          if (params === null || params instanceof HandshakeError) {
            socket.destroy();
            this.#readyState = ReadyState.CLOSING;
            if (this.listenerCount('error') > 0) {
              this.emit('error', params ?? new HandshakeError('WS_ERR_SERVER_EXTENSIONS'));
            }
            this.#emitClose();
            return;
          }
          codec = new DeflateCodec(params, 'client', deflate!);
        }
        const extensionHeader = response.headers['sec-websocket-extensions'];
        this.#attach(socket, head, {
          side: 'client',
          maxPayload: options.maxPayload,
          maxFragments: options.maxFragments,
          skipUTF8Validation: options.skipUTF8Validation,
          autoPong: options.autoPong,
          allowSynchronousEvents: options.allowSynchronousEvents,
          closeTimeoutMs: options.closeTimeoutMs,
          maxBackpressure: options.maxBackpressure,
          backpressurePolicy: options.backpressurePolicy,
          protocol: accepted.protocol,
          extensions: codec ? String(extensionHeader) : '',
          codec,
        });
      },
    }, deflate ? deflateOffer(deflate) : undefined, deflate ? [PERMESSAGE_DEFLATE] : []);
  }

  // ------------------------------------------------------------------ socket plumbing

  #attach(socket: Duplex, head: Buffer, options: AttachOptions): void {
    this.#isServer = options.side === 'server';
    this.#protocol = options.protocol ?? '';
    this.#extensions = options.extensions ?? '';
    this.#allowSynchronousEvents = options.allowSynchronousEvents ?? true;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.#maxBackpressure = options.maxBackpressure || Infinity;
    this.#policy = options.backpressurePolicy ?? 'close';
    this.#topicServer = options.topicServer ?? null;
    this.#onClosed = options.onClosed ?? null;
    this.#codec = options.codec instanceof DeflateCodec ? options.codec : null;
    this.#connection = new Connection({
      side: options.side,
      maxPayload: options.maxPayload,
      maxFragments: options.maxFragments,
      maxPendingPongs: options.maxPendingPongs,
      skipUtf8Validation: options.skipUTF8Validation,
      autoPong: options.autoPong,
      autoCloseReply: false,
      generateMask: options.side === 'client' ? generateMask : undefined,
      isUtf8: isValidUtf8Message,
      allocate: allocUnsafe,
      mask: applyMaskFast,
      codec: options.codec ?? null,
    });
    this.#socket = socket;
    const net = socket as Duplex & { setNoDelay?: (v: boolean) => void; setTimeout?: (ms: number) => void };
    net.setTimeout?.(0);
    net.setNoDelay?.(true);
    if (head.length > 0) socket.unshift(head);
    (socket as OwnedSocket)[OWNER] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
    socket.on('drain', onSocketDrain);
    this.#readyState = ReadyState.OPEN;
    this.emit('open');
  }

  #onData(chunk: Buffer): void {
    this.#heard = true;
    const connection = this.#connection!;
    connection.receiveData(chunk);
    this.#pump();
    // A peer that leaves more than maxBackpressure bytes unread is not read either until they
    // drain, so its input (pings above all) cannot make us queue replies without bound. At or
    // above the high-water mark a 'drain' event is sure to follow and resumes reading.
    const socket = this.#socket!;
    const waiting = socket.writableLength;
    if (waiting >= socket.writableHighWaterMark && waiting + connection.outputBytes > this.#maxBackpressure) {
      this.#readingHeld = true;
      socket.pause();
    }
  }

  #pump(): void {
    const connection = this.#connection!;
    const events = connection.takeEvents();
    if (connection.outputBytes > 0) this.#scheduleFlush();
    if (events.length === 0) return;
    if (!this.#allowSynchronousEvents || this.#deferred) {
      this.#defer(events);
      return;
    }
    for (let i = 0; i < events.length; i++) this.#dispatch(events[i]!);
  }

  /** allowSynchronousEvents: false — one message event per turn of the event loop, as `ws` does. */
  #defer(events: ConnectionEvent[]): void {
    if (this.#deferred) {
      this.#deferred.push(...events);
      return;
    }
    this.#deferred = events.slice();
    this.#socket?.pause();
    const step = (): void => {
      const queue = this.#deferred;
      if (!queue) return;
      const event = queue.shift();
      if (event) this.#dispatch(event);
      if (queue.length > 0) {
        setImmediate(step);
      } else {
        this.#deferred = null;
        this.#resumeReading();
      }
    };
    setImmediate(step);
  }

  #dispatch(event: ConnectionEvent): void {
    switch (event.type) {
      case 'message':
        this.emit('message', convertMessage(event.data, this.#binaryType), event.binary);
        return;
      case 'ping':
        this.emit('ping', asBuffer(event.data));
        return;
      case 'pong':
        this.emit('pong', asBuffer(event.data));
        return;
      case 'close':
        this.#onCloseFrame(event.code, asBuffer(event.reason));
        return;
      case 'error':
        this.#onProtocolError(event.error);
        return;
    }
  }

  #onCloseFrame(code: number, reason: Buffer): void {
    this.#closeFrameReceived = true;
    this.#closeCode = code;
    this.#closeReason = Buffer.from(reason);
    this.#readyState = ReadyState.CLOSING;
    const connection = this.#connection!;
    if (!connection.closeSent) {
      // RFC 6455 §5.5.1: answer with the same code (and reason), after the messages that came
      // before the close were handed to the application, so its replies to them went out first.
      connection.sendClose(code === CloseCode.NO_STATUS_RECEIVED ? undefined : code, reason);
      this.#flush();
    }
    this.#closeFrameSent = true;
    if (connection.closeExpected()) this.#socket!.end();
    this.#armCloseTimer();
  }

  #onProtocolError(error: ProtocolError): void {
    const connection = this.#connection!;
    if (!connection.closeSent) {
      // RFC 6455 §7.1.7: the close frame of the failure, after the replies to earlier messages.
      connection.sendClose(error.closeCode);
      this.#flush();
    }
    this.#readyState = ReadyState.CLOSING;
    this.#closeFrameSent = true;
    this.#socket!.end();
    this.#armCloseTimer();
    // Never crash a process over one peer's bad bytes: report only to those who listen.
    // The 'close' event that follows carries the outcome either way.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #onEnd(): void {
    this.#connection?.receiveEof();
    this.#readyState = ReadyState.CLOSING;
    // The peer is done sending: finish our side too (RFC 6455 §7.1.1).
    this.#socket?.end();
  }

  #onSocketClose(): void {
    if (this.#closeTimer) {
      clearTimeout(this.#closeTimer);
      this.#closeTimer = null;
    }
    this.#connection?.receiveEof();
    this.#emitClose();
  }

  #emitClose(): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    this.#readyState = ReadyState.CLOSED;
    if (this.#topics !== null && this.#topicServer !== null) {
      this.#topicServer.hub.removeAll(this, this.#topics);
      this.#topics = null;
    }
    this.#latest = null;
    this.#codec?.close();
    // As in `ws`: the peer's close code, else the code we failed the connection with, else 1006.
    const code = this.#closeFrameReceived
      ? this.#closeCode
      : (this.#connection?.error?.closeCode ?? CloseCode.ABNORMAL_CLOSURE);
    const onClosed = this.#onClosed;
    this.#onClosed = null;
    onClosed?.(this);
    this.emit('close', code, this.#closeReason);
  }
}

for (const [i, name] of STATE_NAMES.entries()) {
  Object.defineProperty(WebSocket.prototype, name, { value: i, enumerable: true });
}

export { attachSocket, sendPrepared, heartbeatTick };

export type RawData = Buffer | ArrayBuffer | Buffer[];

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
