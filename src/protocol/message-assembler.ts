/**
 * The message assembler: turns the payload pieces of data frames into whole messages, and the
 * pieces of a control frame into its payload. RFC 6455 §5.4 (fragments make one message),
 * §8.1 (text is UTF-8, checked as it arrives), §10.4 (limits on what a peer makes us hold), and
 * RFC 7692 §6.2 (a compressed message is inflated through the negotiated codec).
 *
 * Memory for one message is bounded by `maxPayload`, whatever the fragmentation: limits are
 * checked on declared lengths before any byte is stored, and fragments are copied into one
 * growing buffer, unmasked on the way by the frame reader (copyPieceInto), so their bytes are
 * gone over once. A message that arrives whole in one chunk is handed out as a view, uncopied.
 * Must not: parse frame headers, unmask, queue output, or throw on any input (a violation is
 * reported by a false or null result and `error`).
 */
import { MAX_CONTROL_PAYLOAD, Opcode } from './constants.js';
import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import { Utf8Validator, isValidUtf8 } from './utf8-validator.js';
import type { MessageCodec } from './codec.js';

export interface MessageAssemblerOptions {
  /** Largest message accepted, in bytes, after reassembly (and inflation). 0 means no limit. */
  maxPayload: number;
  /** Most frames one message may be split into. 0 means no limit. */
  maxFragments: number;
  /** Trust the peer's text to be UTF-8 (skips the §8.1 checks). */
  skipUtf8Validation: boolean;
  /** A faster whole-buffer UTF-8 check for complete messages. */
  isUtf8: ((bytes: Uint8Array) => boolean) | null;
  /** The negotiated compression extension, if any. */
  codec: MessageCodec | null;
  /** Allocates message buffers (whose bytes are all written before they are read). */
  allocate: (size: number) => Uint8Array;
}

/** A piece of a data frame's payload, as the frame reader hands it out. */
export interface PayloadPiece {
  /** The piece's bytes, unmasked (in place). */
  readonly piece: Uint8Array;
  readonly pieceLength: number;
  /** The piece's bytes are lent: valid only while the chunk they came in is being read. */
  readonly borrowed: boolean;
  /** Writes the unmasked piece into `target` at `offset`. */
  copyPieceInto(target: Uint8Array, offset: number): void;
}

/** Whole frames up to this size are preallocated from their declared length; larger ones grow as bytes arrive. */
const PREALLOCATE_LIMIT = 1024 * 1024;

const EMPTY: Uint8Array = new Uint8Array(0);

export class MessageAssembler {
  readonly #maxPayload: number;
  readonly #maxFragments: number;
  readonly #skipUtf8: boolean;
  readonly #isUtf8: ((bytes: Uint8Array) => boolean) | null;
  readonly #codec: MessageCodec | null;
  readonly #allocate: (size: number) => Uint8Array;

  // The data message being assembled.
  #opcode = 0;
  #compressed = false;
  #length = 0;
  #fragments = 0;
  #buffer: Uint8Array | null = null;
  /** The current frame is the message's last. */
  #lastFrame = false;
  /** The message's length once the current frame is complete. */
  #frameEnd = 0;
  /** The current message arrived whole in one chunk and was checked as a whole. */
  #whole = false;
  /** The message last finished (or being assembled) is binary. */
  #binary = false;
  /** Made when a text message first arrives in pieces. */
  #utf8: Utf8Validator | null = null;

  // The control frame being assembled.
  #controlLength = 0;
  #controlExpected = 0;
  /** The control payload when it arrived whole in one chunk (a view, no copy). */
  #controlWhole: Uint8Array | null = null;
  /** Made when a control frame first arrives in pieces. */
  #controlBuffer: Uint8Array | null = null;

  #error: ProtocolError | null = null;

  constructor(options: MessageAssemblerOptions) {
    this.#maxPayload = options.maxPayload;
    this.#maxFragments = options.maxFragments;
    this.#skipUtf8 = options.skipUtf8Validation;
    this.#isUtf8 = options.isUtf8;
    this.#codec = options.codec;
    this.#allocate = options.allocate;
  }

  /** After a false or null result: the violation. */
  get error(): ProtocolError | null {
    return this.#error;
  }

  /** The message last returned by `finish` is binary (opcode 0x2). */
  get binary(): boolean {
    return this.#binary;
  }

