/**
 * WebSocketServer: the server's lifecycle, with the options and events of `ws`. It accepts
 * upgrades (RFC 6455 §4.2) on its own HTTP server, on a user's server, or by hand (`noServer` +
 * `handleUpgrade`); keeps the books of its connections; broadcasts and publishes; and closes
 * gracefully: 1001 to every client, their close handshakes awaited up to a deadline.
 * The handshake's parts live beside it: upgrade/http1.ts and upgrade/direct-accept.ts
 * (HTTP/1.1), accept-policy.ts (whom to accept), heartbeat.ts (liveness), topic-bridge.ts and
 * pubsub/ (topics).
 * Must not: parse frames or decide handshake validity (protocol/ does), or reach into a
 * connection other than through internal.ts.
 */
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type http2 from 'node:http2';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { HandshakeError } from '../protocol/errors.js';
import { PERMESSAGE_DEFLATE } from '../protocol/permessage-deflate.js';
import type { PublishOptions, PublishResult } from '../pubsub/pubsub.js';
import {
  decide,
  type AcceptOptions,
  type Agreement,
  type Refusal,
  type VerifyClient,
  wsShaped,
} from './accept-policy.js';
import { syncBytes, type SendData } from './bytes/to-bytes.js';
import { DeflateCodec } from './compression/deflate-codec.js';
import { answerCollect, channels, observedBroker, type ServerGauges } from './diagnostics.js';
import { Heartbeat } from './heartbeat.js';
import type { ConnectionHost, HostedConnection } from './internal.js';
import { Link } from './link.js';
import {
  resolveConnectionSettings,
  resolveDeflateOptions,
  resolveServerOptions,
  type ResolvedDeflateOptions,
  type ResolvedServerOptions,
} from './options.js';
import { PreparedMessage, deliverToAll } from './prepared-message.js';
import { SendPolicy } from './send-policy.js';
import { createServerTopics, publishTo } from './topic-bridge.js';
import { abortHandshake, answerOn, createUpgradeServer, guardHandshake, isAnswerable, readUpgradeRequest, switchingHeaders, writeSwitching, writeSwitchingFor } from './upgrade/http1.js';
import { DirectAccept } from './upgrade/direct-accept.js';
import {
  HTTP2_ENDING,
  answerLines,
  isHttp2Server,
  isStream,
  isStreamAnswerable,
  listenForStreams,
  readConnectRequest,
  respondOpen,
  respondRefusal,
  SessionStreams,
  streamRequest,
  type Http2ServerLike,
} from './upgrade/http2.js';
import type { ServerOptions } from './server-options.js';
import { WebSocket } from './websocket.js';

export type { VerifyClient, VerifyClientCallback, VerifyClientCallbackAsync, VerifyClientCallbackSync, VerifyClientInfo } from './accept-policy.js';
export { SERVER_DEFAULTS } from './options.js';
export type { AddressInfo } from 'node:net';
export type { ServerOptions } from './server-options.js';

/** Sockets (and HTTP/2 streams) already upgraded: twice on one is a programming error. */
const UPGRADED = new WeakSet<Duplex>();

const EMPTY_HEAD = Buffer.alloc(0);
const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;
const GOING_AWAY_REASON = Buffer.from('server shutting down');

export class WebSocketServer<
  T extends typeof WebSocket = typeof WebSocket,
  U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
