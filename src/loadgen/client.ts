/**
 * One load-generator connection: a raw TCP connection (a bare handle, tcp-handle.ts, or where
 * that is not available and for wss://, a node:net or node:tls socket) that writes the prepared upgrade request,
 * checks the 101, then counts the server's messages as they complete (frames.ts). Pings are
 * answered with pongs so servers with heartbeats keep the connection; a server's close is
 * reported. Every plain socket reads into one shared buffer: no allocation and no stream
 * machinery per read.
 * Must not: keep per-message state (the loads in loads.ts do), or use the library's WebSocket.
 */
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { OPCODE, MessageCounter, checkUpgradeHead, maskedFrame, messageFrame } from './frames.js';
import { HandleSocket, bareTcp, type HandleEvents } from './tcp-handle.js';

/** What a connection reports that went wrong: a stable kind and a human detail. */
export type ErrorSink = (kind: LoadErrorKind, detail: string) => void;

/** The kinds of error a run counts (the report's "errors by kind"). */
export const LoadErrorKind = {
  CONNECT: 'connect',
  HANDSHAKE: 'handshake',
  TIMEOUT: 'timeout',
  SERVER_CLOSE: 'server-close',
  CONNECTION_LOST: 'connection-lost',
  UNEXPECTED_MESSAGE: 'unexpected-message',
  PROTOCOL: 'protocol',
  BACKLOG: 'backlog',
  LOST_DELIVERY: 'lost-delivery',
} as const;
export type LoadErrorKind = (typeof LoadErrorKind)[keyof typeof LoadErrorKind];

// Reads are handled synchronously, before the next read reuses the buffer.
const readBuffer = Buffer.allocUnsafe(256 * 1024);

export interface OpenOptions {
  host: string;
  port: number;
  localAddress?: string | undefined;
  request: Buffer;
  deflate: boolean;
  subprotocol: string | null;
  match: Uint8Array | null;
  /** Masked frames from the server are expected (a byte echo), not protocol errors. */
  maskedReplies?: boolean;
  timeoutMs: number;
  onError: ErrorSink;
  /** wss://: TLS on the socket, with these checks (null: plain TCP). */
  tls?: LoadTls | null;
}

/** TLS settings of a wss:// run; `ca` is PEM text (plans cross process boundaries as JSON). */
export interface LoadTls {
  rejectUnauthorized: boolean;
  ca?: string;
  servername?: string;
}

