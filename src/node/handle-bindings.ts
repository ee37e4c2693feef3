/**
 * What the handle transport (handle-transport.ts) takes from Node's internals: the stream
 * bindings (`process.binding('stream_wrap')`: WriteWrap, ShutdownWrap, the shared stream state)
 * and the TCP handle's methods, checked for the expected shape; and the read area it lends its
 * handles' reads to.
 * Reads of a connection past its upgrade land in one 64 KiB area shared by every such handle
 * (the WebAssembly memory of bytes/apply-mask-fast.ts, through the handle's `useUserBuffer`, as
 * net.Socket's `onread` option does): each read is used up before the next one happens, so
 * nothing is allocated per read and the payloads are unmasked where they landed, then copied
 * once into the message (the protocol core copies a short read of small messages out whole
 * instead: see Connection#receiveData). A net.Socket made later over such a handle gets each read copied out
 * into a buffer of its own, as it expects.
 * Must not: lend the area to anything that keeps it past the read (the frame reader settles what
 * it holds before the read returns), or load anything where the shape is not the expected one
 * (`handleBindings` is then null, or under --pending-deprecation, and connections are net.Sockets).
 */
import { sharedReadArea } from './bytes/apply-mask-fast.js';

/** Off: every connection is a net.Socket from the start (the path before the handle transport). */
const ENABLED = true;
/** Off: every read of a bare handle gets a buffer of its own, as Node allocates it. */
const LEND_READS = true;

export interface Bindings {
  WriteWrap: new () => any;
  ShutdownWrap: new () => any;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
  /** The read area handles read into after the upgrade; null where it cannot be had. */
  readArea: Buffer | null;
}

function load(): Bindings | null {
  const flags = `${process.execArgv.join(' ')} ${process.env['NODE_OPTIONS'] ?? ''}`;
  if (!ENABLED || flags.includes('--pending-deprecation') || process.env['NODE_PENDING_DEPRECATION'] === '1') return null;
  try {
    const stream = (process as unknown as { binding(name: string): any }).binding('stream_wrap');
    const tcp = (process as unknown as { binding(name: string): any }).binding('tcp_wrap');
    const proto = tcp?.TCP?.prototype;
    const methods = ['readStart', 'readStop', 'writeBuffer', 'writev', 'writeLatin1String', 'shutdown', 'close', 'setNoDelay'];
    if (proto === undefined || !methods.every((name) => typeof proto[name] === 'function')) return null;
    const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync } = stream;
    if (typeof WriteWrap !== 'function' || typeof ShutdownWrap !== 'function' || !(streamBaseState instanceof Int32Array)) return null;
    if (![kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync].every((k) => typeof k === 'number')) return null;
    const readArea = LEND_READS && typeof proto.useUserBuffer === 'function' ? sharedReadArea() : null;
    return { WriteWrap, ShutdownWrap, state: streamBaseState, kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync, readArea };
  } catch {
    return null;
  }
}

export const handleBindings: Bindings | null = load();

/** Makes the handle's reads land in the read area, where there is one. */
export function lendReads(handle: any): void {
  const area = handleBindings!.readArea;
  if (area !== null) handle.useUserBuffer(area);
}

/**
 * A net.Socket was made over a handle given to lendReads: its read callback (set by the socket)
 * gets each read as a buffer of its own, copied out of the area.
 */
export function copyReadsOut(handle: any): void {
  const B = handleBindings!;
  const area = B.readArea;
  if (area === null) return;
  const socketRead = handle.onread as (this: unknown, arrayBuffer?: ArrayBuffer) => unknown;
  handle.onread = function (this: unknown, arrayBuffer?: ArrayBuffer): unknown {
    const n = B.state[B.kReadBytesOrError]!;
    if (arrayBuffer === undefined && n > 0) {
      arrayBuffer = new ArrayBuffer(n);
      new Uint8Array(arrayBuffer).set(area.subarray(0, n));
      B.state[B.kArrayBufferOffset] = 0;
    }
    return socketRead.call(this, arrayBuffer);
  };
}