  #fail(code: ProtocolErrorCode): false {
    this.#error = new ProtocolError(code);
    this.discard();
    return false;
  }

  /** Drops the message in progress (the connection failed or closed). */
  discard(): void {
    this.#buffer = null;
    this.#whole = false;
  }

  /**
   * A data frame's header was read (opcode 0 for a continuation). Checks the message limits on
   * the declared length, before any byte of the payload is stored; false when one is passed.
   */
  frameStart(opcode: number, rsv1: boolean, fin: boolean, payloadLength: number): boolean {
    // RFC 6455 §10.4: limits are checked on the declared length, before any byte is stored.
    if (this.#maxPayload > 0 && this.#length + payloadLength > this.#maxPayload) {
      return this.#fail('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    }
    if (this.#maxFragments > 0 && this.#fragments + 1 > this.#maxFragments) {
      return this.#fail('WS_ERR_TOO_MANY_FRAGMENTS');
    }
    if (opcode !== Opcode.CONTINUATION) {
      this.#opcode = opcode;
      this.#binary = opcode === Opcode.BINARY;
      this.#compressed = rsv1;
      this.#utf8?.reset();
    }
    this.#fragments++;
    this.#lastFrame = fin;
    this.#frameEnd = this.#length + payloadLength;
    return true;
  }

  /** The next piece of the current data frame; false when it failed the message. */
  dataPiece(source: PayloadPiece): boolean {
    const text = this.#opcode === Opcode.TEXT && !this.#compressed && !this.#skipUtf8;
    const length = source.pieceLength;
    if (this.#lastFrame && this.#fragments === 1 && this.#length === 0 && length === this.#frameEnd && (!source.borrowed || this.#compressed)) {
      // Fast path: an unfragmented message wholly in one chunk is handed out as a view (or, lent,
      // inflated at once, which keeps nothing of it).
      const piece = source.piece;
      if (text && !(this.#isUtf8 ? this.#isUtf8(piece) : isValidUtf8(piece))) return this.#fail('WS_ERR_INVALID_UTF8');
      this.#buffer = piece;
      this.#length = length;
      this.#whole = true;
      return true;
    }
    if (length === 0) return true;
    const start = this.#length;
    this.#append(source, length);
    // RFC 6455 §8.1: fail as soon as an invalid byte arrives, not at the end of the message.
    if (text && !(this.#utf8 ??= new Utf8Validator()).update(this.#buffer!.subarray(start, start + length))) {
      return this.#fail('WS_ERR_INVALID_UTF8');
    }
    return true;
  }

  /**
   * Copies a piece into the message buffer. The buffer grows with the bytes that arrived (it
   * doubles), never with what a header merely declares, so a peer that declares a huge frame
   * and sends little costs little, with or without maxPayload.
   */
  #append(source: PayloadPiece, length: number): void {
    const needed = this.#length + length;
    let buffer = this.#buffer;
    if (buffer === null || buffer.length < needed) {
      let capacity: number;
      if (this.#lastFrame && this.#fragments === 1 && this.#frameEnd <= PREALLOCATE_LIMIT) {
        capacity = this.#frameEnd; // one frame of known, modest size: allocate once
      } else {
        capacity = Math.max(needed, (buffer?.length ?? 0) * 2, 16 * 1024);
        // The last frame of a message says exactly how much is still to come.
        if (this.#lastFrame) capacity = Math.min(capacity, this.#frameEnd);
        if (this.#maxPayload > 0) capacity = Math.min(capacity, this.#maxPayload);
        capacity = Math.max(capacity, needed);
      }
      const grown = this.#allocate(capacity);
      if (buffer !== null && this.#length > 0) grown.set(buffer.subarray(0, this.#length));
      buffer = grown;
      this.#buffer = buffer;
    }
    source.copyPieceInto(buffer, this.#length);
    this.#length = needed;
  }

  /**
   * The last frame of the message ended: returns the message (inflated if it was compressed),
   * or null when it failed. `binary` tells its type.
   */
  finish(): Uint8Array | null {
    const buffer = this.#buffer;
    const length = this.#length;
    const data = length === 0 ? EMPTY : buffer!.length === length ? buffer! : buffer!.subarray(0, length);
    const compressed = this.#compressed;
    const text = this.#opcode === Opcode.TEXT;
    const checkedWhole = this.#whole;
    this.#whole = false;
    this.#opcode = 0;
    this.#compressed = false;
    this.#length = 0;
    this.#fragments = 0;
    this.#buffer = null;
    if (compressed) return this.#inflate(data, text);
    if (text && !this.#skipUtf8 && !checkedWhole && this.#utf8 !== null && !this.#utf8.isComplete()) {
      // The message ended inside a multi-byte sequence.
      return this.#fail('WS_ERR_INVALID_UTF8'), null;
    }
    return data;
  }

  #inflate(data: Uint8Array, text: boolean): Uint8Array | null {
    const result = this.#codec!.decompress(data, this.#maxPayload);
    if (result instanceof ProtocolError) {
      this.#error = result;
      return null;
    }
    if (text && !this.#skipUtf8 && !(this.#isUtf8 ? this.#isUtf8(result) : isValidUtf8(result))) {
      return this.#fail('WS_ERR_INVALID_UTF8'), null;
    }
    return result;
  }

  /** A control frame's header was read. */
  controlStart(payloadLength: number): void {
    this.#controlLength = 0;
    this.#controlExpected = payloadLength;
    this.#controlWhole = null;
  }

  /** The next unmasked piece of the current control frame. */
  controlPiece(piece: Uint8Array, borrowed = false): void {
    if (piece.length === this.#controlExpected && !borrowed) {
      // Whole control frame in one chunk: keep the view, copy nothing.
      this.#controlWhole = piece;
      return;
    }
    (this.#controlBuffer ??= new Uint8Array(MAX_CONTROL_PAYLOAD)).set(piece, this.#controlLength);
    this.#controlLength += piece.length;
  }

  /** The control frame ended: its payload (a copy when it arrived in pieces). */
  controlPayload(): Uint8Array {
    const whole = this.#controlWhole;
    this.#controlWhole = null;
    if (this.#controlExpected === 0) return EMPTY;
    return whole ?? this.#controlBuffer!.slice(0, this.#controlLength);
  }
}