/** Thrown by Client.open: why the connection did not open, with its kind. */
export class OpenError extends Error {
  constructor(
    readonly kind: LoadErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const NOOP = (): void => {};
/** The client of a socket, for the listeners every socket shares. */
const kClient = Symbol('client');
type ClientSocket = net.Socket & { [kClient]: Client };

/** Handshakes under way: one timer checks their deadlines, instead of one timer per connection. */
const opening = new Set<Client>();
let sweep: NodeJS.Timeout | null = null;
const SWEEP_MS = 100;

/**
 * A connection opens with no objects of its own beyond the socket, the client and its counter:
 * the socket's listeners, its read callback and its connect options are shared by all
 * connections (they find their client through the socket), and the handshake's state is fields
 * of the client.
 */
export class Client {
  socket!: net.Socket | HandleSocket<Client>;
  readonly counter: MessageCounter<Client> = new MessageCounter<Client>(Client.#control, Client.#other, this);
  closing = false;
  /** How long the opening handshake took, in ms (while it runs: when it started). */
  handshakeMs = 0;
  /** Called with the number of messages a read completed. */
  onMessages: (count: number) => void = NOOP;
  /** Messages the counter hands over whole: true for a delivery. Null: they wait for nextText(). */
  onOther: ((text: string) => boolean) | null = null;
  /** Takes messages handed over whole as bytes, before onOther (the presence storm reads only their head). */
  onRaw: ((payload: Buffer) => boolean) | null = null;
  /** Called for each pong, with its payload. */
  onPong: (payload: Buffer) => void = NOOP;
  readonly #options: OpenOptions;
  #head: Buffer | null = null;
  /** While the opening handshake runs: performance.now() past which it has timed out. */
  #deadline = 0;
  #resolve: ((client: Client) => void) | null = null;
  #reject: ((error: Error) => void) | null = null;
  #inbox: string[] | null = null;
  #waiter: { resolve(text: string): void; reject(error: Error): void } | null = null;

  private constructor(options: OpenOptions) {
    this.#options = options;
  }

  /**
   * Connects; resolves with the client once the server's 101 arrived. With `match`, the counter
   * filters from the first byte after the handshake (a session may start in the same read).
   * A connection that does not open is reported to `onError` with its kind, and rejects.
   */
  static open(options: OpenOptions): Promise<Client> {
    const client = new Client(options);
    client.counter.match = options.match;
    client.counter.maskedExpected = options.maskedReplies ?? false;
    Client.#opened = client;
    const promise = new Promise<Client>(Client.#capture);
    Client.#opened = null;
    client.handshakeMs = performance.now();
    client.#deadline = client.handshakeMs + options.timeoutMs;
    opening.add(client);
    sweep ??= setInterval(Client.#expire, SWEEP_MS);
    try {
      client.#connect(options);
    } catch (error) {
      client.#fail((error as Error).message, LoadErrorKind.CONNECT);
    }
    return promise;
  }

  #connect(options: OpenOptions): void {
    const { host, port, localAddress, tls: secure } = options;
    if (!secure && bareTcp && net.isIP(host) !== 0) {
      this.socket = HandleSocket.connect(this, Client.#handleEvents, host, port, localAddress, readBuffer);
      return;
    }
    let socket: net.Socket;
    if (secure) {
      // TLS sockets do not take onread: each read is its own buffer.
      socket = tls.connect({ host, port, ...(localAddress ? { localAddress } : {}), ...secure, ALPNProtocols: ['http/1.1'] });
      socket.on('data', Client.#onData);
      socket.on('secureConnect', Client.#onConnect);
      socket.setNoDelay(true);
    } else {
      socket = net.connect(connectOptions(options));
      socket.on('connect', Client.#onConnect);
    }
    (socket as ClientSocket)[kClient] = this;
    this.socket = socket;
    socket.on('error', Client.#onError);
    socket.on('close', Client.#onClose);
  }

  static #opened: Client | null = null;

  static #capture(this: void, resolve: (client: Client) => void, reject: (error: Error) => void): void {
    const client = Client.#opened!;
    client.#resolve = resolve;
    client.#reject = reject;
  }

  static #expire(this: void): void {
    const now = performance.now();
    for (const client of opening) if (now >= client.#deadline) client.#fail('opening handshake timed out', LoadErrorKind.TIMEOUT);
  }

  static #onConnect(this: ClientSocket): void {
    this.write(this[kClient].#options.request);
  }

  static #onData(this: ClientSocket, chunk: Buffer): void {
    this[kClient].#read(chunk);
  }

  /** net's onread, shared by every socket: `this` is the socket, the data the shared buffer's first n bytes. */
  static readonly onread = (function onread(this: ClientSocket, n: number): boolean {
    return this[kClient].#read(readBuffer.subarray(0, n));
  }) as (n: number) => boolean;

  /** What a bare handle's socket tells its client. */
  static readonly #handleEvents: HandleEvents<Client> = {
    connect: (client) => client.socket.write(client.#options.request),
    read: (client, n) => client.#read(readBuffer.subarray(0, n)),
    error: (client, error) => Client.#failed(client, error),
    close: (client) => Client.#closed(client),
  };

  static #onError(this: ClientSocket, error: NodeJS.ErrnoException): void {
    Client.#failed(this[kClient], error);
  }

  static #onClose(this: ClientSocket): void {
    Client.#closed(this[kClient]);
  }

  static #failed(client: Client, error: NodeJS.ErrnoException): void {
    const text = `${error.code ?? ''} ${error.message}`.trim();
    if (client.#resolve !== null) client.#fail(text, LoadErrorKind.CONNECT);
    else if (!client.closing) {
      // One lost connection, one report: the close that follows the error says nothing more.
      client.closing = true;
      client.#options.onError(LoadErrorKind.CONNECTION_LOST, text);
    }
  }

  static #closed(client: Client): void {
    if (client.#resolve !== null) client.#fail('closed during the opening handshake', LoadErrorKind.HANDSHAKE);
    else if (!client.closing) client.#options.onError(LoadErrorKind.CONNECTION_LOST, 'connection closed without a close frame');
    client.closing = true;
    client.#waiter?.reject(new Error('closed before the session was open'));
  }

  /** The handshake failed: reported, the socket destroyed, open() rejected. */
  #fail(message: string, kind: LoadErrorKind): void {
    const reject = this.#reject;
    if (reject === null) return;
    this.#settled();
    this.closing = true;
    this.socket?.destroy();
    this.#options.onError(kind, message);
    reject(new OpenError(kind, message));
  }

  #settled(): void {
    this.#resolve = null;
    this.#reject = null;
    this.#head = null;
    opening.delete(this);
    if (opening.size === 0 && sweep !== null) {
      clearInterval(sweep);
      sweep = null;
    }
  }

  // Called with the shared buffer's filled part (or, over TLS, each read's own buffer).
  #read(input: Buffer): boolean {
    let chunk = input;
    const resolve = this.#resolve;
    if (resolve !== null) {
      // A head in one read (the common case) is read in place; only a split one is copied.
      const head = this.#head === null ? chunk : Buffer.concat([this.#head, chunk]);
      const end = head.indexOf(CRLFCRLF);
      if (end < 0) {
        this.#head = Buffer.from(head);
        if (head.length > 16384) this.#fail('response head too large', LoadErrorKind.HANDSHAKE);
        return true;
      }
      const problem = checkUpgradeHead(head, end, this.#options);
      if (problem !== null) {
        this.#fail(problem, LoadErrorKind.HANDSHAKE);
        return true;
      }
      this.#settled();
      this.handshakeMs = performance.now() - this.handshakeMs;
      resolve(this);
      if (head.length === end + 4) return true;
      chunk = head.subarray(end + 4);
    }
    const k = this.counter.push(chunk);
    if (k > 0) this.onMessages(k);
    return true;
  }

  sendText(text: string): void {
    this.socket.write(messageFrame(Buffer.from(text)));
  }

  /** The next message handed over whole, as text (only while onOther is null). */
  nextText(timeoutMs: number): Promise<string> {
    const queued = this.#inbox?.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(() => reject(new Error('no answer in time'))), timeoutMs);
      const settle = (how: () => void): void => {
        clearTimeout(timer);
        this.#waiter = null;
        how();
      };
      this.#waiter = { resolve: (text) => settle(() => resolve(text)), reject: (error) => settle(() => reject(error)) };
    });
  }

  /** Starts the closing handshake (RFC 6455 §5.5.1, 1000) and ends the socket; nothing more is counted. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.end(maskedFrame(OPCODE.close, Buffer.from([0x03, 0xe8])));
    this.socket.setTimeout(1000, () => this.socket.destroy());
  }

  /** Drops the connection at once (a reset), as at the end of a run. */
  drop(): void {
    this.closing = true;
    // A TLS socket's handle cannot be reset: it is closed instead.
    if (this.socket instanceof tls.TLSSocket) this.socket.destroy();
    else this.socket.resetAndDestroy();
  }

  static #other(this: Client, payload: Buffer): boolean {
    if (this.onRaw !== null) return this.onRaw(payload);
    const text = payload.toString();
    if (this.onOther !== null) return this.onOther(text);
    if (this.#waiter) this.#waiter.resolve(text);
    else (this.#inbox ??= []).push(text);
    return false;
  }

  static #control(this: Client, opcode: number, payload: Buffer): void {
    if (opcode === OPCODE.ping) this.socket.write(maskedFrame(OPCODE.pong, payload));
    else if (opcode === OPCODE.pong) this.onPong(payload);
    else if (opcode === OPCODE.close) {
      if (!this.closing) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.#options.onError(LoadErrorKind.SERVER_CLOSE, `server sent close ${code} ${payload.subarray(2).toString()}`.trim());
      }
      this.closing = true;
      this.socket.destroy();
    }
  }
}

/** Connect options per OpenOptions (one per source address): shared by all its connections. */
const connectOptionsOf = new WeakMap<OpenOptions, net.NetConnectOpts>();
const sharedRead = { buffer: readBuffer, callback: Client.onread };

function connectOptions(options: OpenOptions): net.NetConnectOpts {
  let shared = connectOptionsOf.get(options);
  if (shared === undefined) {
    shared = { host: options.host, port: options.port, noDelay: true, onread: sharedRead };
    if (options.localAddress) shared.localAddress = options.localAddress;
    connectOptionsOf.set(options, shared);
  }
  return shared;
}
