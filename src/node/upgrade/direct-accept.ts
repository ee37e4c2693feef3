/**
 * Upgrades read without Node's HTTP parser, on the HTTP server a WebSocketServer owns (the
 * `port` option). Each new connection's first bytes are read here: a plain, complete upgrade
 * request (protocol/handshake/request-head.ts) goes straight to the upgrade listener with a
 * request object made in direct-request.ts; anything else (a request in two packets, a plain request, CONNECT, bytes the filter declines, an end before
 * any byte) is put back with `unshift` and handed to the HTTP server's own connection listener,
 * which answers exactly as it does for every connection without this path.
 * The handshake timeout keeps its meaning: a connection that has not completed its request
 * head `handshakeTimeoutMs` after it was accepted gets the HTTP server's own 408 answer,
 * checked as often as the HTTP server checks it, wherever its bytes are being read.
 * Must not: judge the request (protocol/ and accept-policy.ts do), touch Node's private fields,
 * or keep anything of a connection once its request head is read.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { readRequestHead } from '../../protocol/handshake/request-head.js';
import { HandleTransport, PLAIN_TCP, handleBindings } from '../handle-transport.js';
import { DirectRequest, fillRequest } from './direct-request.js';
import { onSocketErrorDuringHandshake } from './http1.js';

export type UpgradeListener = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Node's answer to a request head that did not arrive in time (its `requestTimeoutResponse`). */
const TIMEOUT_ANSWER = `HTTP/1.1 408 ${http.STATUS_CODES[408]}\r\nConnection: close\r\n\r\n`;
const HEAD_END = '\r\n\r\n';
/** Heads longer than this go to Node's parser, which applies maxHeaderSize itself. */
const MAX_DIRECT_HEAD = 8 * 1024;

type ConnectionListener = (this: http.Server, socket: Socket) => void;
/** The listening handle's callback for each accepted connection (Node's `onconnection`). */
type OnConnection = (this: unknown, status: number, clientHandle: unknown) => void;
type ListenHandle = { onconnection: OnConnection };
/** A connection whose head is awaited: a net.Socket, or a bare handle (handle-transport.ts). */
type Waiting = Socket | HandleTransport;

export class DirectAccept {
  readonly #server: http.Server;
  readonly #httpConnection: ConnectionListener;
  readonly #onUpgrade: UpgradeListener;
  readonly #timeoutMs: number;
  readonly #maxHead: number;
  /** Connections whose request head is not complete yet, with the time they were accepted. */
  readonly #waiting = new Map<Waiting, number>();
  /** The listening handle whose `onconnection` is ours, and Node's own (null: not taken). */
  #listenHandle: ListenHandle | null = null;
  #nodeOnConnection: OnConnection | null = null;
  /** Null when handshakeTimeoutMs is 0: no timeout, as for Node's own header timeout. */
  readonly #timer: NodeJS.Timeout | null = null;
  readonly #onConnection = (socket: Socket): void => this.#accept(socket);
  readonly #onReadable: (this: Socket) => void;

