/**
 * The frame reader: turns received bytes into frame headers and payload pieces, RFC 6455 §5.2
 * (the header and its rules), §5.3 (unmasking), §5.1 (which side masks), §5.4 (the order of
 * fragments) and §5.5 (control frames are short and whole), with RFC 7692 §6 for RSV1.
 *
 * A pull parser: the caller pushes chunks, then calls `next()` until it answers MORE. Each call
 * reports one step (a header, a piece of payload, or a violation) through its return value and
 * the reader's getters, `frameEnded` telling when a step completed its frame; nothing is
 * allocated per frame beyond the view a piece needs when it is part of a chunk. Payload pieces
 * are handed out as views of the chunk the caller gave up, uncopied, and unmasked once: in place
 * when the caller reads `piece`, or on their way into the caller's buffer (`copyPieceInto`),
 * where a piece of a message that did not arrive whole is copied anyway.
 * Must not: assemble messages, apply message limits, know about UTF-8 or compression, allocate
 * per frame on the happy path, or throw on any input.
 */
import { MAX_CONTROL_PAYLOAD, Opcode } from './constants.js';
import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import type { MaskFunction, MaskIntoFunction } from './mask.js';

/** What one call of `next()` found. */
export const ReadStep = {
  /** More bytes are needed (or input is being discarded). */
  MORE: 0,
  /** A whole header was read: fin, rsv1, opcode, payloadLength describe the frame. */
  HEADER: 1,
  /** `piece` holds the next unmasked part of the current frame's payload. */
  PIECE: 2,
  /** The bytes broke a framing rule: `error` says which. Input is discarded from now on. */
  ERROR: 3,
} as const;
export type ReadStep = (typeof ReadStep)[keyof typeof ReadStep];

export interface FrameReaderOptions {
  /** RFC 6455 §5.1: a server expects every frame masked, a client none. */
  expectMasked: boolean;
  /** An extension that defines RSV1 was negotiated (RFC 7692 §6). */
  allowRsv1: boolean;
  /** Unmasks bytes in place, with the contract of applyMask. */
  mask: MaskFunction;
  /** Unmasks bytes while copying them, with the contract of maskInto. */
  maskInto: MaskIntoFunction;
}

const State = { HEADER: 0, PAYLOAD: 1, DISCARD: 2 } as const;
type State = (typeof State)[keyof typeof State];

/** FrameReader#flags bits. */
const EXPECT_MASKED = 1;
const ALLOW_RSV1 = 2;
const FRAGMENTED = 4;
/** The current piece's bytes are still masked (unmasked once, when first used): EXPECT_MASKED << 3. */
const PIECE_MASKED = 8;
/** The current piece is a view of a borrowed chunk (see push). */
const PIECE_BORROWED = 1 << 16;
/** The bits that outlive a frame. */
const KEPT = EXPECT_MASKED | ALLOW_RSV1 | FRAGMENTED;
/** The current frame header's first byte (FIN, RSV1 and opcode) sits in bits 8-15. */
const B0_SHIFT = 8;
const FIN_BIT = 0x80 << B0_SHIFT;
const RSV1_BIT = 0x40 << B0_SHIFT;

/** The longest frame header: 2 bytes, a 64-bit length, a masking key. */
const MAX_HEADER_SIZE = 14;
const EMPTY: Uint8Array = new Uint8Array(0);

// Scratch space shared by every reader: each use is synchronous and holds nothing across
// calls, so an idle connection carries no typed arrays of its own.
const headerScratch = new Uint8Array(MAX_HEADER_SIZE);
const keyScratch = new Uint8Array(4);

export class FrameReader {
  readonly #mask: MaskFunction;
  readonly #maskInto: MaskIntoFunction;

  // Input queue: chunks not yet consumed (null until the first arrives, so a connection that
  // received nothing holds no list); #offset indexes into the first one.
  #chunks: Uint8Array[] | null = null;
  #offset = 0;
  #buffered = 0;
  /** The chunk lent by the last push(chunk, true), until settle(). */
  #borrowed: Uint8Array | null = null;
  #state: State = State.HEADER;
  /**
   * EXPECT_MASKED | ALLOW_RSV1 (set once) | FRAGMENTED (RFC 6455 §5.4: a data frame without FIN
   * opened a message that continuation frames finish) | PIECE_MASKED, and the current frame
   * header's first byte in bits 8-15 (masked is EXPECT_MASKED, checked): one field for them all.
   */
  #flags = 0;

