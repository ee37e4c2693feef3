/**
 * permessage-deflate compression (RFC 7692 §7.2) over node:zlib, as the core's MessageCodec.
 *
 * zlib streams are driven synchronously (./zlib-sync.ts: one call compresses or inflates a
 * whole message, so zlib work never interleaves and needs no thread pool). Where a direction keeps its context
 * (context takeover), the connection holds a zlib stream while it is active; a heartbeat period
 * without traffic releases it. The sending side then simply starts afresh (a sender never has
 * to refer back); the receiving side keeps the last 2^windowBits bytes it inflated and hands
 * them to the next stream as a preset dictionary, which is exactly what the peer's window
 * holds. Directions without context takeover use one stream per process and parameter set,
 * reset after every message, so they cost a connection nothing. The inflated size is bounded by
 * zlib's maxOutputLength while inflating (a bomb fails with 1009 before its memory is spent).
 * Must not: decide negotiation (protocol/permessage-deflate.ts does), or touch sockets.
 */
import zlib from 'node:zlib';
import { SyncZlib, ZlibSyncError, syncZlibAvailable } from './zlib-sync.js';
import type { MessageCodec } from '../../protocol/codec.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { DeflateParams } from '../../protocol/permessage-deflate.js';
import { traffic } from '../diagnostics.js';
import { DEFLATE_DEFAULTS, type PerMessageDeflateOptions } from '../options.js';

const SYNC = zlib.constants.Z_SYNC_FLUSH;
const DEFAULT_LEVEL = DEFLATE_DEFAULTS.level;
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const EMPTY_BLOCK = Buffer.from([0x00]);

/**
 * Keeps the last `capacity` bytes written to it: the LZ77 window of one direction. A ring, so
 * keeping a message costs a copy of that message only; the window is put in order when read.
 */