> extends EventEmitter {
  readonly options: ResolvedServerOptions<ServerOptions<T, U>>;
  /** Open connections (when clientTracking is on, the default). */
  readonly clients: Set<InstanceType<T>>;
  /** Every open connection, whatever clientTracking says. */
  readonly #connections = new Set<HostedConnection>();
  /** Upgrades waiting for an asynchronous verifyClient (they count against maxConnections). */
  readonly #verifying = { count: 0 };
  #server: http.Server | https.Server | Http2ServerLike | null = null;
  /** Open WebSockets per HTTP/2 session (maxStreamsPerSession). */
  readonly #sessionStreams = new SessionStreams();
  #ownServer = false;
  #state = RUNNING;
  /** close() has reached its last step (the state becomes CLOSED with the 'close' event). */
  #finishing = false;
  #heartbeat: Heartbeat | null = null;
  #removeListeners: (() => void) | null = null;
  readonly #deflate: ResolvedDeflateOptions | null;
  /** What every connection of this server shares (internal.ts). */
  readonly #host: ConnectionHost;
  /** Broker operations that failed with nobody to tell. */
  brokerFailures = 0;
  /** Stops answering `fullduplex:collect` (called once closed). */
  readonly #stopCollect: () => void;

  constructor(options: ServerOptions<T, U> = {}, callback?: () => void) {
    super();
    const given = [options.port !== undefined, options.server !== undefined, options.noServer === true].filter(Boolean).length;
    if (given !== 1) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    this.options = resolveServerOptions(options);
    this.#deflate = resolveDeflateOptions(options.perMessageDeflate);
    const settings = resolveConnectionSettings('server', this.options);
    this.#host = {
      settings,
      sendPolicy: new SendPolicy(settings.maxBackpressure, settings.backpressurePolicy),
      topics: createServerTopics(options.broker ? observedBroker(options.broker) : null, options.topicChannelPrefix, this.#deflate ?? {}, (error, topic) =>
        this.#brokerFailed(error, topic),
      ),
      connectionClosed: (connection) => this.#connectionClosed(connection),
    };
    this.clients = this.options.clientTracking ? new Set() : (undefined as unknown as Set<InstanceType<T>>);

    if (options.port !== undefined) {
      this.#server = createUpgradeServer(this.options);
      this.#ownServer = true;
      this.#server.listen(options.port, options.host, options.backlog, callback);
    } else if (options.server) {
      this.#server = options.server;
    }
    if (this.#server) this.#listen(this.#server);
    if (this.options.pingIntervalMs > 0) this.#heartbeat = new Heartbeat(this.options.pingIntervalMs, this.#connections);
    this.#stopCollect = answerCollect((request) => (request.servers ??= []).push(this.#gauges()));
  }

  /** This server's gauges, for diagnostics (node/diagnostics.ts). */
  #gauges(): ServerGauges {
    let sendBufferBytes = 0;
    for (const connection of this.#connections) sendBufferBytes += connection.bufferedAmount;
    const topics = this.#host.topics!;
    let count = 0;
    let subscriptions = 0;
    for (const topic of topics.topics()) {
      count++;
      subscriptions += topics.subscriberCount(topic);
    }
    return { connections: this.#connections.size, sendBufferBytes, topics: count, topicSubscriptions: subscriptions };
  }

  #listen(server: http.Server | https.Server | Http2ServerLike): void {
    const onListening = (): boolean => this.emit('listening');
    const onError = (error: Error): void => {
      this.emit('error', error);
    };
    const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (server.listenerCount('upgrade') > 1 && !this.shouldHandle(req)) return void answerOn(socket); // another server's path
      this.handleUpgrade(req as InstanceType<U>, socket, head, (ws, request) => this.emit('connection', ws, request));
    };
    server.on('listening', onListening);
    server.on('error', onError);
    // On its own server, upgrades are read without Node's HTTP parser where they can be.
    const direct = this.#ownServer ? new DirectAccept(server as http.Server, this.options, onUpgrade) : null;
    if (!direct) server.on('upgrade', onUpgrade);
    const removeStreams = isHttp2Server(server)
      ? listenForStreams(server, (req) => this.shouldHandle(req as never), (stream, headers, rawHeaders, req) =>
          this.handleStream(stream, headers, rawHeaders, (ws, request) => this.emit('connection', ws, request), req))
      : null;
    this.#removeListeners = () => {
      server.removeListener('listening', onListening);
      server.removeListener('error', onError);
      if (direct) direct.stop();
      else server.removeListener('upgrade', onUpgrade);
      removeStreams?.();
    };
  }

  /** The HTTP server used, under the name `ws` keeps it by: its own or `server`; null with noServer and once closing. */
  get _server(): http.Server | https.Server | Http2ServerLike | null {
    return this.#state === RUNNING ? this.#server : null;
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
  handleUpgrade(req: InstanceType<U>, socket: Duplex, head: Buffer, callback: (client: InstanceType<T>, request: InstanceType<U>) => void): void {
    guardHandshake(socket);
    if (this.#state !== RUNNING) return this.#refuse(req, socket, { error: new HandshakeError('WS_ERR_HANDSHAKE_SHUTTING_DOWN') });
    const valid = readUpgradeRequest(req);
    if (valid instanceof HandshakeError) return this.#refuse(req, socket, { error: valid });
    if (!this.shouldHandle(req)) return this.#refuse(req, socket, { error: new HandshakeError('WS_ERR_HANDSHAKE_PATH') });
    decide(this.options as AcceptOptions, this.#deflate, req, valid, this.#connections.size, this.#verifying, (outcome) => {
      if ('error' in outcome) this.#refuse(req, socket, outcome);
      else this.#accept(req, socket, head, valid.key, outcome, callback);
    });
  }

  /**
   * Completes (or refuses) the opening handshake of an HTTP/2 extended CONNECT stream (RFC 8441)
   * and calls `callback` with the new WebSocket, as handleUpgrade does for HTTP/1.1. Refusals
   * answer the HandshakeError's status on the stream; the session and its other streams go on.
   */
  handleStream(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    rawHeaders: string[] | undefined,
    callback: (client: InstanceType<T>, request: InstanceType<U>) => void,
    request?: http2.Http2ServerRequest,
  ): void {
    const req = (request ?? streamRequest(stream, headers, rawHeaders)) as unknown as InstanceType<U>;
    if (this.#state !== RUNNING) return this.#refuse(req, stream, { error: new HandshakeError('WS_ERR_HANDSHAKE_SHUTTING_DOWN') });
    const valid = readConnectRequest(headers);
    if (valid instanceof HandshakeError) return this.#refuse(req, stream, { error: valid });
    if (!this.shouldHandle(req)) return this.#refuse(req, stream, { error: new HandshakeError('WS_ERR_HANDSHAKE_PATH') });
    const session = stream.session;
    const max = this.options.maxStreamsPerSession;
    if (session && max > 0 && this.#sessionStreams.count(session) >= max) {
      return this.#refuse(req, stream, { error: new HandshakeError('WS_ERR_H2_STREAM_LIMIT') });
    }
    decide(this.options as AcceptOptions, this.#deflate, req, { ...valid, key: '' }, this.#connections.size, this.#verifying, (outcome) => {
      if ('error' in outcome) return this.#refuse(req, stream, outcome);
      if (!isStreamAnswerable(stream)) return;
      const lines = answerLines(valid, outcome.protocol, outcome.deflate?.response);
      this.#open(req, stream, outcome, lines, callback, () => {
        respondOpen(stream, lines);
        if (session) this.#sessionStreams.add(session, stream);
      });
    });
  }

  #accept(
    req: InstanceType<U>,
    socket: Duplex,
    head: Buffer,
    key: string,
    agreement: Agreement,
    callback: (client: InstanceType<T>, request: InstanceType<U>) => void,
  ): void {
    if (!isAnswerable(socket)) {
      socket.destroy();
      return;
    }
    const { protocol, deflate } = agreement;
    const headers = this.listenerCount('headers') === 0 ? null : switchingHeaders(key, protocol, deflate?.response);
    const answer = headers === null ? () => writeSwitchingFor(socket, key, protocol, deflate?.response) : () => writeSwitching(socket, headers);
    this.#open(req, socket, agreement, headers, callback, answer, head);
  }

  /**
   * The steps of accepting shared by both transports: the books, the 'headers' event (which may
   * change `headers` before `answer` writes them; null: nobody listens), link and WebSocket.
   */
  #open(
    req: InstanceType<U>,
    transport: Duplex,
    agreement: Agreement,
    headers: string[] | null,
    callback: (client: InstanceType<T>, request: InstanceType<U>) => void,
    answer: () => void,
    head: Buffer = EMPTY_HEAD,
  ): void {
    if (UPGRADED.has(transport)) {
      // Two servers (or two calls) took the same upgrade: a misconfiguration to report loudly.
      throw new Error('server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration');
    }
    UPGRADED.add(transport);
    if (this.#state !== RUNNING) {
      this.#refuse(req, transport, { error: new HandshakeError('WS_ERR_HANDSHAKE_SHUTTING_DOWN') });
      return;
    }
    const { protocol, deflate } = agreement;
    if (headers !== null) this.emit('headers', headers, req);
    answer();
    const link = new Link(this.#host);
    const Ctor = this.options.WebSocket ?? WebSocket;
    // The link goes where `ws` passes its options: a user's subclass is constructed alike.
    const ws = new Ctor(null, undefined, link as never) as InstanceType<T>;
    // `extensions` names the extensions in use, as `ws` reports it.
    const codec = deflate ? new DeflateCodec(deflate.params, 'server', this.#deflate!) : null;
    link.attach(transport, head, protocol ?? '', deflate ? PERMESSAGE_DEFLATE : '', codec, isStream(transport) ? HTTP2_ENDING : undefined);
    this.#connections.add(link);
    if (this.options.clientTracking) this.clients.add(ws);
    if (channels.handshakeAccept.hasSubscribers) channels.handshakeAccept.publish({ protocol: protocol ?? '', compressed: deflate !== null && deflate !== undefined });
    if (channels.connectionOpen.hasSubscribers) channels.connectionOpen.publish({ connections: this.#connections.size });
    callback(ws, req);
  }

  #refuse(req: http.IncomingMessage, socket: Duplex, { error, headers }: Refusal): void {
    socket = answerOn(socket); // a connection on its bare handle gets its net.Socket first
    if (socket.destroyed) return;
    error = wsShaped(error);
    const code = error.code;
    if (channels.handshakeFail.hasSubscribers) channels.handshakeFail.publish({ code, status: error.status });
    if (this.listenerCount('wsClientError') > 0) {
      this.emit('wsClientError', error, socket, req);
      return;
    }
    if (isStream(socket)) respondRefusal(socket, error.status, error.message, headers);
    else abortHandshake(socket, error.status, error.message, headers);
  }

  #connectionClosed(connection: HostedConnection): void {
    this.#connections.delete(connection);
    if (channels.connectionClose.hasSubscribers) channels.connectionClose.publish({ connections: this.#connections.size });
    // The owner of a connection accepted here is the WebSocket constructed in #accept.
    if (this.options.clientTracking) this.clients.delete(connection.owner as InstanceType<T>);
    if (this.#state === CLOSING && this.#connections.size === 0) this.#finishClose();
  }

  /**
   * Sends one message to every open client (or those `filter` keeps), framed once and, with
   * permessage-deflate, compressed once per window size: the same bytes go to everyone.
   * Returns how many clients it was sent to.
   */
  broadcast(data: SendData, options: { binary?: boolean; compress?: boolean; filter?: (ws: WebSocket) => boolean } = {}): number {
    const filter = options.filter as ((owner: unknown) => boolean) | undefined;
    return deliverToAll(this.#connections, this.prepare(data, options), filter);
  }

  /**
   * Frames a message once for many sends (`ws.sendPrepared`): strings as text, everything else
   * as binary unless `binary` says otherwise; compressed (when `compress`, the default, and a
   * connection negotiated permessage-deflate) once per window size, with this server's settings.
   */
  prepare(data: SendData, options: { binary?: boolean; compress?: boolean } = {}): PreparedMessage {
    const { bytes } = syncBytes(data);
    return new PreparedMessage(bytes, options.binary ?? typeof data !== 'string', options.compress ?? true, this.#deflate ?? {});
  }

  /**
   * Publishes to every subscriber of `topic`, framed once (and compressed once): the same bytes
   * to each. With a broker, subscribers in other processes get it too; `cb` learns whether the
   * broker took it (without `cb`, a failure emits 'publishError' and counts in brokerFailures).
   * Returns what happened locally.
   */
  publish(topic: string, data: SendData, options: PublishOptions = {}, cb?: (error: Error | null) => void): PublishResult {
    return publishTo(this.#host.topics!, topic, data, options, null, cb);
  }

  /** publish() as a promise that rejects when the broker could not take the message. */
  publishAsync(topic: string, data: SendData, options: PublishOptions = {}): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      const result = this.publish(topic, data, options, (error) => (error ? reject(error) : resolve(result)));
    });
  }

  /** Local subscribers of `topic`. */
  subscriberCount(topic: string): number {
    return this.#host.topics!.subscriberCount(topic);
  }

  #brokerFailed(error: Error, topic: string): void {
    this.brokerFailures++;
    if (this.listenerCount('publishError') > 0) this.emit('publishError', error, topic);
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
    this.#heartbeat?.stop();
    if (this.#ownServer) this.#server!.close();
    this.#removeListeners?.();
    if (this.#connections.size === 0) {
      this.#finishClose();
      return;
    }
    for (const connection of this.#connections) {
      if (connection.readyState === WebSocket.OPEN) connection.close(1001, GOING_AWAY_REASON);
    }
    const deadline = setTimeout(() => {
      for (const connection of this.#connections) connection.terminate();
    }, this.options.closeTimeoutMs);
    deadline.unref();
    this.once('close', () => clearTimeout(deadline));
  }

  /** The last step of close(): 'close' once the own HTTP server closed; CLOSED from then on (as in `ws`). */
  #finishClose(): void {
    if (this.#finishing) return;
    this.#finishing = true;
    this.#stopCollect();
    const emitClose = (): void => {
      this.#state = CLOSED;
      this.emit('close');
    };
    const server = this.#server;
    if (this.#ownServer && server) {
      (server as http.Server).closeAllConnections?.();
      if (server.listening) {
        server.once('close', emitClose);
        return;
      }
    }
    process.nextTick(emitClose);
  }
}

/** Typed listeners, as `ws`'s typings give them. */
export interface WebSocketServer<T extends typeof WebSocket = typeof WebSocket, U extends typeof http.IncomingMessage = typeof http.IncomingMessage> {
  on(event: 'connection', listener: (this: WebSocketServer<T, U>, ws: InstanceType<T>, request: InstanceType<U>) => void): this;
  on(event: 'error', listener: (this: WebSocketServer<T, U>, error: Error) => void): this;
  on(event: 'headers', listener: (this: WebSocketServer<T, U>, headers: string[], request: InstanceType<U>) => void): this;
  on(event: 'wsClientError', listener: (this: WebSocketServer<T, U>, error: HandshakeError, socket: Duplex, request: InstanceType<U>) => void): this;
  on(event: 'close' | 'listening', listener: (this: WebSocketServer<T, U>) => void): this;
  on(event: 'publishError', listener: (this: WebSocketServer<T, U>, error: Error, topic: string) => void): this;
  on(event: string | symbol, listener: (this: WebSocketServer<T, U>, ...args: any[]) => void): this;
  once(event: 'connection', listener: (this: WebSocketServer<T, U>, ws: InstanceType<T>, request: InstanceType<U>) => void): this;
  once(event: 'error', listener: (this: WebSocketServer<T, U>, error: Error) => void): this;
  once(event: 'headers', listener: (this: WebSocketServer<T, U>, headers: string[], request: InstanceType<U>) => void): this;
  once(event: 'wsClientError', listener: (this: WebSocketServer<T, U>, error: HandshakeError, socket: Duplex, request: InstanceType<U>) => void): this;
  once(event: 'close' | 'listening', listener: (this: WebSocketServer<T, U>) => void): this;
  once(event: string | symbol, listener: (this: WebSocketServer<T, U>, ...args: any[]) => void): this;
  off(event: 'connection', listener: (this: WebSocketServer<T, U>, ws: InstanceType<T>, request: InstanceType<U>) => void): this;
  off(event: string | symbol, listener: (this: WebSocketServer<T, U>, ...args: any[]) => void): this;
  addListener(event: 'connection', listener: (ws: InstanceType<T>, request: InstanceType<U>) => void): this;
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  removeListener(event: 'connection', listener: (ws: InstanceType<T>, request: InstanceType<U>) => void): this;
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
}
