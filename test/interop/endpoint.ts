/**
 * Endpoint: one end of an interop connection, seen through the same small interface whatever
 * implements it (fullduplex, ws, undici, Python websockets, Chromium), so one matrix of
 * behaviours runs against every peer. Also the adapter for the EventEmitter API that
 * fullduplex and `ws` share.
 */
import { Inbox, within } from './inbox.js';
import type { MessageCase } from './message-cases.js';

export interface Received {
  binary: boolean;
  /** Payload bytes (UTF-8 for text). */
  data: Buffer;
}

export interface Closed {
  /** The close code this end received (1005 none, 1006 no close frame). */
  code: number;
  reason: string;
  wasClean: boolean;
}

export interface Endpoint {
  /** The subprotocol this end agreed on ('' for none). */
  readonly protocol: string;
  /** The extensions this end agreed on, as in Sec-WebSocket-Extensions (where the API tells). */
  readonly extensions?: string;
  send(message: MessageCase): Promise<void>;
  nextMessage(): Promise<Received>;
  /** Sends a ping and resolves with the payload of the pong that answers it. Absent when the API cannot ping. */
  ping?(payload: Buffer): Promise<Buffer>;
  /** Resolves with the payload of the next ping received. Absent when the API hides pings. */
  nextPing?(): Promise<Buffer>;
  /**
   * Sends one message as several frames, FIN on the last only; `between` runs after the first
   * frame is out. Absent when the API cannot fragment.
   */
  sendFragments?(parts: Buffer[], binary: boolean, between?: () => Promise<void>): Promise<void>;
  /** Starts the closing handshake. */
  close(code: number, reason: string): Promise<void>;
  /** Starts the closing handshake with an empty close frame. Absent when the API always sends a code. */
  closeWithoutCode?(): Promise<void>;
  /** Resolves once this end's connection is closed (never rejects; callers bound the wait). */
  readonly closed: Promise<Closed>;
}

export interface Session {
  ours: Endpoint;
  peer: Endpoint;
  dispose(): Promise<void>;
}

/** The EventEmitter surface of fullduplex's WebSocket and of ws's. */
export interface EmitterSocket {
  readonly protocol: string;
  readonly extensions: string;
  readonly readyState: number;
  send(data: string | Buffer, options: { binary: boolean; fin?: boolean }, cb: (error?: Error | null) => void): void;
  ping(data: Buffer): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string; wasClean: boolean }) => void): void;
}

const STEP_MS = 10_000;

/** Wraps a ws-style socket. Call it synchronously where the socket is created, so no event is missed. */
export function emitterEndpoint(socket: EmitterSocket, label: string): Endpoint {
  const messages = new Inbox<Received>(`${label} messages`);
  const pings = new Inbox<Buffer>(`${label} pings`);
  const pongs = new Inbox<Buffer>(`${label} pongs`);
  socket.on('message', (data: unknown, isBinary: boolean) => {
    if (!Buffer.isBuffer(data)) throw new TypeError(`${label}: expected a Buffer message, got ${typeof data}`);
    messages.push({ binary: isBinary, data: Buffer.from(data) });
  });
  socket.on('ping', (data: Buffer) => pings.push(Buffer.from(data)));
  socket.on('pong', (data: Buffer) => pongs.push(Buffer.from(data)));
  const errors: Error[] = [];
  socket.on('error', (error: Error) => errors.push(error));
  const closed = new Promise<Closed>((resolve) => {
    socket.addEventListener('close', (event) => {
      const gone = new Error(`${label} closed (${event.code})${errors.length ? `: ${errors[0]!.message}` : ''}`);
      messages.fail(gone);
      pings.fail(gone);
      pongs.fail(gone);
      resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
    });
  });
  return {
    get extensions() {
      return socket.extensions;
    },
    get protocol() {
      return socket.protocol;
    },
    send: (message) =>
      within(
        new Promise<void>((resolve, reject) => {
          const data = message.binary ? message.data : message.data.toString('utf8');
          socket.send(data, { binary: message.binary }, (error) => (error ? reject(error) : resolve()));
        }),
        STEP_MS,
        `${label} send ${message.name}`,
      ),
    nextMessage: () => messages.next(STEP_MS),
    ping: async (payload) => {
      socket.ping(payload);
      return pongs.next(STEP_MS);
    },
    nextPing: () => pings.next(STEP_MS),
    sendFragments: async (parts, binary, between) => {
      const sent: Array<Promise<void>> = [];
      for (let i = 0; i < parts.length; i++) {
        sent.push(new Promise<void>((resolve, reject) => {
          socket.send(parts[i]!, { binary, fin: i === parts.length - 1 }, (error) => (error ? reject(error) : resolve()));
        }));
        if (i === 0 && between) await between();
      }
      await within(Promise.all(sent), STEP_MS, `${label} send fragments`);
    },
    close: async (code, reason) => socket.close(code, reason),
    closeWithoutCode: async () => socket.close(),
    closed,
  };
}

