/**
 * WebSocketServer: accepts upgrades (RFC 6455 §4.2) on its own HTTP server, on a user's server,
 * or by hand (`noServer` + `handleUpgrade`), with the options and events of `ws`. Adds an origin
 * allow-list, a handshake timeout, maxConnections, heartbeats, and a graceful close that sends
 * 1001 to every client and waits for their close handshakes up to a deadline.
 * Must not: parse frames, or decide handshake validity itself (protocol/ does).
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { HandshakeError, type HandshakeErrorCode } from '../protocol/errors.js';
import { acceptHeaders, formatHead, rejectResponse } from '../protocol/handshake/http-answer.js';
import { validateRequest } from '../protocol/handshake/server.js';
import { negotiateDeflate, type DeflateParams } from '../protocol/permessage-deflate.js';
import { DeflateCodec, resolveDeflateOptions, type PerMessageDeflateOptions } from './deflate-codec.js';
import { PreparedMessage } from './prepared-message.js';
import { acceptKey, toBytes, type SendData } from './payload.js';
import type { Broker } from '../broker/broker.js';
import { TopicHub, type PublishOptions, type PublishResult } from './topic-hub.js';
import { WebSocket, attachSocket, sendPrepared, heartbeatTick, type BackpressurePolicy, type TopicServer } from './websocket.js';

export interface VerifyClientInfo {
  origin: string | undefined;
  secure: boolean;
  req: http.IncomingMessage;
}

export type VerifyClientCallback = (
  verified: boolean,
  code?: number,
  message?: string,
  headers?: Record<string, string>,
) => void;

/** Synchronous when it declares one parameter (returns the verdict), asynchronous with two (calls back). */
export type VerifyClient = (info: VerifyClientInfo, callback: VerifyClientCallback) => unknown;

export interface ServerOptions {
  port?: number;
  host?: string;
  backlog?: number;
  server?: http.Server | import('node:https').Server;
  noServer?: boolean;
  path?: string;
  verifyClient?: VerifyClient;
  handleProtocols?: (protocols: Set<string>, request: http.IncomingMessage) => string | false;
  clientTracking?: boolean;
  /** Largest message accepted, in bytes (0: no limit). Default 16 MiB. */
  maxPayload?: number;
  /** Most frames one message may have. Default 131072. */
  maxFragments?: number;
  /** Most automatic pongs queued at once. Default 16. */
  maxPendingPongs?: number;
  skipUTF8Validation?: boolean;
  autoPong?: boolean;
  allowSynchronousEvents?: boolean;
  /** permessage-deflate (RFC 7692), off by default as in `ws`; true or options in `ws`'s shape. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Origins allowed to connect (exact match of the Origin header); requests without Origin pass. */
  origins?: readonly string[];
  /** ms from the first byte of the request to the 101 answer. Default 10000. */
  handshakeTimeoutMs?: number;
  /** Most open connections; more get 503. Default 0: no limit. */
  maxConnections?: number;
  /** Largest request head, in bytes (own server only). Default 16384. */
  maxHeaderSize?: number;
  /** Ping every client this often; close those that sent nothing since the last ping. 0 disables. Default 30000. */
  pingIntervalMs?: number;
  /** How long close() and each connection wait for close handshakes before destroying sockets. Default 5000. */
  closeTimeoutMs?: number;
  /** Bytes allowed to wait in one connection's send buffer before backpressurePolicy applies. Default 16 MiB; 0: no limit. */
  maxBackpressure?: number;
  /** 'close' (1008, default), 'drop', or 'latest' (newest message per key). */
  backpressurePolicy?: BackpressurePolicy;
  /** Shares publications with servers in other processes (e.g. RedisBroker). Default: none, this process only. */
  broker?: Broker;
  /** Subclass to instantiate for accepted connections. */
  WebSocket?: typeof WebSocket;
}

type UpgradeCallback = (ws: WebSocket, request: http.IncomingMessage) => void;

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

