/**
 * A connection of the server's own HTTP server (the `port` option) kept as the bare libuv TCP
 * handle Node accepted, with no net.Socket: its first bytes are read here (upgrade/
 * direct-accept.ts decides what they are) and, after the 101, the Link reads and writes it
 * through the few members of a socket it uses (write with callbacks, cork, end, pause, resume,
 * destroy, writableLength, 'drain' through `socketDrained`). `materialize()` makes a real
 * net.Socket over the same handle, at any point, the way Node's own `onconnection` makes one
 * (the server's books move to it): whatever hands a socket out to users calls it, and the
 * connection then runs exactly as any net.Socket one.
 * It reaches Node's internal bindings (handle-bindings.ts, where they are checked, with the read
 * area reads land in after the upgrade) and net.Server's `_connections` / `_emitCloseIfDrained`.
 * Must not: parse anything, hold bytes it read (they go to their reader at once), or reorder
 * bytes: writes go to libuv in call order, and a net.Socket made later writes behind them.
 */
import net from 'node:net';
import type { SocketHandlers } from './internal.js';
import { byteLength, errnoError as failure } from './socket-write.js';
import { copyReadsOut, handleBindings, lendReads } from './handle-bindings.js';

export { handleBindings };

/** Set on a request read on a bare handle: it came over plain TCP (no TLS), said without making its socket. */
export const PLAIN_TCP = Symbol('plainTcp');
const B = handleBindings!;
const UV_EOF = -4095;
const HIGH_WATER_MARK = 16 * 1024;
/** The request of the next write (see #write). */
let spareRequest = handleBindings === null ? null : new B.WriteWrap();

/** net.Server's books, as Node's own connections keep them. */
type ServerBooks = net.Server & { _connections: number; _emitCloseIfDrained?: () => void };

/**
 * Who hears of the first read, before the upgrade: the bytes, null for an end of stream, false
 * when the connection failed before any byte (it is closed, silently, as during a handshake).
 */
export type FirstRead = (transport: HandleTransport, chunk: Buffer | null | false) => void;

/** A connection the transport serves after the upgrade: it moves to the net.Socket when one is made. */
export interface TransportUser extends SocketHandlers {
  /** A net.Socket was made over the handle; `queuedWrites` of the transport's writes are still in libuv's queue. */
  socketMade(socket: net.Socket, queuedWrites: number): void;
  /** The writes queued before the net.Socket was made are done (`ok`: written, socket alive). */
  directWriteDone(ok: boolean): void;
}

type WriteCallback = (error?: Error | null) => void;

/** The handle's read callback: `this` is the handle. */
function onRead(this: { transport: HandleTransport }, arrayBuffer: ArrayBuffer): void {
  const n = B.state[B.kReadBytesOrError]!;
  const transport = this.transport;
  if (n > 0) {
    if (arrayBuffer !== undefined) transport.read(Buffer.from(arrayBuffer, B.state[B.kArrayBufferOffset]!, n), false);
    // No buffer: the read landed in the read area, lent for this call.
    else transport.read(B.readArea!.subarray(0, n), true);
  } else if (n === UV_EOF) transport.readEnded();
  else if (n < 0) transport.destroy(failure(n, 'read'));
}

/** A queued write finished: `this` is its request. */
function afterWrite(this: { transport: HandleTransport; callbacks: WriteCallback[] | null; data: unknown; bytes: number }, status: number): void {
  this.data = null;
  this.transport.writeDone(status, this.callbacks, this.bytes);
}

// The callbacks of a shutdown request, of the handle's close, and of a write done at once.
type Owned = { transport: HandleTransport };
const afterShutdown = function (this: Owned, status: number): void { this.transport.shutdownDone(status); };
const onClosed = function (this: Owned): void { this.transport.handleClosed(); };
const writtenAtOnce = (transport: HandleTransport, callbacks: WriteCallback[] | null): void => transport.writtenAtOnce(callbacks);

function callAll(callbacks: WriteCallback[], error: Error | null): void {
  for (const cb of callbacks) cb(error);
}

