/**
 * A zlib stream driven synchronously and kept between calls: what permessage-deflate with
 * context takeover needs, and what node:zlib's public API lacks (its synchronous functions are
 * one-shot, its streams asynchronous). It drives the native handle under a node:zlib stream
 * the way node:zlib's own synchronous functions do, and checks at first use that this works on
 * the running Node; where it does not, `syncZlibAvailable()` is false and callers fall back to
 * one-shot calls.
 * Must not: hold input or output between calls, or let a zlib error escape as anything but a
 * thrown ZlibSyncError.
 */
import zlib from 'node:zlib';

const SYNC_FLUSH = zlib.constants.Z_SYNC_FLUSH;
/**
 * zlib writes into this scratch buffer, shared by every stream (calls are synchronous), and
 * each call's output is copied out at its exact size: small messages then come from Node's
 * buffer pool instead of a fresh 64 KiB allocation each.
 */
const OUT_CHUNK = 64 * 1024;
const scratch = Buffer.allocUnsafe(OUT_CHUNK);

interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  close(): void;
  onerror: (message: string, errno: number, code: string) => void;
}

type NodeZlibStream = zlib.DeflateRaw & { _handle?: NativeHandle; _writeState?: Uint32Array };

export class ZlibSyncError extends Error {
  /** 'too-large' when the output passed the limit, otherwise zlib's failure. */
  readonly reason: 'too-large' | 'zlib';
  /** zlib's own code and errno for its failure ('Z_DATA_ERROR', -3), as node:zlib reports them. */
  readonly code: string | undefined;
  readonly errno: number | undefined;
  constructor(reason: 'too-large' | 'zlib', message: string, code?: string, errno?: number) {
    super(message);
    this.reason = reason;
    this.code = code;
    this.errno = errno;
  }
}

export class SyncZlib {
  readonly #stream: NodeZlibStream;
  readonly #handle: NativeHandle;
  readonly #state: Uint32Array;
  #error: { message: string; errno: number; code: string } | null = null;
  #closed = false;

  private constructor(stream: NodeZlibStream) {
    this.#stream = stream;
    this.#handle = stream._handle!;
    this.#state = stream._writeState!;
    // Errors are reported through this callback while writeSync runs.
    this.#handle.onerror = (message: string, errno: number, code: string) => {
      this.#error = { message, errno, code };
    };
  }

  static deflate(options: zlib.ZlibOptions): SyncZlib {
    return new SyncZlib(zlib.createDeflateRaw(options) as NodeZlibStream);
  }

  static inflate(options: zlib.ZlibOptions): SyncZlib {
    return new SyncZlib(zlib.createInflateRaw(options) as NodeZlibStream);
  }

  /**
   * Feeds `input` with a sync flush and returns all output. Throws ZlibSyncError('too-large')
   * as soon as the output passes `maxOutput` (0: no limit), before more is produced, and
   * ZlibSyncError('zlib') on corrupt input; either way the stream is closed.
   */
  process(input: Uint8Array, maxOutput = 0, extra?: Uint8Array): Buffer {
    if (this.#closed) throw new ZlibSyncError('zlib', 'the zlib stream is closed');
    const chunks: Buffer[] = [];
    let total = 0;
    for (let part = 0; part < (extra ? 2 : 1); part++) {
      const data = part === 0 ? input : extra!;
      let inOff = 0;
      let inLen = data.length;
      for (;;) {
        this.#handle.writeSync(SYNC_FLUSH, data, inOff, inLen, scratch, 0, OUT_CHUNK);
        if (this.#error !== null) {
          const { message, errno, code } = this.#error;
          this.close();
          throw new ZlibSyncError('zlib', message, code, errno);
        }
        const availOut = this.#state[0]!;
        const availIn = this.#state[1]!;
        const have = OUT_CHUNK - availOut;
        if (have > 0) {
          total += have;
          if (maxOutput > 0 && total > maxOutput) {
            this.close();
            throw new ZlibSyncError('too-large', `output larger than ${maxOutput} bytes`);
          }
          const out = Buffer.allocUnsafe(have);
          scratch.copy(out, 0, 0, have);
          chunks.push(out);
        }
        inOff += inLen - availIn;
        inLen = availIn;
        if (availOut !== 0) break;
      }
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  }

  /** Forgets the stream's history (no context takeover) without freeing its memory. */
  reset(): void {
    this.#handle.reset();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.close();
  }
}

let available: boolean | undefined;

/** Makes syncZlibAvailable() answer `value` (undefined: check again), to exercise the fallback. */
export function overrideSyncZlibAvailable(value: boolean | undefined): void {
  available = value;
}

/** Does driving zlib streams synchronously work on this Node? Checked once, by a round trip. */
export function syncZlibAvailable(): boolean {
  if (available !== undefined) return available;
  try {
    const sample = Buffer.from('fullduplex '.repeat(64));
    const deflater = SyncZlib.deflate({ windowBits: 15 });
    const inflater = SyncZlib.inflate({ windowBits: 15 });
    const first = deflater.process(sample);
    const second = deflater.process(sample); // refers back into the first message
    const ok =
      inflater.process(first).equals(sample) &&
      inflater.process(second).equals(sample) &&
      second.length < first.length &&
      zlib.inflateRawSync(Buffer.concat([first, second]), { finishFlush: SYNC_FLUSH }).equals(Buffer.concat([sample, sample]));
    deflater.close();
    inflater.close();
    available = ok;
  } catch {
    available = false;
  }
  return available;
}