/** Defaults of the server's limits; the README's limits table lists and justifies each. */
export const SERVER_DEFAULTS = {
  maxPayload: 16 * 1024 * 1024,
  maxFragments: 131072,
  maxPendingPongs: 16,
  handshakeTimeoutMs: 10_000,
  maxHeaderSize: 16 * 1024,
  pingIntervalMs: 30_000,
  closeTimeoutMs: 5_000,
  maxConnections: 0,
  maxBackpressure: 16 * 1024 * 1024,
};

export type ResolvedServerOptions = ServerOptions & typeof SERVER_DEFAULTS & { clientTracking: boolean };

export class WebSocketServer extends EventEmitter {
  readonly options: ResolvedServerOptions;
  /** Open connections (when clientTracking is on, the default). */
  readonly clients: Set<WebSocket>;
  #connections = new Set<WebSocket>();
  #pending = 0;
  #server: http.Server | import('node:https').Server | null = null;
  #ownServer = false;
  #state = RUNNING;
  #heartbeat: NodeJS.Timeout | null = null;
  #removeListeners: (() => void) | null = null;
  readonly #deflate: PerMessageDeflateOptions | null;
  readonly #topics: TopicServer;
  /** One function for every connection (no closure per connection). */
  readonly #connectionClosed = (ws: WebSocket): void => {
    this.#connections.delete(ws);
    if (this.#state === CLOSING && this.#connections.size === 0) this.#finishClose();
  };
  /** Publications the broker failed to take, when no callback was given. */
  brokerFailures = 0;

  constructor(options: ServerOptions, callback?: () => void) {
    super();
    const given = [options.port !== undefined, options.server !== undefined, options.noServer === true].filter(Boolean).length;
    if (given !== 1) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    const resolved: ResolvedServerOptions = { ...SERVER_DEFAULTS, clientTracking: true, ...options };
    for (const key of Object.keys(SERVER_DEFAULTS) as Array<keyof typeof SERVER_DEFAULTS>) {
      if (resolved[key] === undefined) resolved[key] = SERVER_DEFAULTS[key];
    }
    this.options = resolved;
    this.#deflate = resolveDeflateOptions(options.perMessageDeflate);
    const hub = new TopicHub<WebSocket>(options.broker ?? null, this.#deflate ?? {}, sendPrepared, (error, topic) =>
      this.#brokerFailed(error, topic),
    );
    this.#topics = {
      hub,
      publish: (topic, data, publishOptions, except, cb) => this.#publish(topic, data, publishOptions, except, cb),
    };
    this.clients = this.options.clientTracking ? this.#connections : (undefined as unknown as Set<WebSocket>);

