/**
 * permessage-deflate compression (RFC 7692 §7.2) over node:zlib, as the core's MessageCodec.
 *
 * No zlib stream is kept per connection. Each message is one synchronous zlib call; context
 * takeover is carried by the LZ77 window itself: the last 2^windowBits bytes of plaintext are
 * kept and handed to zlib as a preset dictionary, which is exactly what the peer's sliding window
 * holds. A connection therefore costs at most its window tails (none with no_context_takeover),
 * zlib work never interleaves, and the inflated size is bounded by zlib's maxOutputLength while
 * inflating (a bomb fails with 1009 before its memory is spent).
 * Must not: decide negotiation (protocol/permessage-deflate.ts does), or touch sockets.
 */
import zlib from 'node:zlib';
import type { MessageCodec } from '../protocol/codec.js';
import { ProtocolError } from '../protocol/errors.js';
import type { DeflateConfig, DeflateParams } from '../protocol/permessage-deflate.js';

/** The `perMessageDeflate` option, in `ws`'s shape. */
export interface PerMessageDeflateOptions extends DeflateConfig {
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  /** level, memLevel, strategy for compression (windowBits comes from negotiation). */
  zlibDeflateOptions?: Pick<zlib.ZlibOptions, 'level' | 'memLevel' | 'strategy' | 'chunkSize'>;
  zlibInflateOptions?: Pick<zlib.ZlibOptions, 'chunkSize'>;
  /**
   * Accepted for `ws` compatibility. zlib work here is synchronous, so exactly one zlib job runs
   * at a time per process whatever this says.
   */
  concurrencyLimit?: number;
}

const SYNC = zlib.constants.Z_SYNC_FLUSH;
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const EMPTY_BLOCK = Buffer.from([0x00]);

/** Keeps the last `capacity` bytes written to it: the LZ77 window of one direction. */
class WindowTail {
  readonly #capacity: number;
  #buffer: Buffer | null = null;
  #length = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get bytes(): Buffer | undefined {
    return this.#length === 0 ? undefined : this.#buffer!.subarray(0, this.#length);
  }

  push(data: Uint8Array): void {
    const cap = this.#capacity;
    if (data.length === 0) return;
    const buffer = (this.#buffer ??= Buffer.allocUnsafe(cap));
    if (data.length >= cap) {
      buffer.set(data.subarray(data.length - cap));
      this.#length = cap;
      return;
    }
    const keep = Math.min(this.#length, cap - data.length);
    if (keep < this.#length) buffer.copyWithin(0, this.#length - keep, this.#length);
    buffer.set(data, keep);
    this.#length = keep + data.length;
  }

  /** Forgets the history (always allowed for our own sending: references are optional). */
  clear(): void {
    this.#buffer = null;
    this.#length = 0;
  }

  get retainedBytes(): number {
    return this.#buffer ? this.#buffer.length : 0;
  }
}

export class DeflateCodec implements MessageCodec {
  readonly params: DeflateParams;
  readonly #threshold: number;
  readonly #deflateOptions: zlib.ZlibOptions;
  readonly #inflateOptions: zlib.ZlibOptions;
  /** zlib cannot deflate raw streams with a 256-byte window: with 8 bits we never compress. */
  readonly #canCompress: boolean;
  readonly #outgoing: WindowTail | null;
  readonly #incoming: WindowTail | null;
  #fragmenting = false;
  #sentSinceIdleCheck = false;

  constructor(params: DeflateParams, side: 'server' | 'client', options: PerMessageDeflateOptions = {}) {
    this.params = params;
    const ours = side === 'server' ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    const theirs = side === 'server' ? params.clientMaxWindowBits : params.serverMaxWindowBits;
    const oursReset = side === 'server' ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    const theirsReset = side === 'server' ? params.clientNoContextTakeover : params.serverNoContextTakeover;
    this.#threshold = options.threshold ?? 1024;
    this.#canCompress = ours >= 9;
    this.#deflateOptions = { ...options.zlibDeflateOptions, windowBits: Math.max(9, ours), finishFlush: SYNC };
    this.#inflateOptions = { ...options.zlibInflateOptions, windowBits: Math.max(9, theirs), finishFlush: SYNC };
    this.#outgoing = oursReset || !this.#canCompress ? null : new WindowTail(1 << ours);
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
    const history = this.#fragmenting ? undefined : this.#outgoing?.bytes;
    const options = history ? { ...this.#deflateOptions, dictionary: history } : this.#deflateOptions;
    let out = zlib.deflateRawSync(data, options);
    if (fin) {
      if (out.length >= 4 && out[out.length - 4] === 0 && out[out.length - 3] === 0 && out[out.length - 2] === 0xff && out[out.length - 1] === 0xff) {
        out = out.subarray(0, out.length - 4);
      }
      if (out.length === 0) out = EMPTY_BLOCK;
    }
    if (this.#outgoing) {
      // Fragments are compressed without history, so the window we track would drift from the
      // peer's: forget it after a fragmented message (always allowed for the sender).
      if (this.#fragmenting || !fin) this.#outgoing.clear();
      else this.#outgoing.push(data);
    }
    this.#fragmenting = !fin;
    this.#sentSinceIdleCheck = true;
    return out;
  }

  /** A frame compressed elsewhere (a broadcast) went out on this connection. */
  sentShared(): void {
    this.#outgoing?.clear();
  }

  decompress(data: Uint8Array, maxLength: number): Uint8Array | ProtocolError {
    const history = this.#incoming?.bytes;
    const options: zlib.ZlibOptions = { ...this.#inflateOptions };
    if (history) options.dictionary = history;
    if (maxLength > 0) options.maxOutputLength = maxLength;
    let out: Buffer;
    try {
      out = zlib.inflateRawSync(Buffer.concat([data, TAIL]), options);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') return new ProtocolError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      return new ProtocolError('WS_ERR_INFLATE_FAILED', `compressed data could not be inflated: ${(error as Error).message}`);
    }
    this.#incoming?.push(out);
    return out;
  }

  /**
   * Called periodically: drops our sending window if nothing was compressed since the previous
   * call (a sender may always stop referring back, so this is safe at any time).
   */
  releaseIdle(): void {
    if (!this.#sentSinceIdleCheck && !this.#fragmenting) this.#outgoing?.clear();
    this.#sentSinceIdleCheck = false;
  }

  /** Bytes of window history held (for memory accounting). */
  get retainedBytes(): number {
    return (this.#outgoing?.retainedBytes ?? 0) + (this.#incoming?.retainedBytes ?? 0);
  }
}

/** One compressed payload shared by every connection that compresses with the same window. */
export function compressShared(data: Uint8Array, windowBits: number, options: PerMessageDeflateOptions = {}): Uint8Array {
  let out = zlib.deflateRawSync(data, { ...options.zlibDeflateOptions, windowBits, finishFlush: SYNC });
  if (out.length >= 4) out = out.subarray(0, out.length - 4);
  return out.length === 0 ? EMPTY_BLOCK : out;
}

export function resolveDeflateOptions(option: boolean | PerMessageDeflateOptions | undefined): PerMessageDeflateOptions | null {
  if (!option) return null;
  return option === true ? {} : option;
}
