/**
 * Direct writes: a connection's own frames, written straight to the libuv stream handle of a
 * plain TCP socket when nothing waits ahead of them, without Writable.write,
 * Socket._writeGeneric and the request object Node makes for every write. libuv first tries the
 * write at once (uv_try_write); what the kernel did not take waits in libuv's queue of that
 * handle, and any write made after it, by the stream path as well, queues behind it there.
 * Everything else (TLS, HTTP/2 streams, user Duplexes, a socket with a timeout or corked by its
 * user, a write that needs a callback) keeps Node's stream path; so does any socket when the handle's interface is
 * not the one this file expects (checked once).
 * Must not: write while the Writable buffer or libuv's queue holds anything (order), or leave an
 * error unreported: a failed write destroys the socket with the error Node's write would give.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { getSystemErrorName } from 'node:util';

/** The libuv stream handle of a net.Socket (a TCP wrap), as far as a write needs it. */
interface StreamHandle {
  writeBuffer(req: WriteRequest, data: Uint8Array): number;
  writev(req: WriteRequest, chunks: Uint8Array[], allBuffers: boolean): number;
  readonly writeQueueSize: number;
}

/** A net.Socket with the handle Node keeps on it (null once destroyed). */
type HandledSocket = Duplex & { _handle: StreamHandle | null; timeout?: number };

/**
 * Told when libuv queues a direct write (at most one at a time: later writes wait behind it),
 * and when that write ends: `ok` false when it failed (the socket is destroyed) or the socket
 * was destroyed meanwhile.
 */
export interface DirectWriter {
  directWriteQueued(): void;
  directWriteDone(ok: boolean): void;
  /**
   * A direct write of the high-water mark or more that the kernel took at once (where Node's
   * write would return false and emit 'drain'), once this turn of the event loop is done, the
   * socket still open.
   */
  directWriteDrained?(): void;
}