  // The frame being read.
  #payloadLength = 0;
  #payloadRead = 0;
  /** The current frame's masking key, its four bytes packed little-end first. */
  #maskingKey = 0;
  #piece: Uint8Array = EMPTY;
  /** Where the piece starts in its frame's payload: the masking key's phase. */
  #piecePhase = 0;
  #error: ProtocolError | null = null;

  constructor(options: FrameReaderOptions) {
    this.#flags = (options.expectMasked ? EXPECT_MASKED : 0) | (options.allowRsv1 ? ALLOW_RSV1 : 0);
    this.#mask = options.mask;
    this.#maskInto = options.maskInto;
  }

  get fin(): boolean {
    return (this.#flags & FIN_BIT) !== 0;
  }

  get rsv1(): boolean {
    return (this.#flags & RSV1_BIT) !== 0;
  }

  get opcode(): number {
    return (this.#flags >>> B0_SHIFT) & 0x0f;
  }

  /** The current frame's declared payload length. */
  get payloadLength(): number {
    return this.#payloadLength;
  }

  /**
   * After PIECE: the unmasked bytes (a view of input, unmasked in place when first read; valid
   * until the caller gives them up).
   */
  get piece(): Uint8Array {
    const flags = this.#flags;
    if ((flags & PIECE_MASKED) !== 0) {
      this.#flags = flags & ~PIECE_MASKED;
      this.#mask(this.#piece, this.#keyBytes(), this.#piecePhase);
    }
    return this.#piece;
  }

  /** After PIECE: the piece's length, without unmasking it. */
  get pieceLength(): number {
    return this.#piece.length;
  }

  /**
   * After PIECE: writes the unmasked piece into `target` at `offset`, unmasking it on the way
   * (one pass over the bytes) unless `piece` was read already. The input's bytes may stay masked.
   */
  copyPieceInto(target: Uint8Array, offset: number): void {
    const flags = this.#flags;
    // A lent chunk is unmasked where it is (its bytes are used up), then copied.
    if ((flags & (PIECE_MASKED | PIECE_BORROWED)) === PIECE_MASKED) this.#maskInto(this.#piece, target, offset, this.#keyBytes(), this.#piecePhase);
    else target.set(this.piece, offset);
  }

  /** The current frame's masking key as bytes, in the shared scratch (used at once). */
  #keyBytes(): Uint8Array {
    const key = this.#maskingKey;
    keyScratch[0] = key & 0xff;
    keyScratch[1] = (key >>> 8) & 0xff;
    keyScratch[2] = (key >>> 16) & 0xff;
    keyScratch[3] = key >>> 24;
    return keyScratch;
  }

  /** After PIECE: the piece is the frame's whole payload, read from one chunk. */
  get whole(): boolean {
    return this.#piece.length === this.#payloadLength;
  }

  /**
   * After PIECE: the piece is a view of a chunk that was lent (push(chunk, true)), so it is valid
   * only until settle(): whoever keeps its bytes copies them.
   */
  get borrowed(): boolean {
    return (this.#flags & PIECE_BORROWED) !== 0;
  }

  /**
   * After HEADER or PIECE: the current frame's payload is complete (at once for an empty one),
   * and the next step starts a new frame.
   */
  get frameEnded(): boolean {
    return this.#state !== State.PAYLOAD;
  }

  /** After ERROR: the violation. */
  get error(): ProtocolError | null {
    return this.#error;
  }

  /** Input is being thrown away (after a violation, a close frame or the end of input). */
  get discarding(): boolean {
    return this.#state === State.DISCARD;
  }

  /**
   * Queues received bytes; the reader owns them from now on (they are unmasked in place). A
   * `borrowed` chunk is lent until the caller calls settle(), when whatever of it is still unread
   * is copied: the caller may then reuse its memory (a read buffer).
   */
  push(chunk: Uint8Array, borrowed = false): void {
    if (this.#state === State.DISCARD || chunk.length === 0) return;
    if (borrowed) this.#borrowed = chunk;
    const chunks = this.#chunks;
    if (chunks === null) this.#chunks = [chunk];
    else chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The lent chunk goes back to its owner: the bytes of it still unread (a header cut by the end
   * of the read) are copied, and no piece points into it any more.
   */
  settle(): void {
    const lent = this.#borrowed;
    if (lent === null) return;
    this.#borrowed = null;
    this.#flags &= ~(PIECE_BORROWED | PIECE_MASKED);
    this.#piece = EMPTY;
    // Still queued, it is the last chunk (pushed last); the first one too when all before it were read.
    const chunks = this.#chunks;
    if (chunks === null || chunks[chunks.length - 1] !== lent) return;
    const first = chunks.length === 1;
    const rest = new Uint8Array(lent.length - (first ? this.#offset : 0));
    rest.set(first ? lent.subarray(this.#offset) : lent);
    chunks[chunks.length - 1] = rest;
    if (first) this.#offset = 0;
  }

  /** Drops buffered input and ignores all further input. */
  discard(): void {
    this.#state = State.DISCARD;
    this.#chunks = null;
    this.#buffered = 0;
    this.#offset = 0;
    this.#piece = EMPTY;
    this.#flags &= ~PIECE_MASKED;
  }

  /**
   * Reads the next step from the buffered bytes. Never throws on any input. Once all input is
   * consumed (MORE with nothing buffered) the reader lets go of it: no view of the last chunk and
   * no empty list stay behind on an idle connection.
   */
  next(): ReadStep {
    if (this.#state === State.PAYLOAD) {
      if (this.#buffered === 0) return this.#drained();
      this.#readPiece(this.#payloadLength - this.#payloadRead);
      return ReadStep.PIECE;
    }
    if (this.#state === State.HEADER) return this.#buffered === 0 ? this.#drained() : this.#readHeader();
    return ReadStep.MORE;
  }

  /** The next byte pushed starts a frame header (no part of one is buffered). */
  get atNewFrame(): boolean {
    return this.#state === State.HEADER && this.#buffered === 0;
  }

  /** True between frames with no byte buffered and no fragmented message open. */
  get idle(): boolean {
    return this.#state === State.HEADER && this.#buffered === 0 && (this.#flags & FRAGMENTED) === 0;
  }

  #drained(): ReadStep {
    this.#chunks = null;
    this.#offset = 0;
    this.#piece = EMPTY;
    return ReadStep.MORE;
  }

  #peek(index: number): number {
    let i = index + this.#offset;
    for (const chunk of this.#chunks!) {
      if (i < chunk.length) return chunk[i]!;
      i -= chunk.length;
    }
    return -1;
  }

  /** Copies up to MAX_HEADER_SIZE buffered bytes, across chunks, into the header scratch. */
  #gatherHeader(): Uint8Array {
    const scratch = headerScratch;
    const count = Math.min(MAX_HEADER_SIZE, this.#buffered);
    for (let i = 0; i < count; i++) scratch[i] = this.#peek(i);
    return scratch;
  }

  #skip(count: number): void {
    this.#buffered -= count;
    let n = count + this.#offset;
    const chunks = this.#chunks!;
    while (n > 0) {
      const first = chunks[0]!;
      if (n < first.length) break;
      n -= first.length;
      chunks.shift();
    }
    this.#offset = n;
  }

  #fail(code: ProtocolErrorCode, detail?: number): ReadStep {
    this.#error = new ProtocolError(code, undefined, detail);
    this.discard();
    return ReadStep.ERROR;
  }

  /** Parses one frame header if it is all here. */
  #readHeader(): ReadStep {
    if (this.#buffered < 2) return ReadStep.MORE;
    // The header's bytes: read in place when the first chunk holds a whole header, otherwise
    // gathered into a scratch buffer (at most 14 bytes).
    let h = this.#chunks![0]!;
    let at = this.#offset;
    if (h.length - at < MAX_HEADER_SIZE) {
      h = this.#gatherHeader();
      at = 0;
    }
    const b0 = h[at]!;
    const b1 = h[at + 1]!;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const length7 = b1 & 0x7f;
    const isControl = opcode >= 0x8;
    const flags = this.#flags;
    const expectMasked = (flags & EXPECT_MASKED) !== 0;

    // RFC 6455 §5.2: RSV bits must be 0 unless an extension defines them.
    if ((b0 & 0x20) !== 0) return this.#fail('WS_ERR_UNEXPECTED_RSV_2');
    if ((b0 & 0x10) !== 0) return this.#fail('WS_ERR_UNEXPECTED_RSV_3');
    // RFC 7692 §6: RSV1 marks a compressed message, only on its first frame, never on control frames.
    if (rsv1 && ((flags & ALLOW_RSV1) === 0 || isControl || opcode === Opcode.CONTINUATION)) {
      return this.#fail('WS_ERR_UNEXPECTED_RSV_1');
    }
    // RFC 6455 §5.2: unknown opcodes fail the connection.
    if (opcode > Opcode.BINARY && opcode < Opcode.CLOSE) return this.#fail('WS_ERR_INVALID_OPCODE', opcode);
    if (opcode > Opcode.PONG) return this.#fail('WS_ERR_INVALID_OPCODE', opcode);
    if (isControl) {
      // RFC 6455 §5.5: control frames are at most 125 bytes and never fragmented.
      if (!fin) return this.#fail('WS_ERR_EXPECTED_FIN');
      if (length7 > MAX_CONTROL_PAYLOAD) return this.#fail('WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', length7);
    } else if (opcode === Opcode.CONTINUATION) {
      // RFC 6455 §5.4: a continuation frame needs an open fragmented message.
      if ((flags & FRAGMENTED) === 0) return this.#fail('WS_ERR_UNEXPECTED_CONTINUATION');
    } else if ((flags & FRAGMENTED) !== 0) {
      // RFC 6455 §5.4: fragments of different messages must not interleave.
      return this.#fail('WS_ERR_EXPECTED_CONTINUATION', opcode);
    }
    // RFC 6455 §5.1: clients mask every frame, servers none.
    if (masked !== expectMasked) {
      return this.#fail(expectMasked ? 'WS_ERR_EXPECTED_MASK' : 'WS_ERR_UNEXPECTED_MASK');
    }

    const extra = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
    const headerSize = 2 + extra + (masked ? 4 : 0);
    if (this.#buffered < headerSize) return ReadStep.MORE;

    let payloadLength = length7;
    if (length7 === 126) {
      payloadLength = (h[at + 2]! << 8) | h[at + 3]!;
      // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
      if (payloadLength < 126) return this.#fail('WS_ERR_NON_MINIMAL_LENGTH');
    } else if (length7 === 127) {
      const hi = ((h[at + 2]! << 24) | (h[at + 3]! << 16) | (h[at + 4]! << 8) | h[at + 5]!) >>> 0;
      const lo = ((h[at + 6]! << 24) | (h[at + 7]! << 16) | (h[at + 8]! << 8) | h[at + 9]!) >>> 0;
      // RFC 6455 §5.2: the most significant bit of a 64-bit length must be 0.
      if (hi & 0x80000000) return this.#fail('WS_ERR_INVALID_PAYLOAD_LENGTH');
      // 2^40 bytes (1 TiB) and more is too big by any limit, maxPayload 0 included: such a length
      // could not be buffered anyway, and past 2^53 - 1 it is not even exact in a JS number.
      if (hi > 0xff) return this.#fail('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      payloadLength = hi * 0x100000000 + lo;
      if (payloadLength < 0x10000) return this.#fail('WS_ERR_NON_MINIMAL_LENGTH');
    }

    const kept = isControl ? flags : fin ? flags & ~FRAGMENTED : flags | FRAGMENTED;
    // The new header's first byte, and PIECE_MASKED cleared.
    this.#flags = (kept & KEPT) | (b0 << B0_SHIFT);
    if (masked) {
      const k = at + headerSize - 4;
      // An int32 (not `>>> 0`): a small integer in the field, where a uint32 above 2^31 would
      // make V8 box every reader's key in a heap number of its own.
      this.#maskingKey = h[k]! | (h[k + 1]! << 8) | (h[k + 2]! << 16) | (h[k + 3]! << 24);
    }
    this.#payloadLength = payloadLength;
    this.#payloadRead = 0;
    this.#skip(headerSize);
    this.#piece = EMPTY;
    this.#state = payloadLength === 0 ? State.HEADER : State.PAYLOAD;
    return ReadStep.HEADER;
  }

  /** Takes the part of the current payload that the first chunk holds (unmasked when used). */
  #readPiece(remaining: number): void {
    const chunk = this.#chunks![0]!;
    const start = this.#offset;
    const take = Math.min(remaining, chunk.length - start);
    const piece = start === 0 && take === chunk.length ? chunk : chunk.subarray(start, start + take);
    // A frame's mask bit is checked to be what this side expects, so EXPECT_MASKED says it.
    const flags = this.#flags & ~PIECE_BORROWED;
    this.#flags = flags | ((flags & EXPECT_MASKED) << 3) | (chunk === this.#borrowed ? PIECE_BORROWED : 0);
    this.#piecePhase = this.#payloadRead;
    this.#payloadRead += take;
    this.#skip(take);
    this.#piece = piece;
    if (this.#payloadRead === this.#payloadLength) this.#state = State.HEADER;
  }
}