/** A plain TCP connection on its libuv handle; see the file's header. */
export class HandleTransport {
  /** Connections on their bare handle now (neither closed nor on a net.Socket): a seam for tests and diagnostics. */
  static onHandle = 0;
  readonly handle: any;
  readonly server: ServerBooks;
  readonly writableHighWaterMark = HIGH_WATER_MARK;
  /** Before the upgrade: who gets the first read. After it: the Link. */
  #first: FirstRead | null;
  #connection: TransportUser | null = null;
  /** The net.Socket made over the handle; everything goes through it from then on. */
  #socket: net.Socket | null = null;
  /** Writes libuv queued and has not finished. */
  #queued = 0;
  #pendingBytes = 0;
  #lastRequest: { callbacks: WriteCallback[] | null } | null = null;
  /** Writes gathered by cork(), written as one at uncork(). */
  #corked: Uint8Array[] | null = null;
  #corkedCallbacks: WriteCallback[] | null = null;
  #paused = false;
  #readEnded = false;
  #ending = false;
  #finished = false;
  #closed = false;
  #needDrain = false;
  #wrote = false;
  /** Bytes read past the 101 answer, for the Link once it reads. */
  #head: Buffer | null = null;

  constructor(handle: any, server: net.Server, first: FirstRead) {
    this.handle = handle;
    this.server = server as ServerBooks;
    this.#first = first;
    handle.transport = this;
    handle.onread = onRead;
    handle.setNoDelay(true);
    HandleTransport.onHandle++;
    this.#readStart();
  }

  // Once the net.Socket is made (before the upgrade was answered), these are the socket's.
  get writable(): boolean {
    return this.#socket?.writable ?? (!this.#ending && !this.#closed);
  }

  get readable(): boolean {
    return this.#socket?.readable ?? (!this.#readEnded && !this.#closed);
  }

  get destroyed(): boolean {
    return this.#socket?.destroyed ?? this.#closed;
  }

  /** As a net.Socket's: the whole of every write libuv queued, until it is done. */
  get writableLength(): number {
    return this.#closed ? 0 : this.#pendingBytes;
  }

  get writableNeedDrain(): boolean {
    return this.#needDrain;
  }

  get bytesWritten(): number {
    return this.#wrote ? 1 : 0;
  }

  /** Whether a net.Socket was made over the handle. */
  get materialized(): boolean {
    return this.#socket !== null;
  }

  /** Whether the upgrade was accepted and a connection reads and writes here. */
  get attached(): boolean {
    return this.#connection !== null;
  }

  #readStart(): void {
    if (this.#closed || this.#readEnded || this.handle.reading === true) return;
    this.handle.reading = true;
    const status = this.handle.readStart();
    if (status < 0) this.destroy(failure(status, 'read'));
  }

  #readStop(): void {
    if (this.#closed || this.handle.reading !== true) return;
    this.handle.reading = false;
    this.handle.readStop();
  }

  read(chunk: Buffer, lent: boolean): void {
    const first = this.#first;
    if (first !== null) {
      this.#first = null;
      this.#readStop();
      first(this, chunk);
    } else this.#connection?.receive(chunk, lent);
  }