/** The request object of one write (Node's WriteWrap); libuv keeps it while the write waits. */
interface WriteRequest {
  oncomplete: ((this: WriteRequest, status: number) => void) | null;
  /** Kept alive while libuv still reads from it. */
  data: Uint8Array | Uint8Array[] | null;
  socket: HandledSocket | null;
  writer: DirectWriter | null;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteRequest;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

const binding = loadBinding();

function loadBinding(): StreamWrapBinding | null {
  // process.binding() warns (DEP0111) under --pending-deprecation: those processes keep the stream path.
  const flags = `${process.execArgv.join(' ')} ${process.env['NODE_OPTIONS'] ?? ''}`;
  if (flags.includes('--pending-deprecation') || process.env['NODE_PENDING_DEPRECATION'] === '1') return null;
  try {
    const found = (process as unknown as { binding(name: string): Partial<StreamWrapBinding> }).binding('stream_wrap');
    const { WriteWrap, streamBaseState, kLastWriteWasAsync } = found;
    if (typeof WriteWrap !== 'function' || !(streamBaseState instanceof Int32Array) || typeof kLastWriteWasAsync !== 'number') return null;
    return { WriteWrap, streamBaseState, kLastWriteWasAsync };
  } catch {
    return null;
  }
}

/** Writes of this many bytes or more take the stream path (see writeDirect). */
const LARGE_WRITE = 64 * 1024;

/**
 * A request for the next write. A write that completes at once leaves it untouched (libuv binds
 * a request only to a write it queues), so one serves every such write; a queued write keeps it
 * and a new one takes its place.
 */
let spare: WriteRequest | null = binding === null ? null : new binding.WriteWrap();

/**
 * Can `socket` take direct writes at all? Asked once per connection: a net.Socket (no TLS, no
 * other Duplex) whose writes are Node's own and whose handle has the expected interface.
 */
export function writesDirectly(socket: Duplex): boolean {
  if (binding === null || !(socket instanceof net.Socket) || (socket as { encrypted?: boolean }).encrypted === true) return false;
  const proto = net.Socket.prototype as unknown as Record<string, unknown>;
  const own = socket as unknown as Record<string, unknown>;
  if (own['_write'] !== proto['_write'] || own['_writev'] !== proto['_writev'] || own['write'] !== proto['write']) return false;
  const handle = (socket as unknown as HandledSocket)._handle;
  return handle != null && typeof handle.writeBuffer === 'function' && typeof handle.writev === 'function' && typeof handle.writeQueueSize === 'number';
}

/**
 * Writes `data` (one buffer, or several in order) to `socket` directly when nothing waits ahead
 * of it, and returns the bytes libuv queued (0 when the kernel took them all); returns -1,
 * having written nothing, when the caller must use the stream path. `socket` passed
 * writesDirectly(). Writes of the high-water mark or more go direct too (a 16 KiB echo is one):
 * where Node's write would return false, 'drain' follows as it would, once libuv's queued write
 * is done (directWriteDone) or, when the kernel took it all, after this turn (directWriteDrained).
 * Writes of LARGE_WRITE or more take the stream path: Node counts a chunk whole until it is all
 * written, where libuv's queue counts what the kernel has not taken yet, so a large write the
 * kernel took most of would look nearly drained to the send policies (and what they drop).
 */
export function writeDirect(socket: Duplex, data: Uint8Array | Uint8Array[], writer: DirectWriter): number {
  const handle = (socket as HandledSocket)._handle;
  if (handle === null || socket.writableLength !== 0 || handle.writeQueueSize !== 0 || socket.writableCorked !== 0) return -1;
  if (!socket.writable || (socket as HandledSocket).timeout) return -1;
  const bytes = byteLength(data);
  if (bytes >= LARGE_WRITE) return -1;
  const req = spare!;
  const status = Array.isArray(data) ? handle.writev(req, data, true) : handle.writeBuffer(req, data);
  if (status < 0) {
    // As Node's write does: the socket is destroyed with the errno error of the write.
    socket.destroy(errnoError(status, 'write'));
    return 0;
  }
  if (binding!.streamBaseState[binding!.kLastWriteWasAsync] === 0) {
    if (writer.directWriteDrained !== undefined && !drainsDue.has(writer) && bytes >= socket.writableHighWaterMark) {
      drainsDue.add(writer);
      setImmediate(drainedAtOnce, socket, writer);
    }
    return 0;
  }
  // libuv queued the rest: this request stays with the write until it is done.
  spare = new binding!.WriteWrap();
  req.oncomplete = onQueuedWriteDone;
  req.data = data;
  req.socket = socket as HandledSocket;
  req.writer = writer;
  writer.directWriteQueued();
  return handle.writeQueueSize;
}

/** The bytes of one buffer, or of several. */
export function byteLength(data: Uint8Array | Uint8Array[]): number {
  if (!Array.isArray(data)) return data.length;
  let total = 0;
  for (let i = 0; i < data.length; i++) total += data[i]!.length;
  return total;
}

/**
 * Bytes in libuv's queue of a socket that takes direct writes, not yet handed to the kernel.
 * What the stream path wrote is also counted in the socket's writableLength until done.
 */
export function queuedInHandle(socket: Duplex): number {
  const handle = (socket as HandledSocket)._handle;
  return handle === null ? 0 : handle.writeQueueSize;
}

/**
 * Writers owed a 'drain': one however many large writes they made in this turn of the event
 * loop. It comes once the turn's ticks ran (setImmediate), so the writes those ticks were due to
 * make (the write scheduler's, the end of the input being handled) are out before it, as Node's
 * 'drain' waits for everything written.
 */
const drainsDue = new Set<DirectWriter>();

/** After a large write the kernel took at once: 'drain' (not twice, not once destroyed). */
function drainedAtOnce(socket: Duplex, writer: DirectWriter): void {
  drainsDue.delete(writer);
  if (!socket.destroyed && !socket.writableNeedDrain) writer.directWriteDrained!();
}

function onQueuedWriteDone(this: WriteRequest, status: number): void {
  const socket = this.socket!;
  const writer = this.writer!;
  this.data = null;
  this.socket = null;
  this.writer = null;
  const ok = status >= 0 && !socket.destroyed;
  writer.directWriteDone(ok);
  if (status < 0 && !socket.destroyed) socket.destroy(errnoError(status, 'write'));
}

/** The error Node's net gives for a negative libuv status of `syscall` (errnoException: `write EPIPE`). */
export function errnoError(status: number, syscall: string): NodeJS.ErrnoException {
  const code = getSystemErrorName(status);
  return Object.assign(new Error(`${syscall} ${code}`), { errno: status, code, syscall });
}
