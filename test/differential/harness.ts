/**
 * The differential harness: a scenario is written once, run against `ws` and against fullduplex
 * in the same test, and what each showed (events with their order and arguments, errors with
 * their class, code and message, wire bytes, HTTP statuses) must be deeply equal, unless the
 * scenario is named in DIFFERENCES (differences.ts), where it must differ, for the reason given.
 * A run that throws or waits in vain is an observation too ('threw', 'timeout'), so a hang or an
 * exception in one implementation shows up as a difference, never as a stuck test.
 * Must not: adapt one implementation's results to the other's.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ServerOptions, WebSocket as WsWebSocket, WebSocketServer as WsServer, ClientOptions } from 'ws';
import { IMPLEMENTATIONS, type Implementation } from './implementations.js';
import { DIFFERENCES } from './differences.js';
import { acceptFor } from '../hostile/raw-peer.js';
import { FrameStream, type ParsedFrame } from '../support/frames.js';

/** How long a scenario waits for something that should happen at once on loopback. */
export const WAIT_MS = 1500;

export interface Scope {
  readonly impl: Implementation;
  /** Runs `fn` when this implementation's run ends (last registered, first run). */
  defer(fn: () => unknown): void;
  /** A server of this implementation on 127.0.0.1 and an ephemeral port; its clients are terminated and it is closed at the end. */
  server(options?: ServerOptions): Promise<{ wss: WsServer; port: number; url: string }>;
  /** A client of this implementation, terminated at the end. */
  client(address: string, protocols?: string | string[] | ClientOptions, options?: ClientOptions): WsWebSocket;
  /** Both ends of one connection of this implementation: the client open, the server side accepted. */
  pair(options?: ServerOptions, clientOptions?: ClientOptions): Promise<{ wss: WsServer; client: WsWebSocket; server: WsWebSocket; url: string }>;
}

export interface ScenarioOptions {
  /** Checks the results beyond the comparison (e.g. pins what a listed difference is). */
  check?: (results: Record<Implementation['name'], unknown>) => void;
}

/** Registers one differential test. */
export function scenario(name: string, run: (scope: Scope) => Promise<unknown>, options: ScenarioOptions = {}): void {
  it(name, async () => {
    const results = {} as Record<Implementation['name'], unknown>;
    for (const impl of IMPLEMENTATIONS) results[impl.name] = await runOnce(impl, run);
    results.fullduplex = withoutExtraCodes(results.fullduplex, results.ws);
    const difference = DIFFERENCES[name];
    if (difference === undefined) {
      assert.deepStrictEqual(results.fullduplex, results.ws, 'fullduplex (actual) differs from ws (expected)');
    } else {
      assert.notDeepStrictEqual(
        results.fullduplex,
        results.ws,
        `DIFFERENCES lists "${name}" (${difference.reason}), yet both behave the same: remove the entry`,
      );
    }
    options.check?.(results);
  });
}

/**
 * `ws` gives some errors no `code` (wsClientError's, a few client errors); where it has none,
 * ours is not compared (a stable code is what our error reference promises).
 */
function withoutExtraCodes(ours: unknown, theirs: unknown): unknown {
  if (Array.isArray(ours) && Array.isArray(theirs)) return ours.map((value, i) => withoutExtraCodes(value, theirs[i]));
  if (!isPlain(ours) || !isPlain(theirs)) return ours;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(ours)) {
    if (key === 'code' && 'error' in ours && 'error' in theirs && !('code' in theirs)) continue;
    out[key] = withoutExtraCodes(value, theirs[key]);
  }
  return out;
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

async function runOnce(impl: Implementation, run: (scope: Scope) => Promise<unknown>): Promise<unknown> {
  const cleanups: Array<() => unknown> = [];
  const scope = makeScope(impl, cleanups);
  let result: unknown;
  try {
    // Copied as it is now: events that cleaning up causes are not part of the result.
    result = await resolveBlobs(await settle(run(scope), 8000));
  } catch (error) {
    result = { threw: show(error) };
  } finally {
    for (const fn of cleanups.reverse()) {
      try {
        await settle(Promise.resolve().then(fn), 2000);
      } catch {
        // Cleanup failures are not observations.
      }
    }
  }
  return result;
}