  readEnded(): void {
    this.#readEnded = true;
    this.handle.reading = false;
    const first = this.#first;
    if (first !== null) {
      this.#first = null;
      first(this, null);
      return;
    }
    // As a half-open net.Socket: 'end', and closed once our side has finished as well.
    this.#connection?.socketEnded();
    if (this.#finished) this.destroy();
  }

  /**
   * The upgrade succeeded: `connection` reads and writes from now on, starting with `head` (the
   * bytes that came after the request head), on the next tick, as a net.Socket's 'data' would.
   */
  attach(head: Buffer, connection: TransportUser): void {
    this.#connection = connection;
    const socket = this.#socket;
    if (socket !== null) {
      if (head.length > 0) socket.unshift(head);
      connection.socketMade(socket, this.#queued);
      return;
    }
    if (head.length > 0) {
      this.#head = head;
      process.nextTick(() => this.#deliverHead());
    }
    lendReads(this.handle);
    if (!this.#paused) this.#readStart();
  }

  #deliverHead(): void {
    const head = this.#head;
    if (head === null || this.#paused || this.#closed || this.#socket !== null) return;
    this.#head = null;
    this.#connection!.receive(head);
  }

  pause(): void {
    this.#paused = true;
    this.#readStop();
  }

  resume(): void {
    this.#paused = false;
    if (this.#connection === null) return;
    if (this.#head !== null) process.nextTick(() => this.#deliverHead());
    this.#readStart();
  }

  cork(): void {
    this.#corked ??= [];
  }

  uncork(): void {
    const chunks = this.#corked;
    const callbacks = this.#corkedCallbacks;
    this.#corked = null;
    this.#corkedCallbacks = null;
    if (chunks !== null && (chunks.length > 0 || callbacks !== null)) this.#write(chunks.length === 1 ? chunks[0]! : chunks, callbacks);
  }

  /** Writes `data` (a string as latin1); true while below the high-water mark, as a socket's write. */
  write(data: Uint8Array | string, encodingOrCb?: string | WriteCallback, cb?: WriteCallback): boolean {
    const callback = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
    if (this.#socket !== null) return this.#socket.write(data, callback);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const corked = this.#corked;
    if (corked !== null) {
      if (bytes.length > 0) corked.push(bytes);
      if (callback) (this.#corkedCallbacks ??= []).push(callback);
      return true;
    }
    return this.#write(bytes, callback ? [callback] : null);
  }

  #write(data: Uint8Array | Uint8Array[], callbacks: WriteCallback[] | null): boolean {
    if (this.#ending || this.#closed) {
      const error = Object.assign(new Error(this.#closed ? 'Cannot call write after a stream was destroyed' : 'write after end'), {
        code: this.#closed ? 'ERR_STREAM_DESTROYED' : 'ERR_STREAM_WRITE_AFTER_END',
      });
      if (callbacks !== null) process.nextTick(callAll, callbacks, error);
      return false;
    }
    const empty = Array.isArray(data) ? data.length === 0 : data.length === 0;
    if (empty) {
      // Nothing to write: the callbacks run once what was written before has left.
      const last = this.#lastRequest;
      if (callbacks !== null) {
        if (last !== null) (last.callbacks ??= []).push(...callbacks);
        else process.nextTick(callAll, callbacks, null);
      }
      return this.writableLength < HIGH_WATER_MARK;
    }
    this.#wrote = true;
    // As a Writable: a write that brings the buffer to the high-water mark is answered with
    // false, and 'drain' follows once it is out, even when the kernel took it all at once.
    const below = this.writableLength + byteLength(data) < HIGH_WATER_MARK;
    if (!below) this.#needDrain = true;
    // libuv keeps a request only for a write it queues: a new one is made only after such a write.
    const request = spareRequest;
    const status = Array.isArray(data) ? this.handle.writev(request, data, true) : this.handle.writeBuffer(request, data);
    if (status < 0) {
      const error = failure(status, 'write');
      this.destroy(error);
      if (callbacks !== null) process.nextTick(callAll, callbacks, error);
      return false;
    }
    if (B.state[B.kLastWriteWasAsync] !== 0) {
      spareRequest = new B.WriteWrap();
      request.handle = this.handle;
      request.transport = this;
      request.oncomplete = afterWrite;
      request.callbacks = callbacks;
      request.async = true;
      request.data = data;
      request.bytes = byteLength(data);
      this.#pendingBytes += request.bytes;
      this.#queued++;
      this.#lastRequest = request;
    } else if (callbacks !== null || (!below && this.#queued === 0)) process.nextTick(writtenAtOnce, this, callbacks);
    return below;
  }

  /** A write the kernel took at once: its callbacks, and 'drain' if it was due, on the next tick. */
  writtenAtOnce(callbacks: WriteCallback[] | null): void {
    if (callbacks !== null) callAll(callbacks, null);
    this.#drainIfDue();
  }

  #drainIfDue(): void {
    if (this.#needDrain && this.#queued === 0 && !this.#closed && this.#socket === null) {
      this.#needDrain = false;
      this.#connection?.socketDrained();
    }
  }

  writeDone(status: number, callbacks: WriteCallback[] | null, bytes: number): void {
    this.#queued--;
    this.#pendingBytes -= bytes;
    if (this.#queued === 0) this.#lastRequest = null;
    const error = status < 0 ? failure(status, 'write') : null;
    const socket = this.#socket;
    if (socket !== null) {
      // Written before the net.Socket was made: the Link counts them in libuv's queue.
      if (error !== null && !socket.destroyed) socket.destroy(error);
      if (callbacks !== null) callAll(callbacks, error);
      if (this.#queued === 0) this.#connection?.directWriteDone(error === null && !socket.destroyed);
      return;
    }
    if (error !== null) this.destroy(error);
    if (callbacks !== null) callAll(callbacks, error);
    if (error === null) this.#drainIfDue();
  }

  /** Ends our side (a FIN) once what was written has left. */
  end(): void {
    if (this.#corked !== null) this.uncork();
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    const request = new B.ShutdownWrap();
    request.handle = this.handle;
    request.transport = this;
    request.oncomplete = afterShutdown;
    const status = this.handle.shutdown(request);
    if (status < 0) this.destroy(failure(status, 'shutdown'));
  }

  shutdownDone(status: number): void {
    this.#finished = true;
    const socket = this.#socket;
    if (socket !== null) {
      // Made with neither side open: nothing else would close it.
      if (this.#readEnded) socket.destroy();
      return;
    }
    if (status < 0 && status !== UV_EOF) this.destroy();
    else if (this.#readEnded) this.destroy();
  }

  /** Closes the handle (as net.Socket's destroy); an error is reported first, on the next tick. */
  destroy(error?: Error): void {
    const socket = this.#socket;
    if (socket !== null) {
      socket.destroy(error);
      return;
    }
    if (this.#closed) return;
    this.#closed = true;
    HandleTransport.onHandle--;
    const first = this.#first;
    this.#first = null;
    if (first !== null) first(this, false);
    this.handle.reading = false;
    this.handle.close(onClosed);
    const server = this.server;
    server._connections--;
    server._emitCloseIfDrained?.();
    if (error !== undefined && this.#connection !== null) process.nextTick(() => this.#connection!.socketErrored());
  }

  handleClosed(): void {
    this.#connection?.socketClosed();
  }

  /**
   * The net.Socket over this handle, made now if it was not (as Node's onconnection makes it:
   * the server's, counted in its connections), and the connection moves to it. A closed
   * transport gives a destroyed socket.
   */
  materialize(): net.Socket {
    if (this.#socket !== null) return this.#socket;
    if (this.#corked !== null) this.uncork();
    if (this.#closed) {
      const dead = new net.Socket();
      dead.destroy();
      this.#socket = dead;
      return dead;
    }
    const handle = this.handle;
    this.#first = null;
    handle.reading = false;
    handle.readStop();
    const socket = new net.Socket({
      handle,
      allowHalfOpen: true,
      readable: !this.#readEnded,
      writable: !this.#ending,
    } as net.SocketConstructorOpts);
    // Attached while on the handle: its reads were lent (attach).
    if (this.#connection !== null) copyReadsOut(handle);
    // Paused as Link pauses a net.Socket: the stream, while the handle reads up to the high-water mark.
    if (this.#paused) socket.pause();
    this.#socket = socket;
    HandleTransport.onHandle--;
    (socket as net.Socket & { server: net.Server; _server: net.Server }).server = this.server;
    (socket as net.Socket & { _server: net.Server })._server = this.server;
    if (this.#head !== null) {
      socket.unshift(this.#head);
      this.#head = null;
    }
    this.#connection?.socketMade(socket, this.#queued);
    return socket;
  }
}
