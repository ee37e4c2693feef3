/**
 * One load-generator connection: a raw node:net socket that writes the prepared upgrade request,
 * checks the 101, then counts the server's messages as they complete (frames.ts). Pings are
 * answered with pongs so servers with heartbeats keep the connection; a server's close is
 * reported. Every socket reads into one shared buffer (net's onread): no allocation and no
 * stream machinery per read.
 * Must not: keep per-message state (the loads in loads.ts do), or use the library's WebSocket.
 */
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { OPCODE, MessageCounter, checkUpgradeResponse, maskedFrame, messageFrame } from './frames.js';

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

interface PendingHandshake {
  deflate: boolean;
  subprotocol: string | null;
  /** performance.now() past which the handshake has timed out. */
  deadline: number;
  fail(error: Error, kind: LoadErrorKind): void;
  done(): void;
}

/** Handshakes under way: one timer checks their deadlines, instead of one timer per connection. */
const opening = new Set<PendingHandshake>();
let sweep: NodeJS.Timeout | null = null;
const SWEEP_MS = 100;

function watch(handshake: PendingHandshake): void {
  opening.add(handshake);
  sweep ??= setInterval(expire, SWEEP_MS);
}

function unwatch(handshake: PendingHandshake): void {
  opening.delete(handshake);
  if (opening.size === 0 && sweep !== null) {
    clearInterval(sweep);
    sweep = null;
  }
}

function expire(): void {
  const now = performance.now();
  for (const handshake of opening) if (now >= handshake.deadline) handshake.fail(new Error('opening handshake timed out'), LoadErrorKind.TIMEOUT);
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

export class Client {
  socket!: net.Socket;
  readonly counter = new MessageCounter(
    (opcode, payload) => this.#control(opcode, payload),
    (payload) => this.#other(payload),
  );
  closing = false;
  /** How long the opening handshake took, in ms. */
  handshakeMs = 0;
  /** Called with the number of messages a read completed. */
  onMessages: (count: number) => void = () => {};
  /** Messages the counter hands over whole: true for a delivery. Null: they wait for nextText(). */
  onOther: ((text: string) => boolean) | null = null;
  /** Takes messages handed over whole as bytes, before onOther (the presence storm reads only their head). */
  onRaw: ((payload: Buffer) => boolean) | null = null;
  /** Called for each pong, with its payload. */
  onPong: (payload: Buffer) => void = () => {};
  #head: Buffer | null = null;
  #handshake: PendingHandshake | null = null;
  #inbox: string[] = [];
  #waiter: { resolve(text: string): void; reject(error: Error): void } | null = null;
  #onError: ErrorSink = () => {};

  /**
   * Connects; resolves with the client once the server's 101 arrived. With `match`, the counter
   * filters from the first byte after the handshake (a session may start in the same read).
   */
  static open(options: OpenOptions): Promise<Client> {
    const { host, port, localAddress, request, deflate, subprotocol, match, maskedReplies = false, timeoutMs, onError, tls: secure } = options;
    return new Promise((resolve, reject) => {
      const client = new Client();
      client.counter.match = match;
      client.counter.maskedExpected = maskedReplies;
      client.#onError = onError;
      const started = performance.now();
      const handshake: PendingHandshake = {
        deflate,
        subprotocol,
        deadline: started + timeoutMs,
        fail: (error: Error, kind: LoadErrorKind): void => {
          if (!client.#handshake) return;
          client.#handshake = null;
          unwatch(handshake);
          client.closing = true;
          client.socket.destroy();
          reject(new OpenError(kind, error.message));
        },
        done: () => {
          client.#handshake = null;
          unwatch(handshake);
          client.handshakeMs = performance.now() - started;
          resolve(client);
        },
      };
      client.#handshake = handshake;
      watch(handshake);
      let socket: net.Socket;
      if (secure) {
        // TLS sockets do not take onread: each read is its own buffer.
        socket = tls.connect({ host, port, ...(localAddress ? { localAddress } : {}), ...secure, ALPNProtocols: ['http/1.1'] });
        socket.on('data', (chunk: Buffer) => client.#read(chunk));
        socket.once('secureConnect', () => socket.write(request));
      } else {
        const options: net.NetConnectOpts = { host, port, onread: { buffer: readBuffer, callback: (n: number) => client.#read(readBuffer.subarray(0, n)) } };
        if (localAddress) options.localAddress = localAddress;
        socket = net.connect(options);
        socket.once('connect', () => socket.write(request));
      }
      client.socket = socket;
      socket.setNoDelay(true);
      socket.on('error', (error: NodeJS.ErrnoException) => {
        const text = `${error.code ?? ''} ${error.message}`.trim();
        if (client.#handshake) handshake.fail(new Error(text), LoadErrorKind.CONNECT);
        else if (!client.closing) client.#onError(LoadErrorKind.CONNECTION_LOST, text);
      });
      socket.on('close', () => {
        if (client.#handshake) handshake.fail(new Error('closed during the opening handshake'), LoadErrorKind.HANDSHAKE);
        else if (!client.closing) client.#onError(LoadErrorKind.CONNECTION_LOST, 'connection closed without a close frame');
        client.closing = true;
        client.#waiter?.reject(new Error('closed before the session was open'));
      });
    });
  }

  // Called by net's onread with the shared buffer's filled part.
  #read(input: Buffer): boolean {
    let chunk = input;
    if (this.#handshake) {
      // A head in one read (the common case) is read in place; only a split one is copied.
      const head = this.#head === null ? chunk : Buffer.concat([this.#head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        this.#head = Buffer.from(head);
        if (head.length > 16384) this.#handshake.fail(new Error('response head too large'), LoadErrorKind.HANDSHAKE);
        return true;
      }
      const problem = checkUpgradeResponse(head.toString('latin1', 0, end + 4), this.#handshake);
      if (problem !== null) {
        this.#handshake.fail(new Error(problem), LoadErrorKind.HANDSHAKE);
        return true;
      }
      const rest = head.subarray(end + 4);
      this.#head = null;
      this.#handshake.done();
      if (rest.length === 0) return true;
      chunk = rest;
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
    const queued = this.#inbox.shift();
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

  #other(payload: Buffer): boolean {
    if (this.onRaw !== null) return this.onRaw(payload);
    const text = payload.toString();
    if (this.onOther !== null) return this.onOther(text);
    if (this.#waiter) this.#waiter.resolve(text);
    else this.#inbox.push(text);
    return false;
  }

  #control(opcode: number, payload: Buffer): void {
    if (opcode === OPCODE.ping) this.socket.write(maskedFrame(OPCODE.pong, payload));
    else if (opcode === OPCODE.pong) this.onPong(payload);
    else if (opcode === OPCODE.close) {
      if (!this.closing) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.#onError(LoadErrorKind.SERVER_CLOSE, `server sent close ${code} ${payload.subarray(2).toString()}`.trim());
      }
      this.closing = true;
      this.socket.destroy();
    }
  }
}