    if (options.port !== undefined) {
      const server = http.createServer(
        {
          maxHeaderSize: this.options.maxHeaderSize,
          headersTimeout: this.options.handshakeTimeoutMs,
          requestTimeout: this.options.handshakeTimeoutMs,
          connectionsCheckingInterval: Math.min(1000, this.options.handshakeTimeoutMs),
        },
        (_req, res) => {
          // Not an upgrade: nothing else is served here, so the connection is not kept alive.
          const body = http.STATUS_CODES[426]!;
          res.writeHead(426, {
            'Content-Length': body.length,
            'Content-Type': 'text/plain',
            'Sec-WebSocket-Version': '13',
            Connection: 'close',
          });
          res.end(body);
        },
      );
      // CONNECT is no opening handshake either (RFC 6455 §4.2.1: the method must be GET).
      server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
        socket.on('error', onSocketErrorDuringHandshake);
        const error = new HandshakeError('WS_ERR_HANDSHAKE_METHOD');
        abortHandshake(socket, error.status!, error.message);
      });
      this.#server = server;
      this.#ownServer = true;
      server.listen(options.port, options.host, options.backlog, callback);
    } else if (options.server) {
      this.#server = options.server;
    }
    if (this.#server) {
      const server = this.#server;
      const onListening = (): void => {
        this.emit('listening');
      };
      const onError = (error: Error): void => {
        this.emit('error', error);
      };
      const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
        if (!this.shouldHandle(req) && server.listenerCount('upgrade') > 1) return; // another server's path
        this.handleUpgrade(req, socket, head, (ws, request) => this.emit('connection', ws, request));
      };
      server.on('listening', onListening);
      server.on('error', onError);
      server.on('upgrade', onUpgrade);
      this.#removeListeners = () => {
        server.removeListener('listening', onListening);
        server.removeListener('error', onError);
        server.removeListener('upgrade', onUpgrade);
      };
    }
    if (this.options.pingIntervalMs > 0) {
      this.#heartbeat = setInterval(() => this.#beat(), this.options.pingIntervalMs);
      this.#heartbeat.unref();
    }
  }

  /** The bound address of the server (null with noServer). */
  address(): AddressInfo | string | null {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    return this.#server ? this.#server.address() : null;
  }

  /** Does this server answer requests for the URL of `req` (the `path` option)? */
  shouldHandle(req: http.IncomingMessage): boolean {
    if (this.options.path) {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const pathname = q !== -1 ? url.slice(0, q) : url;
      if (pathname !== this.options.path) return false;
    }
    return true;
  }

  /**
   * Completes (or refuses) the opening handshake of an upgrade request and calls `callback`
   * with the new WebSocket. Refusals answer the HTTP status of their HandshakeError, or emit
   * 'wsClientError' when a listener wants to answer itself.
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, callback: UpgradeCallback): void {
    socket.on('error', onSocketErrorDuringHandshake);
    // Only an asynchronous verifyClient lets the handshake wait; the timer is armed for it.
    let timer: NodeJS.Timeout | undefined;
    const refuse = (code: HandshakeErrorCode | HandshakeError, message?: string, headers?: Record<string, string>): void => {
      clearTimeout(timer);
      this.#refuse(req, socket, code instanceof HandshakeError ? code : new HandshakeError(code, message), headers);
    };
    if (this.#state !== RUNNING) return refuse('WS_ERR_HANDSHAKE_SHUTTING_DOWN');
    const valid = validateRequest({
      method: req.method ?? '',
      httpVersion: req.httpVersion,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      url: req.url,
    });
    if (valid instanceof HandshakeError) return refuse(valid);
    if (!this.shouldHandle(req)) return refuse('WS_ERR_HANDSHAKE_PATH');
    if (this.options.origins && valid.origin !== undefined && !this.options.origins.includes(valid.origin)) {
      return refuse('WS_ERR_HANDSHAKE_ORIGIN');
    }
    const max = this.options.maxConnections;
    if (max > 0 && this.#connections.size + this.#pending >= max) return refuse('WS_ERR_HANDSHAKE_CAPACITY');

    let protocol: string | undefined;
    if (valid.protocols.length > 0) {
      if (this.options.handleProtocols) {
        const chosen = this.options.handleProtocols(new Set(valid.protocols), req);
        protocol = chosen === false ? undefined : chosen;
      } else {
        protocol = valid.protocols[0];
      }
    }

    // RFC 7692 §5: take the first acceptable permessage-deflate offer, decline the rest.
    const deflate = this.#deflate && valid.extensions.length > 0 ? negotiateDeflate(valid.extensions, this.#deflate) : null;

    const complete = (): void => {
      clearTimeout(timer);
      this.#complete(req, socket, head, valid.key, protocol, deflate, callback);
    };
    const verify = this.options.verifyClient;
    if (!verify) return complete();
    const info: VerifyClientInfo = {
      origin: valid.origin,
      secure: Boolean((req.socket as { encrypted?: boolean }).encrypted),
      req,
    };
    if (verify.length === 2) {
      timer = setTimeout(() => this.#refuse(req, socket, new HandshakeError('WS_ERR_HANDSHAKE_TIMEOUT')), this.options.handshakeTimeoutMs);
      timer.unref();
      this.#pending++;
      let answered = false;
      verify(info, (verified, code, message, headers) => {
        if (answered) return;
        answered = true;
        this.#pending--;
        if (!verified) {
          const status = code ?? 401;
          return refuse(new HandshakeError('WS_ERR_HANDSHAKE_REJECTED', message ?? http.STATUS_CODES[status], status), undefined, headers);
        }
        complete();
      });
      return;
    }
    if (!(verify as (i: VerifyClientInfo) => boolean)(info)) return refuse('WS_ERR_HANDSHAKE_REJECTED');
    complete();
  }

  #complete(
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    key: string,
    protocol: string | undefined,
    deflate: { params: DeflateParams; response: string } | null,
    callback: UpgradeCallback,
  ): void {
    if (!socket.readable || !socket.writable || socket.destroyed) {
      socket.destroy();
      return;
    }
    if (this.#state !== RUNNING) {
      this.#refuse(req, socket, new HandshakeError('WS_ERR_HANDSHAKE_SHUTTING_DOWN'));
      return;
    }
    const headers = acceptHeaders({ accept: acceptKey(key), protocol, extensions: deflate?.response });
    this.emit('headers', headers, req);
    socket.write(formatHead(headers));
    socket.removeListener('error', onSocketErrorDuringHandshake);
    const Ctor = this.options.WebSocket ?? WebSocket;
    const ws = new Ctor(null);
    attachSocket(ws, socket, head, {
      side: 'server',
      maxPayload: this.options.maxPayload,
      maxFragments: this.options.maxFragments,
      maxPendingPongs: this.options.maxPendingPongs,
      skipUTF8Validation: this.options.skipUTF8Validation,
      autoPong: this.options.autoPong,
      allowSynchronousEvents: this.options.allowSynchronousEvents,
      closeTimeoutMs: this.options.closeTimeoutMs,
      maxBackpressure: this.options.maxBackpressure,
      backpressurePolicy: this.options.backpressurePolicy,
      topicServer: this.#topics,
      protocol,
      extensions: deflate?.response ?? '',
      codec: deflate ? new DeflateCodec(deflate.params, 'server', this.#deflate!) : null,
      onClosed: this.#connectionClosed,
    });
    this.#connections.add(ws);
    callback(ws, req);
  }

  #refuse(req: http.IncomingMessage, socket: Duplex, error: HandshakeError, headers?: Record<string, string>): void {
    if (socket.destroyed) return;
    if (this.listenerCount('wsClientError') > 0) {
      this.emit('wsClientError', error, socket, req);
      return;
    }
    abortHandshake(socket, error.status, error.message, headers);
  }

  /**
   * Sends one message to every open client (or those `filter` keeps), framed once and, with
   * permessage-deflate, compressed once per window size: the same bytes go to everyone.
   * Returns how many clients it was sent to.
   */
  broadcast(data: SendData, options: { binary?: boolean; compress?: boolean; filter?: (ws: WebSocket) => boolean } = {}): number {
    const { bytes } = toBytes(data);
    const message = new PreparedMessage(bytes, options.binary ?? typeof data !== 'string', options.compress ?? true, this.#deflate ?? {});
    let sent = 0;
    for (const ws of this.#connections) {
      if (options.filter && !options.filter(ws)) continue;
      if (sendPrepared(ws, message, undefined) !== 'dropped') sent++;
    }
    return sent;
  }

  /**
   * Publishes to every subscriber of `topic`, framed once (and compressed once): the same bytes
   * to each. With a broker, subscribers in other processes get it too; `cb` learns whether the
   * broker took it (without `cb`, a failure emits 'publishError' and counts in brokerFailures).
   * Returns what happened locally.
   */
  publish(topic: string, data: SendData, options: PublishOptions = {}, cb?: (error: Error | null) => void): PublishResult {
    return this.#publish(topic, data, options, null, cb);
  }

  /** publish() as a promise that rejects when the broker could not take the message. */
  publishAsync(topic: string, data: SendData, options: PublishOptions = {}): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      const result = this.#publish(topic, data, options, null, (error) => (error ? reject(error) : resolve(result)));
    });
  }

  /** Local subscribers of `topic`. */
  subscriberCount(topic: string): number {
    return this.#topics.hub.subscriberCount(topic);
  }

  #publish(
    topic: string,
    data: SendData,
    options: PublishOptions,
    except: WebSocket | null,
    cb?: (error: Error | null) => void,
  ): PublishResult {
    const { bytes } = toBytes(data);
    const binary = options.binary ?? typeof data !== 'string';
    const { result, remote } = this.#topics.hub.publish(topic, bytes, { ...options, binary }, except);
    if (this.#topics.hub.broker || cb) {
      remote.then(
        () => cb?.(null),
        (error: Error) => (cb ? cb(error) : this.#brokerFailed(error, topic)),
      );
    }
    return result;
  }

  #brokerFailed(error: Error, topic: string): void {
    this.brokerFailures++;
    if (this.listenerCount('publishError') > 0) this.emit('publishError', error, topic);
  }

  /** Heartbeat: ping everyone; whoever said nothing since the previous beat is gone. */
  #beat(): void {
    for (const ws of this.#connections) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (!heartbeatTick(ws) && beaten.has(ws)) {
        ws.terminate();
        continue;
      }
      beaten.add(ws);
      ws.ping();
    }
  }

  /**
   * Stops accepting connections, sends 1001 to every client, waits for their close handshakes
   * up to closeTimeoutMs, destroys what is left, then closes the HTTP server if it owns one.
   */
  close(callback?: (error?: Error) => void): void {
    if (this.#state === CLOSED) {
      if (callback) this.once('close', () => callback(new Error('The server is not running')));
      process.nextTick(() => this.emit('close'));
      return;
    }
    if (callback) this.once('close', callback);
    if (this.#state === CLOSING) return;
    this.#state = CLOSING;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#ownServer) this.#server!.close();
    this.#removeListeners?.();
    if (this.#connections.size === 0) {
      this.#finishClose();
      return;
    }
    for (const ws of this.#connections) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1001, 'server shutting down');
    }
    const deadline = setTimeout(() => {
      for (const ws of this.#connections) ws.terminate();
    }, this.options.closeTimeoutMs);
    deadline.unref();
    this.once('close', () => clearTimeout(deadline));
  }

  #finishClose(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    const server = this.#server;
    if (this.#ownServer && server) {
      server.closeAllConnections?.();
      if (server.listening) {
        server.once('close', () => this.emit('close'));
        return;
      }
    }
    process.nextTick(() => this.emit('close'));
  }
}