function makeScope(impl: Implementation, cleanups: Array<() => unknown>): Scope {
  const scope: Scope = {
    impl,
    defer: (fn) => {
      cleanups.push(fn);
    },
    async server(options = {}) {
      const accepted = new Set<WsWebSocket>();
      const wss = new impl.WebSocketServer({ port: 0, host: '127.0.0.1', ...options } as ServerOptions);
      wss.on('connection', (ws: WsWebSocket) => accepted.add(ws));
      scope.defer(
        () =>
          new Promise<void>((resolve) => {
            for (const ws of accepted) ws.terminate();
            wss.close(() => resolve());
          }),
      );
      await new Promise<void>((resolve, reject) => {
        wss.once('listening', resolve);
        wss.once('error', reject);
      });
      const port = (wss.address() as AddressInfo).port;
      return { wss, port, url: `ws://127.0.0.1:${port}` };
    },
    client(address, protocols, options) {
      const ws = new impl.WebSocket(address, protocols as string[], options);
      scope.defer(() => {
        // Terminating a connecting client emits 'error'; unlistened, `ws` would throw it.
        ws.on('error', () => {});
        ws.terminate();
      });
      return ws;
    },
    async pair(options = {}, clientOptions = {}) {
      const { wss, url } = await scope.server(options);
      const serverSide = new Promise<WsWebSocket>((resolve) => wss.once('connection', resolve));
      const client = scope.client(url, clientOptions);
      await once(client, 'open');
      const server = await serverSide;
      return { wss, client, server, url };
    },
  };
  return scope;
}

// ------------------------------------------------------------------ waiting

export const TIMEOUT = 'timeout' as const;

/** The promise's value, or 'timeout' after `ms`. */
export function settle<T>(promise: Promise<T>, ms = WAIT_MS): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The arguments of the next `event`, shown; or 'timeout'. */
export function once(emitter: { once(event: string, listener: (...args: any[]) => void): unknown }, event: string, ms = WAIT_MS): Promise<unknown[] | typeof TIMEOUT> {
  return settle(new Promise<unknown[]>((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args.map(show)))), ms);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Until `check()` holds (true) or `ms` passed (false). */
export async function until(check: () => boolean, ms = WAIT_MS): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await delay(5);
  }
  return true;
}

/** Lets every pending I/O callback and timer of this turn run. */
export async function drainTicks(times = 3): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((resolve) => setImmediate(resolve));
}

// ------------------------------------------------------------------ observations

/** The JavaScript class `ws` documents an error as, by instanceof. */
function errorKind(error: Error): string {
  if (error instanceof SyntaxError) return 'SyntaxError';
  if (error instanceof RangeError) return 'RangeError';
  if (error instanceof TypeError) return 'TypeError';
  return 'Error';
}

/** Ports and random keys vary between runs; everything else is compared as it is. */
export function normalizeText(text: string): string {
  return text.replace(/(127\.0\.0\.1|localhost|\[::1\]):\d+/g, '$1:PORT');
}

function bytesShown(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length <= 48) return `${buffer.length}:${buffer.toString('hex')}`;
  return `${buffer.length}:sha1=${createHash('sha1').update(buffer).digest('hex')}`;
}

const BLOB = Symbol('blob');