class WindowTail {
  readonly #capacity: number;
  #buffer: Buffer | null = null;
  /** Where the oldest byte is. */
  #start = 0;
  #length = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The window, oldest byte first (a view, valid until the next push). */
  get bytes(): Buffer | undefined {
    if (this.#length === 0) return undefined;
    const buffer = this.#buffer!;
    const start = this.#start;
    if (start + this.#length <= this.#capacity) return buffer.subarray(start, start + this.#length);
    const ordered = Buffer.allocUnsafe(this.#capacity);
    buffer.copy(ordered, 0, start);
    buffer.copy(ordered, this.#capacity - start, 0, start);
    this.#buffer = ordered;
    this.#start = 0;
    return ordered;
  }

  push(data: Uint8Array): void {
    const cap = this.#capacity;
    const n = data.length;
    if (n === 0) return;
    const buffer = (this.#buffer ??= Buffer.allocUnsafe(cap));
    if (n >= cap) {
      buffer.set(data.subarray(n - cap));
      this.#start = 0;
      this.#length = cap;
      return;
    }
    const end = (this.#start + this.#length) % cap;
    const first = Math.min(n, cap - end);
    buffer.set(data.subarray(0, first), end);
    if (first < n) buffer.set(data.subarray(first), 0);
    const length = this.#length + n;
    if (length > cap) {
      this.#start = (this.#start + length - cap) % cap;
      this.#length = cap;
    } else {
      this.#length = length;
    }
  }

  /** Forgets the history (always allowed for our own sending: references are optional). */
  clear(): void {
    this.#buffer = null;
    this.#start = 0;
    this.#length = 0;
  }

  get retainedBytes(): number {
    return this.#buffer ? this.#buffer.length : 0;
  }
}

/** What the codec needs of a zlib stream. */
interface ZStream {
  /** Output for `input` (then `extra`), sync-flushed; throws ZlibSyncError. */
  process(input: Uint8Array, maxOutput: number, extra?: Uint8Array): Buffer;
  reset(): void;
  close(): void;
}

/** The send dictionary of the one-shot fallback: a short tail keeps most of the gain for little hashing. */
const ONE_SHOT_DICTIONARY = 4096;

/**
 * The fallback where zlib streams cannot be driven synchronously: one-shot calls, with the
 * stream's history carried as a preset dictionary (the last bytes of plaintext).
 */
class OneShotStream implements ZStream {
  readonly #deflate: boolean;
  readonly #options: zlib.ZlibOptions;
  readonly #history: WindowTail;

  constructor(deflate: boolean, options: zlib.ZlibOptions, dictionary?: Uint8Array) {
    this.#deflate = deflate;
    this.#options = { ...options, finishFlush: SYNC };
    delete this.#options.dictionary;
    this.#history = new WindowTail(deflate ? ONE_SHOT_DICTIONARY : 1 << (options.windowBits ?? 15));
    if (dictionary) this.#history.push(dictionary);
  }

  process(input: Uint8Array, maxOutput: number, extra?: Uint8Array): Buffer {
    const options: zlib.ZlibOptions = { ...this.#options };
    const history = this.#history.bytes;
    if (history) options.dictionary = history;
    if (maxOutput > 0) options.maxOutputLength = maxOutput;
    const data = extra ? Buffer.concat([input, extra]) : input;
    let out: Buffer;
    try {
      out = this.#deflate ? zlib.deflateRawSync(data, options) : zlib.inflateRawSync(data, options);
    } catch (error) {
      const { code, errno, message } = error as { code?: string; errno?: number; message: string };
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new ZlibSyncError('too-large', message);
      throw new ZlibSyncError('zlib', message, code, errno);
    }
    this.#history.push(this.#deflate ? input : out);
    return out;
  }

  reset(): void {
    this.#history.clear();
  }

  close(): void {
    this.#history.clear();
  }
}

function createStream(deflate: boolean, options: zlib.ZlibOptions): ZStream {
  if (syncZlibAvailable()) return deflate ? SyncZlib.deflate(options) : SyncZlib.inflate(options);
  return new OneShotStream(deflate, options, options.dictionary as Uint8Array | undefined);
}

/**
 * Streams for directions without context takeover, one per parameter set, shared by every
 * connection and reset after each message.
 */
const sharedStreams = new Map<string, ZStream>();

function sharedStream(key: string, deflate: boolean, options: zlib.ZlibOptions): ZStream {
  let stream = sharedStreams.get(key);
  if (stream === undefined) {
    stream = createStream(deflate, options);
    sharedStreams.set(key, stream);
  }
  return stream;
}

/** zlib's memory for one deflate stream (zconf.h: 2^(windowBits+2) + 2^(memLevel+9)). */
export function deflateStreamBytes(windowBits: number, memLevel = 8): number {
  return (1 << (windowBits + 2)) + (1 << (memLevel + 9));
}

/** zlib's memory for one inflate stream (zconf.h: 2^windowBits + about 7 KiB). */
export function inflateStreamBytes(windowBits: number): number {
  return (1 << windowBits) + 7 * 1024;
}

export class DeflateCodec implements MessageCodec {
  readonly params: DeflateParams;
  readonly #threshold: number;
  readonly #deflateOptions: zlib.ZlibOptions;
  readonly #inflateOptions: zlib.ZlibOptions;
  readonly #deflateKey: string;
  readonly #inflateKey: string;
  /** zlib cannot deflate raw streams with a 256-byte window: with 8 bits we never compress. */
  readonly #canCompress: boolean;
  /** Context takeover, per direction. */
  readonly #sendTakeover: boolean;
  readonly #receiveTakeover: boolean;
  /** This connection's own streams, while active. */
  #deflater: ZStream | null = null;
  #inflater: ZStream | null = null;
  /** The receiving window, to restore a released inflater from. */
  readonly #incoming: WindowTail | null;
  #fragmenting = false;
  #sentSinceIdleCheck = false;
  #receivedSinceIdleCheck = false;

  constructor(params: DeflateParams, side: 'server' | 'client', options: PerMessageDeflateOptions = {}) {
    this.params = params;
    const ours = side === 'server' ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    const theirs = side === 'server' ? params.clientMaxWindowBits : params.serverMaxWindowBits;
    const oursReset = side === 'server' ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    const theirsReset = side === 'server' ? params.clientNoContextTakeover : params.serverNoContextTakeover;
    this.#threshold = options.threshold ?? DEFLATE_DEFAULTS.threshold;
    this.#canCompress = ours >= 9;
    this.#deflateOptions = { level: DEFAULT_LEVEL, ...options.zlibDeflateOptions, windowBits: Math.max(9, ours) };
    this.#inflateOptions = { ...options.zlibInflateOptions, windowBits: Math.max(9, theirs) };
    const d = this.#deflateOptions;
    this.#deflateKey = `deflate/${d.windowBits}/${d.level ?? ''}/${d.memLevel ?? ''}/${d.strategy ?? ''}`;
    this.#inflateKey = `inflate/${this.#inflateOptions.windowBits}`;
    this.#sendTakeover = !oursReset;
    this.#receiveTakeover = !theirsReset;
    this.#incoming = theirsReset ? null : new WindowTail(1 << theirs);
  }

  /** Window bits this side compresses with: frames compressed once for many must match it. */
  get sendWindowBits(): number {
    return this.#deflateOptions.windowBits!;
  }

  shouldCompress(length: number): boolean {
    return this.#canCompress && length >= this.#threshold;
  }

  /**
   * Compresses one message, or one fragment of it (`fin` false: keep the flush marker, which
   * the next fragment continues after; RFC 7692 §7.2.1 strips it from the message's end only).
   */
  compress(data: Uint8Array, fin = true): Uint8Array {
    // A whole message without context takeover goes through the process's shared stream; a
    // fragmented one needs a stream of its own until its last fragment.
    const shared = !this.#sendTakeover && fin && !this.#fragmenting;
    const stream = shared
      ? sharedStream(this.#deflateKey, true, this.#deflateOptions)
      : (this.#deflater ??= createStream(true, this.#deflateOptions));
    let out: Buffer;
    try {
      out = stream.process(data, 0);
    } catch (error) {
      // Deflating never fails on valid input; should zlib fail anyway, forget that stream.
      if (shared) sharedStreams.delete(this.#deflateKey);
      else this.#deflater = null;
      throw error;
    }
    if (shared) stream.reset();
    else if (fin && !this.#sendTakeover) this.#dropDeflater();
    if (fin) {
      if (out.length >= 4 && out[out.length - 4] === 0 && out[out.length - 3] === 0 && out[out.length - 2] === 0xff && out[out.length - 1] === 0xff) {
        out = out.subarray(0, out.length - 4);
      }
      if (out.length === 0) out = EMPTY_BLOCK;
    }
    this.#fragmenting = !fin;
    this.#sentSinceIdleCheck = true;
    traffic.deflateIn += data.length;
    traffic.deflateOut += out.length;
    return out;
  }

  /** A frame compressed elsewhere (a broadcast) went out on this connection. */
  sentShared(): void {
    // The peer's window now holds that message and ours does not: start afresh.
    if (!this.#fragmenting) this.#dropDeflater();
  }

  decompress(data: Uint8Array, maxLength: number): Uint8Array | ProtocolError {
    this.#receivedSinceIdleCheck = true;
    const shared = !this.#receiveTakeover;
    const key = `${this.#inflateKey}`;
    let stream: ZStream;
    if (shared) {
      stream = sharedStream(key, false, this.#inflateOptions);
    } else {
      if (this.#inflater === null) {
        const history = this.#incoming!.bytes;
        this.#inflater = createStream(false, history ? { ...this.#inflateOptions, dictionary: history } : this.#inflateOptions);
      }
      stream = this.#inflater;
    }
    let out: Buffer;
    try {
      out = stream.process(data, maxLength, TAIL);
    } catch (error) {
      // zlib closed the stream; the connection fails with it.
      if (shared) sharedStreams.delete(key);
      else this.#inflater = null;
      if (error instanceof ZlibSyncError && error.reason === 'too-large') {
        return new ProtocolError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      }
      // zlib's own account (code, errno, message) goes with it, as `cause`: `ws` reports that.
      return new ProtocolError('WS_ERR_INFLATE_FAILED', `compressed data could not be inflated: ${(error as Error).message}`, undefined, { cause: error });
    }
    if (shared) stream.reset();
    else this.#incoming!.push(out);
    traffic.inflateIn += data.length;
    traffic.inflateOut += out.length;
    return out;
  }

  /**
   * Called once per heartbeat period: a direction with no traffic since the previous call
   * releases its zlib stream (the receiving window is kept as plain bytes to restore it from).
   */
  releaseIdle(): void {
    if (!this.#sentSinceIdleCheck && !this.#fragmenting) this.#dropDeflater();
    if (!this.#receivedSinceIdleCheck && this.#inflater !== null) {
      this.#inflater.close();
      this.#inflater = null;
    }
    this.#sentSinceIdleCheck = false;
    this.#receivedSinceIdleCheck = false;
  }

  #dropDeflater(): void {
    if (this.#deflater !== null) {
      this.#deflater.close();
      this.#deflater = null;
    }
  }

  /** Estimated bytes held for this connection: its zlib streams and its receiving window. */
  get retainedBytes(): number {
    let bytes = this.#incoming?.retainedBytes ?? 0;
    if (this.#deflater) bytes += deflateStreamBytes(this.#deflateOptions.windowBits!, this.#deflateOptions.memLevel);
    if (this.#inflater) bytes += inflateStreamBytes(this.#inflateOptions.windowBits!);
    return bytes;
  }

  /** Releases the zlib streams (the connection closed). */
  close(): void {
    this.#dropDeflater();
    this.#inflater?.close();
    this.#inflater = null;
  }
}

/** One compressed payload shared by every connection that compresses with the same window. */
export function compressShared(data: Uint8Array, windowBits: number, options: PerMessageDeflateOptions = {}): Uint8Array {
  let out = zlib.deflateRawSync(data, { level: DEFAULT_LEVEL, ...options.zlibDeflateOptions, windowBits, finishFlush: SYNC });
  if (out.length >= 4) out = out.subarray(0, out.length - 4);
  if (out.length === 0) out = EMPTY_BLOCK;
  traffic.deflateIn += data.length;
  traffic.deflateOut += out.length;
  return out;
}