/** Connections pinged at least once (the first beat only pings). */
const beaten = new WeakSet<WebSocket>();

function onSocketErrorDuringHandshake(this: Duplex): void {
  this.destroy();
}

/** Writes an HTTP error answer and closes the socket once it is out. */
export function abortHandshake(socket: Duplex, status: number, message?: string, headers?: Record<string, string>): void {
  if (socket.writable && !socket.destroyed) {
    socket.once('finish', () => socket.destroy());
    socket.end(rejectResponse(status, message, headers));
  } else {
    socket.destroy();
  }
}

/** Typed listeners, as `ws`'s typings give them. */
export interface WebSocketServer {
  on(event: 'connection', listener: (this: WebSocketServer, ws: WebSocket, request: http.IncomingMessage) => void): this;
  on(event: 'error', listener: (this: WebSocketServer, error: Error) => void): this;
  on(event: 'headers', listener: (this: WebSocketServer, headers: string[], request: http.IncomingMessage) => void): this;
  on(event: 'wsClientError', listener: (this: WebSocketServer, error: HandshakeError, socket: Duplex, request: http.IncomingMessage) => void): this;
  on(event: 'close' | 'listening', listener: (this: WebSocketServer) => void): this;
  on(event: 'publishError', listener: (this: WebSocketServer, error: Error, topic: string) => void): this;
  on(event: string | symbol, listener: (this: WebSocketServer, ...args: any[]) => void): this;
  once(event: 'connection', listener: (this: WebSocketServer, ws: WebSocket, request: http.IncomingMessage) => void): this;
  once(event: 'close' | 'listening', listener: (this: WebSocketServer) => void): this;
  once(event: string | symbol, listener: (this: WebSocketServer, ...args: any[]) => void): this;
}