/** A value as a comparable, printable observation. */
export function show(value: unknown): unknown {
  if (typeof value === 'string') return normalizeText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) return { Buffer: bytesShown(value) };
  if (value instanceof ArrayBuffer) return { ArrayBuffer: bytesShown(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) return { [value.constructor.name]: bytesShown(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  if (value instanceof Blob) return { [BLOB]: value };
  if (Array.isArray(value)) return value.map(show);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { error: errorKind(value), ...(code === undefined ? {} : { code }), message: normalizeText(value.message) };
  }
  if (value instanceof http.IncomingMessage) return { IncomingMessage: value.statusCode ?? value.url };
  if (value instanceof http.ClientRequest) return { ClientRequest: `${value.method} ${value.path}` };
  if (value instanceof EventEmitter) return { [value.constructor === EventEmitter ? 'EventEmitter' : kindOf(value)]: true };
  if (isPlain(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = show(inner);
    return out;
  }
  return value;
}

/** 'WebSocket' for either implementation's socket (and subclasses), else the constructor's name. */
function kindOf(value: object): string {
  if ('readyState' in value && 'binaryType' in value) return 'WebSocket';
  if ('clients' in value && 'handleUpgrade' in value) return 'WebSocketServer';
  return value.constructor?.name ?? 'Object';
}

async function resolveBlobs(value: unknown): Promise<unknown> {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Promise.all(value.map(resolveBlobs));
  const blob = (value as { [BLOB]?: Blob })[BLOB];
  if (blob !== undefined) return { Blob: bytesShown(new Uint8Array(await blob.arrayBuffer())), type: blob.type };
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = await resolveBlobs(inner);
  return out;
}

/** Calls `fn` and shows what it returned, or what it threw as { threw }. */
export function attempt(fn: () => unknown): unknown {
  try {
    return { returned: show(fn()) };
  } catch (error) {
    return { threw: show(error) };
  }
}

/** An ordered log of events from several emitters, with their arguments shown. */
export class Recorder {
  readonly log: unknown[][] = [];

  /** Records every one of `events` on `emitter` as [label, event, ...args]. */
  watch(emitter: { on(event: string, listener: (...args: any[]) => void): unknown }, label: string, events: readonly string[]): this {
    for (const event of events) {
      emitter.on(event, (...args: unknown[]) => {
        this.log.push([label, event, ...args.map(show)]);
      });
    }
    return this;
  }

  /**
   * The log split by label: the order within each end, not across ends (which end of one
   * loopback connection sees its socket close first is a race on every implementation).
   */
  byLabel(): Record<string, unknown[][]> {
    const out: Record<string, unknown[][]> = {};
    for (const entry of this.log) (out[String(entry[0])] ??= []).push(entry.slice(1));
    return out;
  }

  /**
   * The log with the arguments of 'close' events left out: for scenarios about a failed
   * connection, whose close code is a listed difference of its own.
   */
  withoutCloseCodes(): unknown[][] {
    return this.log.map((entry) => (entry[1] === 'close' ? entry.slice(0, 2) : entry));
  }

  note(...entry: unknown[]): void {
    this.log.push(entry.map(show));
  }

  /** Waits until an entry matches `label` and `event`; true if one did within `ms`. */
  waitFor(label: string, event: string, ms = WAIT_MS): Promise<boolean> {
    return until(() => this.log.some((entry) => entry[0] === label && entry[1] === event), ms);
  }
}

/** A client's events; not 'unexpected-response', whose mere listener changes what happens. */
export const CLIENT_EVENTS = ['open', 'upgrade', 'message', 'ping', 'pong', 'error', 'close', 'redirect'] as const;
export const SERVER_SIDE_EVENTS = ['message', 'ping', 'pong', 'error', 'close'] as const;

// ------------------------------------------------------------------ a raw server for client scenarios

/** The server end of an upgraded connection, speaking raw frames. */
export class RawServerPeer {
  readonly socket: Duplex;
  readonly request: http.IncomingMessage;
  readonly frames: Array<ParsedFrame<Buffer>> = [];
  ended = false;
  closed = false;
  readonly #stream = new FrameStream();

  constructor(request: http.IncomingMessage, socket: Duplex, head: Buffer) {
    this.request = request;
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('end', () => {
      this.ended = true;
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
    if (head.length > 0) this.#receive(head);
  }

  #receive(chunk: Buffer): void {
    this.frames.push(...this.#stream.push(chunk));
  }

  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The frames received so far as { fin, rsv, opcode, masked, payload } with the payload shown. */
  shownFrames(): unknown[] {
    return this.frames.map((f) => ({ fin: f.fin, rsv: (f.rsv1 ? 4 : 0) | (f.rsv2 ? 2 : 0) | (f.rsv3 ? 1 : 0), opcode: f.opcode, masked: f.masked, payload: show(f.payload) }));
  }
}

export interface RawServer {
  port: number;
  url: string;
  /** Every upgrade request received, in order, with its headers (lowercase names) and URL. */
  requests: http.IncomingMessage[];
  /** Upgraded connections, in order. */
  peers: RawServerPeer[];
}

/** The 101 answer for `request`, with extra header lines. */
export function switchingProtocols(request: http.IncomingMessage, extra: string[] = []): string {
  const key = String(request.headers['sec-websocket-key']);
  return ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptFor(key)}`, ...extra].join('\r\n') + '\r\n\r\n';
}

/**
 * An HTTP server that answers upgrades by hand: `answer` may write anything; by default a valid
 * 101 without extensions or subprotocol. Plain requests go to `onRequest` (404 by default).
 */
export async function rawServer(
  scope: Scope,
  answer?: (request: http.IncomingMessage, socket: Duplex, head: Buffer) => RawServerPeer | null,
  onRequest?: http.RequestListener,
): Promise<RawServer> {
  const sockets = new Set<Duplex>();
  const server = http.createServer(
    onRequest ??
      ((_req, res) => {
        res.statusCode = 404;
        res.end();
      }),
  );
  const state: RawServer = { port: 0, url: '', requests: [], peers: [] };
  server.on('connection', (socket) => sockets.add(socket));
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on('error', () => {});
    state.requests.push(request);
    let peer: RawServerPeer | null;
    if (answer) {
      peer = answer(request, socket, head);
    } else {
      socket.write(switchingProtocols(request));
      peer = new RawServerPeer(request, socket, head);
    }
    if (peer) state.peers.push(peer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `ws://127.0.0.1:${state.port}`;
  scope.defer(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return state;
}

/** The headers of an upgrade request that depend on the implementation's choices (the key is random). */
export function requestHeaders(request: http.IncomingMessage, names: readonly string[]): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const name of names) out[name] = request.headers[name];
  return out;
}
