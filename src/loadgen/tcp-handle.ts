/**
 * A plain-TCP load-generator connection on a bare libuv TCP handle, with no net.Socket. It
 * reaches Node's internal bindings (`process.binding('tcp_wrap')`, `('stream_wrap')`) because
 * net.Socket's constructor, stream state, write path and destroy are most of what a generator
 * connection costs: the generator, not the server, would otherwise limit the handshake and
 * small-message rows. It does what node:net does for the client (bind to a source address,
 * connect, write each buffer with one request, read into one shared buffer, end with a FIN,
 * close, reset) and reports as net would: the same error codes and texts (`connect ECONNREFUSED
 * 127.0.0.1:9`), an end of stream as a close without error, a close always last.
 * `bareTcp` is false where the bindings are missing; the client then uses node:net.
 * Must not: buffer writes before the connection is up (the client writes nothing before it),
 * or frame or parse anything (client.ts and frames.ts do).
 */
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';

/** What the owner of a handle socket is told; one object shared by all sockets of an owner kind. */
export interface HandleEvents<T> {
  connect(owner: T): void;
  /** The first `n` bytes of the shared read buffer; called before the next read reuses it. */
  read(owner: T, n: number): void;
  error(owner: T, error: NodeJS.ErrnoException): void;
  close(owner: T): void;
}

// The internal bindings have no types.
interface Bindings {
  TCP: any;
  SOCKET: number;
  TCPConnectWrap: any;
  WriteWrap: any;
  ShutdownWrap: any;
  state: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

function load(): Bindings | null {
  try {
    const binding = (process as unknown as { binding?: (name: string) => any }).binding;
    if (typeof binding !== 'function') return null;
    const tcp = binding('tcp_wrap');
    const stream = binding('stream_wrap');
    const proto = tcp?.TCP?.prototype;
    const methods = ['bind', 'bind6', 'connect', 'connect6', 'reset', 'useUserBuffer', 'readStart', 'writeBuffer', 'shutdown', 'close'];
    if (proto === undefined || !methods.every((name) => typeof proto[name] === 'function')) return null;
    if (typeof tcp.TCPConnectWrap !== 'function' || typeof stream?.WriteWrap !== 'function' || typeof stream.ShutdownWrap !== 'function') return null;
    return {
      TCP: tcp.TCP,
      SOCKET: tcp.constants.SOCKET,
      TCPConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: stream.WriteWrap,
      ShutdownWrap: stream.ShutdownWrap,
      state: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError,
      kLastWriteWasAsync: stream.kLastWriteWasAsync,
    };
  } catch {
    return null;
  }
}

const B = load();
/** Whether connections can run on bare handles here. */
export const bareTcp = B !== null;
const UV_EOF = -4095;

/** The error node:net would give for a failed `syscall`, with its code and text. */
function failure(status: number, syscall: string, address?: string, port?: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(status);
  const where = address === undefined ? '' : port ? ` ${address}:${port}` : ` ${address}`;
  const error: NodeJS.ErrnoException = new Error(`${syscall} ${code}${where}`);
  error.errno = status;
  error.code = code;
  error.syscall = syscall;
  return error;
}

function written(this: { socket: HandleSocket<unknown> }, status: number): void {
  if (status < 0) this.socket.destroy(failure(status, 'write'));
}

function shut(this: { socket: HandleSocket<unknown> }, status: number): void {
  if (status < 0) this.socket.destroy(failure(status, 'shutdown'));
}

function connected(this: void, status: number, handle: { socket: HandleSocket<unknown>; readStart(): number }): void {
  const socket = handle.socket;
  if (socket.closed) return;
  socket.connecting = false;
  if (status < 0) return socket.destroy(failure(status, 'connect', socket.host, socket.port));
  if (socket.resetOnConnect) return socket.resetAndDestroy();
  handle.readStart();
  socket.events.connect(socket.owner);
}

/** A handle's close callback: `this` is the handle. */
function closed(this: { socket: HandleSocket<unknown> }): void {
  this.socket.events.close(this.socket.owner);
}

function onread(this: { socket: HandleSocket<unknown> }): void {
  const socket = this.socket;
  const n = B!.state[B!.kReadBytesOrError]!;
  if (n > 0) {
    socket.timer?.refresh();
    socket.events.read(socket.owner, n);
  } else if (n === UV_EOF) socket.destroy();
  else if (n < 0) socket.destroy(failure(n, 'read'));
}

function reportError(socket: HandleSocket<unknown>, error: NodeJS.ErrnoException): void {
  socket.events.error(socket.owner, error);
}

/**
 * One connection: the handle, its owner and the owner kind's events. Opened by `connect`; after
 * `destroy` (or `resetAndDestroy`) the owner hears `error` (if any) and then `close` once.
 */
export class HandleSocket<T> {
  readonly handle: any;
  connecting = true;
  closed = false;
  resetOnConnect = false;
  timer: NodeJS.Timeout | null = null;