  /**
   * Takes over `server`'s connection listener (it must have exactly Node's own one); `onUpgrade`
   * is called for every upgrade request, read here or by Node's parser.
   */
  constructor(server: http.Server, options: { handshakeTimeoutMs: number; maxHeaderSize: number }, onUpgrade: UpgradeListener) {
    const listeners = server.listeners('connection');
    if (listeners.length !== 1) throw new Error('DirectAccept needs the HTTP server with its own connection listener only');
    this.#server = server;
    this.#httpConnection = listeners[0] as ConnectionListener;
    this.#onUpgrade = onUpgrade;
    this.#timeoutMs = options.handshakeTimeoutMs;
    this.#maxHead = Math.min(MAX_DIRECT_HEAD, options.maxHeaderSize);
    const self = this;
    this.#onReadable = function (this: Socket): void {
      self.#read(this);
    };
    server.removeListener('connection', this.#httpConnection);
    server.on('connection', this.#onConnection);
    server.on('upgrade', this.#settleUpgrade);
    if (handleBindings !== null) {
      if (server.listening) this.#takeHandles();
      else server.once('listening', this.#takeHandles);
    }
    // As often as Node's HTTP server checks its own timeouts.
    if (this.#timeoutMs > 0) {
      this.#timer = setInterval(() => this.#expire(), Math.min(1000, this.#timeoutMs));
      this.#timer.unref();
    }
  }

  /** Gives the connection listener back to Node's HTTP server; heads still being read go to it. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#server.removeListener('listening', this.#takeHandles);
    if (this.#listenHandle !== null && this.#listenHandle.onconnection === this.#onHandle) this.#listenHandle.onconnection = this.#nodeOnConnection!;
    this.#listenHandle = null;
    this.#server.removeListener('connection', this.#onConnection);
    this.#server.removeListener('upgrade', this.#settleUpgrade);
    this.#server.on('connection', this.#httpConnection);
    for (const socket of this.#waiting.keys()) {
      if (socket instanceof HandleTransport) {
        if (!socket.destroyed && !socket.materialized) this.#handOver(socket.materialize(), null);
      } else if (socket.listenerCount('readable') > 0 && socket.listeners('readable').includes(this.#onReadable)) this.#handOver(socket, null);
    }
    this.#waiting.clear();
  }

  /**
   * Accepted connections come as bare handles (handle-transport.ts) from now on: Node's
   * `onconnection` on the listening handle is replaced (in a cluster worker too, where the
   * handle stands in for the primary's). Only when Node would make a plain net.Socket and hand
   * it to the HTTP server alone: anything else (an accept error, maxConnections reached,
   * pauseOnConnect, a user's 'connection' listener) is Node's own `onconnection`.
   */
  readonly #takeHandles = (): void => {
    const handle = (this.#server as unknown as { _handle?: ListenHandle | null })._handle;
    if (handle == null || typeof handle.onconnection !== 'function' || this.#listenHandle !== null) return;
    this.#listenHandle = handle;
    this.#nodeOnConnection = handle.onconnection;
    handle.onconnection = this.#onHandle;
  };

  /** The listening handle's callback: `this` is the listening handle, as for Node's own. */
  readonly #onHandle: OnConnection = ((accept: DirectAccept): OnConnection =>
    function (this: unknown, status: number, clientHandle: unknown): void {
      accept.#connect(this, status, clientHandle);
    })(this);

  #connect(listenHandle: unknown, status: number, clientHandle: unknown): void {
    const server = this.#server as http.Server & { _connections: number; pauseOnConnect?: boolean };
    const client = clientHandle as { readStart?: unknown; writeQueueSize?: unknown } | null;
    if (
      status !== 0 ||
      client == null ||
      typeof client.readStart !== 'function' ||
      typeof client.writeQueueSize !== 'number' ||
      typeof server._connections !== 'number' ||
      (server.maxConnections != null && server._connections >= server.maxConnections) ||
      server.pauseOnConnect === true ||
      server.listenerCount('connection') !== 1 ||
      server.listeners('connection')[0] !== this.#onConnection
    ) {
      this.#nodeOnConnection!.call(listenHandle, status, clientHandle);
      return;
    }
    server._connections++;
    this.#waiting.set(new HandleTransport(clientHandle, server, this.#firstRead), Date.now());
  }

  /** The first read of a bare handle: a plain complete upgrade goes on on the handle, anything else to Node's HTTP server. */
  readonly #firstRead = (transport: HandleTransport, chunk: Buffer | null | false): void => {
    const since = this.#waiting.get(transport);
    this.#waiting.delete(transport);
    if (chunk === false) return;
    if (chunk !== null) {
      const upgrade = this.#upgradeRequest(chunk, transport);
      if (upgrade !== null) {
        this.#onUpgrade(upgrade.req, transport as unknown as Duplex, upgrade.head);
        return;
      }
    }
    const socket = transport.materialize();
    if (since !== undefined) this.#waiting.set(socket, since);
    if (this.#timer === null) socket.once('close', () => this.#waiting.delete(socket));
    this.#handOver(socket, chunk);
  };

  #accept(socket: Socket): void {
    this.#waiting.set(socket, Date.now());
    // Without the sweep, a connection that closes before its head must leave on its own.
    if (this.#timer === null) socket.once('close', () => this.#waiting.delete(socket));
    socket.on('error', onSocketErrorDuringHandshake);
    socket.on('readable', this.#onReadable);
  }

  #read(socket: Socket): void {
    const chunk = socket.read() as Buffer | null;
    socket.removeListener('readable', this.#onReadable);
    const upgrade = chunk === null ? null : this.#upgradeRequest(chunk, socket);
    if (upgrade === null) {
      this.#handOver(socket, chunk);
      return;
    }
    this.#waiting.delete(socket);
    // Node settles the socket's reading state a tick after its 'readable' listener is
    // gone, and would then resume it if a 'data' listener came meanwhile, undoing a
    // pause() made in 'connection'. The upgrade goes on after that tick, with the socket
    // neither paused nor flowing, as Node's HTTP server hands over an upgrade.
    process.nextTick(upgradeSettled, this.#onUpgrade, upgrade.req, socket, upgrade.head);
  }

  /** The request of `chunk` when it holds a plain, complete upgrade request head (and what follows it); else null. */
  #upgradeRequest(chunk: Buffer, socket: Waiting): { req: http.IncomingMessage; head: Buffer } | null {
    const end = chunk.indexOf(HEAD_END);
    if (end === -1 || end + HEAD_END.length > this.#maxHead) return null;
    const head = readRequestHead(chunk.toString('latin1', 0, end));
    if (head === null) return null;
    const req = fillRequest(socket instanceof HandleTransport ? new HandleRequest(socket) : new DirectRequest(socket), head);
    return { req, head: chunk.subarray(end + HEAD_END.length) };
  }

  /** Node's HTTP server reads the connection from here on, starting with `chunk`. */
  #handOver(socket: Socket, chunk: Buffer | null): void {
    socket.removeListener('readable', this.#onReadable);
    socket.removeListener('error', onSocketErrorDuringHandshake);
    if (chunk !== null) socket.unshift(chunk);
    this.#httpConnection.call(this.#server, socket);
  }

  /** An upgrade read by Node's parser: its head is complete, so the handshake timeout is over. */
  readonly #settleUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.#waiting.delete(socket as Socket);
    this.#onUpgrade(req, socket, head);
  };

  #expire(): void {
    const now = Date.now();
    for (const [socket, since] of this.#waiting) {
      if (socket.destroyed) this.#waiting.delete(socket);
      else if (now - since > this.#timeoutMs) {
        this.#waiting.delete(socket);
        if (socket.writable && socket.bytesWritten === 0) socket.write(TIMEOUT_ANSWER);
        socket.destroy();
      }
    }
  }
}

/** The upgrade of a request read here, once the socket's reading state is settled. */
function upgradeSettled(onUpgrade: UpgradeListener, req: http.IncomingMessage, socket: Socket, head: Buffer): void {
  // The upgrade listener adds the same error listener until the answer is written.
  socket.removeListener('error', onSocketErrorDuringHandshake);
  onUpgrade(req, socket, head);
}

/** Where a HandleRequest keeps its socket once one is made or set. */
const SOCKET = Symbol('socket');

/**
 * A request read on a bare handle (handle-transport.ts): its `socket` (and `connection`) is the
 * net.Socket made over the handle when first asked for; until then the connection stays on the handle.
 */
class HandleRequest extends DirectRequest {
  declare [SOCKET]?: Socket | null;
  declare [PLAIN_TCP]: boolean;
  readonly transport: HandleTransport;

  constructor(transport: HandleTransport) {
    super(null as unknown as Socket);
    this.transport = transport;
  }
}

HandleRequest.prototype[PLAIN_TCP] = true;

Object.defineProperty(HandleRequest.prototype, 'socket', {
  configurable: true,
  get(this: HandleRequest): Socket | null {
    const socket = this[SOCKET];
    if (socket != null || this.transport === undefined) return socket ?? null;
    // Asked for during the handshake (verifyClient): guarded as the handshake guards a socket.
    const guard = !this.transport.attached && !this.transport.materialized;
    const made = (this[SOCKET] = this.transport.materialize());
    if (guard) made.on('error', onSocketErrorDuringHandshake);
    return made;
  },
  set(this: HandleRequest, value: Socket | null): void {
    this[SOCKET] = value;
  },
});