  constructor(
    readonly owner: T,
    readonly events: HandleEvents<T>,
    readonly host: string,
    readonly port: number,
  ) {
    this.handle = new B!.TCP(B!.SOCKET);
    this.handle.socket = this;
  }

  /** Binds to `localAddress` if given, connects and reads into `buffer`; a failure is reported as net would. */
  static connect<T>(owner: T, events: HandleEvents<T>, host: string, port: number, localAddress: string | undefined, buffer: Buffer): HandleSocket<T> {
    const socket = new HandleSocket(owner, events, host, port);
    const { handle } = socket;
    const v6 = isIP(host) === 6;
    let status = localAddress ? (v6 ? handle.bind6(localAddress, 0, 0) : handle.bind(localAddress, 0)) : 0;
    if (status < 0) {
      socket.destroy(failure(status, 'bind', localAddress));
      return socket;
    }
    handle.setNoDelay(true);
    handle.onread = onread;
    handle.useUserBuffer(buffer);
    const request = new B!.TCPConnectWrap();
    request.oncomplete = connected;
    request.address = host;
    request.port = port;
    status = v6 ? handle.connect6(request, host, port) : handle.connect(request, host, port);
    if (status < 0) socket.destroy(failure(status, 'connect', host, port));
    return socket;
  }

  write(data: Uint8Array): boolean {
    if (this.closed) return false;
    const request = new B!.WriteWrap();
    request.handle = this.handle;
    request.socket = this;
    request.oncomplete = written;
    request.async = false;
    const status = this.handle.writeBuffer(request, data);
    if (status < 0) {
      this.destroy(failure(status, 'write'));
      return false;
    }
    if (B!.state[B!.kLastWriteWasAsync] !== 0) {
      request.async = true;
      request.buffer = data;
    }
    return true;
  }

  /** Writes `data`, then a FIN. */
  end(data: Uint8Array): void {
    if (!this.write(data)) return;
    const request = new B!.ShutdownWrap();
    request.handle = this.handle;
    request.socket = this;
    request.oncomplete = shut;
    const status = this.handle.shutdown(request);
    if (status < 0) this.destroy(failure(status, 'shutdown'));
  }

  /** Destroys after `ms` without reads. */
  setTimeout(ms: number, then: () => void): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(then, ms).unref();
  }

  destroy(error?: NodeJS.ErrnoException): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.handle.close(closed);
    // As net: the error on the next tick, the close after it (close callbacks run later).
    if (error !== undefined) process.nextTick(reportError, this, error);
  }

  /** Closes with a reset (RST) instead of a FIN; while connecting, once connected. */
  resetAndDestroy(): void {
    if (this.closed) return;
    if (this.connecting) {
      this.resetOnConnect = true;
      return;
    }
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const status = this.handle.reset(closed);
    if (status < 0) {
      this.handle.close(closed);
      process.nextTick(reportError, this, failure(status, 'reset'));
    }
  }
}
