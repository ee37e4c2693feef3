/**
 * The Sans-I/O WebSocket connection: RFC 6455 §5 (framing), §5.4 (fragmentation), §5.5 (control
 * frames), §7 (closing), §8.1 (UTF-8), plus the message-level hooks RFC 7692 needs.
 *
 * Bytes in (`receiveData`, `receiveEof`), events and bytes out (`takeEvents`, `takeOutput`).
 * Invariants:
 *  - the receive path never throws: every violation becomes `fail(error)`, which queues exactly
 *    one close frame with the error's close code (left to the caller with autoCloseReply: false)
 *    and discards all further input;
 *  - at most one close frame is ever sent;
 *  - the client masks every frame it sends, the server never does;
 *  - memory held for one message is bounded by `maxPayload`, whatever the fragmentation;
 *  - nothing here knows about sockets, timers or zlib.
 * Must not: import anything outside protocol/, allocate on the per-frame happy path beyond views.
 */
import { CloseCode, MAX_CLOSE_REASON, MAX_CONTROL_PAYLOAD, Opcode, isValidCloseCode } from './constants.js';
import { ProtocolError, UsageError, type ProtocolErrorCode } from './errors.js';
import { frameHeaderSize, writeFrameHeader } from './frame-writer.js';
import { applyMask, maskInto } from './mask.js';
import { Utf8Validator, isValidUtf8 } from './utf8-validator.js';
import type { MessageCodec } from './codec.js';

export type Side = 'server' | 'client';
export type ConnectionState = 'OPEN' | 'CLOSING' | 'CLOSED';

export interface ConnectionOptions {
  side: Side;
  /** Largest message accepted, in bytes, after reassembly (and inflation). 0 means no limit. */
  maxPayload?: number;
  /** Most frames one message may be split into. 0 means no limit. */
  maxFragments?: number;
  /** Most automatic pongs queued and not yet taken; past it only the newest ping is answered. */
  maxPendingPongs?: number;
  /** Answer pings with pongs automatically (RFC 6455 §5.5.2). */
  autoPong?: boolean;
  /**
   * Answer a received close frame at once (the default). With false, the caller answers with
   * sendClose() when it has handled the events before the close, so replies to messages that
   * arrived just before the close can still be sent (RFC 6455 §5.5.1 allows data until then).
   * The same holds for a failure found in the peer's bytes: on the 'error' event the caller
   * sends sendClose(error.closeCode).
   */
  autoCloseReply?: boolean;
  /** Trust the peer's text to be UTF-8 (skips §8.1 checks; only for trusted peers). */
  skipUtf8Validation?: boolean;
  /** Fills a 4-byte masking key; required on the client (RFC 6455 §5.3: unpredictable keys). */
  generateMask?: (maskingKey: Uint8Array) => void;
  /**
   * Masks bytes in place with the contract of applyMask (Node passes a WebAssembly SIMD one for
   * long payloads). Default: applyMask.
   */
  mask?: (data: Uint8Array, maskingKey: Uint8Array, phase: number) => void;
  /** Allocates output buffers (Node passes Buffer.allocUnsafe so output needs no conversion). */
  allocate?: (size: number) => Uint8Array;
  /** A faster whole-buffer UTF-8 check to use on complete messages (the incremental one is kept for pieces). */
  isUtf8?: (bytes: Uint8Array) => boolean;
  /** The negotiated compression extension, if any: lets RSV1 through and handles its messages. */
  codec?: MessageCodec | null;
}

export type ConnectionEvent =
  | { type: 'message'; data: Uint8Array; binary: boolean }
  | { type: 'ping'; data: Uint8Array }
  | { type: 'pong'; data: Uint8Array }
  /** A close frame arrived. `code` is 1005 when it carried none. */
  | { type: 'close'; code: number; reason: Uint8Array }
  /** This endpoint failed the connection; a close frame with `error.closeCode` is queued. */
  | { type: 'error'; error: ProtocolError };

export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
export const DEFAULT_MAX_FRAGMENTS = 131072;
export const DEFAULT_MAX_PENDING_PONGS = 16;

/** Whole frames up to this size are preallocated from their declared length; larger ones grow as bytes arrive. */
const PREALLOCATE_LIMIT = 1024 * 1024;
/**
 * Frames with payloads up to this size are written into the output slab, header and payload
 * together (the payload's one copy); larger payloads go out as their own chunk, uncopied.
 */
const MERGE_LIMIT = 4096;
/**
 * Size of a fresh output slab: the small frames queued between two takes accumulate in one
 * buffer, for one write. Slabs are dropped at every take, so an idle connection holds none.
 */
const SLAB_SIZE = 2048;
/** From this payload length a client copies and then masks in place rather than mask while copying. */
const MASK_IN_PLACE_LENGTH = 512;

const EMPTY: Uint8Array = new Uint8Array(0);
/** The longest frame header: 2 bytes, a 64-bit length, a masking key. */
const MAX_HEADER_SIZE = 14;

// Scratch space shared by every connection: each use is synchronous and holds nothing across
// calls, so an idle connection carries no typed arrays of its own.
const headerScratch = new Uint8Array(MAX_HEADER_SIZE);
const keyScratch = new Uint8Array(4);

const ReadState = { HEADER: 0, PAYLOAD: 1, DISCARD: 2 } as const;
type ReadState = (typeof ReadState)[keyof typeof ReadState];

export class Connection {
  readonly side: Side;
  readonly #maxPayload: number;
  readonly #maxFragments: number;
  readonly #maxPendingPongs: number;
  readonly #autoPong: boolean;
  readonly #autoCloseReply: boolean;
  readonly #skipUtf8: boolean;
  readonly #generateMask: ((key: Uint8Array) => void) | null;
  readonly #isUtf8: ((bytes: Uint8Array) => boolean) | null;
  readonly #codec: MessageCodec | null;
  readonly #expectMasked: boolean;

  // Input queue: chunks not yet consumed; #offset indexes into the first one.
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #buffered = 0;
  #readState: ReadState = ReadState.HEADER;

  // The frame being read.
  #fin = false;
  #rsv1 = false;
  #opcode = 0;
  #masked = false;
  #payloadLength = 0;
  #payloadRead = 0;
  /** The current frame's masking key, its four bytes packed little-end first. */
  #maskingKey = 0;

  // The data message being assembled.
  #messageOpcode = 0;
  #messageCompressed = false;
  #messageLength = 0;
  #messageFragments = 0;
  #messageBuffer: Uint8Array | null = null;
  /** The current message arrived whole in one chunk and was checked as a whole. */
  #messageWhole = false;
  /** Made when a text message first arrives in pieces. */
  #utf8: Utf8Validator | null = null;

  // The control frame being assembled when it spans chunks.
  /** Made when a control frame first arrives in pieces. */
  #controlBuffer: Uint8Array | null = null;
  #controlLength = 0;

  // Sending.
  #sendOpcode = 0; // opcode of an outgoing fragmented message in progress (0: none)
  #sendCompressing = false; // the outgoing message in progress is compressed
  #output: Uint8Array[] = [];
  #outputBytes = 0;
  /** Small frames are written here; [#slabStart, #slabUsed) is queued but not yet taken. */
  #slab: Uint8Array | null = null;
  #slabStart = 0;
  #slabUsed = 0;
  readonly #allocate: (size: number) => Uint8Array;
  readonly #mask: (data: Uint8Array, maskingKey: Uint8Array, phase: number) => void;
  #pendingPongs = 0;
  /** Past maxPendingPongs: the payload of the newest unanswered ping, answered at the next take. */
  #deferredPong: Uint8Array | null = null;
  /** The size of the deferred pong's frame, counted in outputBytes while it waits. */
  #deferredPongBytes = 0;

  #events: ConnectionEvent[] = [];

  // Closing.
  #closeSent = false;
  #closeReceived = false;
  #failed = false;
  #eof = false;
  #closeCode: number = CloseCode.ABNORMAL_CLOSURE;
  #closeReason: Uint8Array = EMPTY;
  #error: ProtocolError | null = null;

  constructor(options: ConnectionOptions) {
    this.side = options.side;
    this.#maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.#maxFragments = options.maxFragments ?? DEFAULT_MAX_FRAGMENTS;
    this.#maxPendingPongs = Math.max(1, options.maxPendingPongs ?? DEFAULT_MAX_PENDING_PONGS);
    this.#autoPong = options.autoPong ?? true;
    this.#autoCloseReply = options.autoCloseReply ?? true;
    this.#skipUtf8 = options.skipUtf8Validation ?? false;
    this.#isUtf8 = options.isUtf8 ?? null;
    this.#allocate = options.allocate ?? ((size) => new Uint8Array(size));
    this.#mask = options.mask ?? applyMask;
    this.#codec = options.codec ?? null;
    this.#expectMasked = this.side === 'server';
    if (this.side === 'client') {
      if (!options.generateMask) throw new UsageError('WS_ERR_NO_MASK_SOURCE', 'a client connection needs generateMask');
      this.#generateMask = options.generateMask;
    } else {
      this.#generateMask = null;
    }
  }

  // ---------------------------------------------------------------- state

  /** OPEN, then CLOSING once a close frame was sent or received (or the connection failed), then CLOSED once both close frames crossed or the transport ended. */
  get state(): ConnectionState {
    if (this.#eof || (this.#closeSent && this.#closeReceived)) return 'CLOSED';
    if (this.#closeSent || this.#closeReceived || this.#failed) return 'CLOSING';
    return 'OPEN';
  }

  /** The code of the close frame received, 1005 if it had none, 1006 if none arrived. */
  get closeCode(): number {
    return this.#closeCode;
  }

  get closeReason(): Uint8Array {
    return this.#closeReason;
  }

  get closeSent(): boolean {
    return this.#closeSent;
  }

  get closeReceived(): boolean {
    return this.#closeReceived;
  }

  /** The violation that failed the connection, if one did. */
  get error(): ProtocolError | null {
    return this.#error;
  }

  /** A fragmented message is being sent: its first frame went out, its last (fin) not yet. */
  get sendingFragments(): boolean {
    return this.#sendOpcode !== 0;
  }

  /** Bytes queued by send calls and not yet taken. */
  get outputBytes(): number {
    return this.#outputBytes;
  }

  /**
   * Should this endpoint close the transport now? RFC 6455 §7.1.1: the server closes the TCP
   * connection first once the close handshake is done; the client waits for it (and uses a
   * timeout of its own). After a failure (§7.1.7) either side closes once its close frame is out.
   */
  closeExpected(): boolean {
    if (this.#failed) return true;
    return this.side === 'server' && this.#closeSent && this.#closeReceived;
  }

  // ---------------------------------------------------------------- input

  /**
   * Feeds bytes received from the peer. Takes ownership of `data`: masked payloads are unmasked
   * in place and message events may hold views into it. Never throws.
   */
  receiveData(data: Uint8Array): void {
    if (this.#eof || this.#readState === ReadState.DISCARD || data.length === 0) return;
    this.#chunks.push(data);
    this.#buffered += data.length;
    try {
      this.#read();
    } catch (cause) {
      // A bug here must not escape to the transport: fail the connection as an internal error.
      this.fail(new ProtocolError('WS_ERR_INTERNAL', `internal error: ${String(cause)}`));
    }
  }

  /** The transport ended. A close frame that never arrived leaves the close code at 1006. */
  receiveEof(): void {
    if (this.#eof) return;
    this.#eof = true;
    this.#discardInput();
  }

  /** Events since the last call, in order. */
  takeEvents(): ConnectionEvent[] {
    const events = this.#events;
    if (events.length === 0) return events;
    this.#events = [];
    return events;
  }

  /** Bytes to send since the last call, in order; the caller writes them as they are. */
  takeOutput(): Uint8Array[] {
    this.#releaseDeferredPong();
    this.#closeSlabRegion();
    this.#slab = null;
    const output = this.#output;
    this.#pendingPongs = 0;
    if (output.length === 0) return output;
    this.#output = [];
    this.#outputBytes = 0;
    return output;
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): reports `error`, queues a close frame with its close
   * code unless one was already sent, and ignores all further input.
   */
  fail(error: ProtocolError): void {
    this.#fail(error, true);
  }

  /**
   * A violation found in the peer's bytes. With autoCloseReply false the close frame is left to
   * the caller (sendClose(error.closeCode) on the 'error' event), so replies to the messages that
   * arrived before the violation can still go out first.
   */
  #fail(error: ProtocolError, queueClose: boolean): void {
    if (this.#failed || this.#eof) return;
    this.#failed = true;
    this.#error = error;
    this.#events.push({ type: 'error', error });
    if (!this.#closeSent && queueClose) this.#queueClose(error.closeCode, EMPTY);
    this.#discardInput();
  }

  #discardInput(): void {
    this.#readState = ReadState.DISCARD;
    this.#chunks = [];
    this.#buffered = 0;
    this.#offset = 0;
    this.#messageBuffer = null;
    this.#messageWhole = false;
  }

  #failWith(code: ProtocolErrorCode): void {
    this.#fail(new ProtocolError(code), this.#autoCloseReply);
  }

  #peek(index: number): number {
    let i = index + this.#offset;
    for (const chunk of this.#chunks) {
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
    while (n > 0) {
      const first = this.#chunks[0]!;
      if (n < first.length) break;
      n -= first.length;
      this.#chunks.shift();
    }
    this.#offset = n;
  }

  #read(): void {
    while (this.#buffered > 0 || (this.#readState === ReadState.PAYLOAD && this.#payloadRead === this.#payloadLength)) {
      if (this.#readState === ReadState.HEADER) {
        if (!this.#readHeader()) return;
      } else if (this.#readState === ReadState.PAYLOAD) {
        this.#readPayload();
      } else {
        return;
      }
    }
  }

  /** Parses one frame header if it is all here; false when more bytes are needed or it failed. */
  #readHeader(): boolean {
    if (this.#buffered < 2) return false;
    // The header's bytes: read in place when the first chunk holds a whole header, otherwise
    // gathered into a scratch buffer (at most 14 bytes).
    let h = this.#chunks[0]!;
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

    // RFC 6455 §5.2: RSV bits must be 0 unless an extension defines them.
    if ((b0 & 0x20) !== 0) return this.#failWith('WS_ERR_UNEXPECTED_RSV_2'), false;
    if ((b0 & 0x10) !== 0) return this.#failWith('WS_ERR_UNEXPECTED_RSV_3'), false;
    // RFC 7692 §6: RSV1 marks a compressed message, only on its first frame, never on control frames.
    if (rsv1 && (this.#codec === null || isControl || opcode === Opcode.CONTINUATION)) {
      return this.#failWith('WS_ERR_UNEXPECTED_RSV_1'), false;
    }
    // RFC 6455 §5.2: unknown opcodes fail the connection.
    if (opcode > Opcode.BINARY && opcode < Opcode.CLOSE) return this.#failWith('WS_ERR_INVALID_OPCODE'), false;
    if (opcode > Opcode.PONG) return this.#failWith('WS_ERR_INVALID_OPCODE'), false;
    if (isControl) {
      // RFC 6455 §5.5: control frames are at most 125 bytes and never fragmented.
      if (!fin) return this.#failWith('WS_ERR_EXPECTED_FIN'), false;
      if (length7 > MAX_CONTROL_PAYLOAD) return this.#failWith('WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'), false;
    } else if (opcode === Opcode.CONTINUATION) {
      // RFC 6455 §5.4: a continuation frame needs an open fragmented message.
      if (this.#messageOpcode === 0) return this.#failWith('WS_ERR_UNEXPECTED_CONTINUATION'), false;
    } else if (this.#messageOpcode !== 0) {
      // RFC 6455 §5.4: fragments of different messages must not interleave.
      return this.#failWith('WS_ERR_EXPECTED_CONTINUATION'), false;
    }
    // RFC 6455 §5.1: clients mask every frame, servers none.
    if (masked !== this.#expectMasked) {
      return this.#failWith(this.#expectMasked ? 'WS_ERR_EXPECTED_MASK' : 'WS_ERR_UNEXPECTED_MASK'), false;
    }

    const extra = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
    const headerSize = 2 + extra + (masked ? 4 : 0);
    if (this.#buffered < headerSize) return false;

    let payloadLength = length7;
    if (length7 === 126) {
      payloadLength = (h[at + 2]! << 8) | h[at + 3]!;
      // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
      if (payloadLength < 126) return this.#failWith('WS_ERR_NON_MINIMAL_LENGTH'), false;
    } else if (length7 === 127) {
      const hi = ((h[at + 2]! << 24) | (h[at + 3]! << 16) | (h[at + 4]! << 8) | h[at + 5]!) >>> 0;
      const lo = ((h[at + 6]! << 24) | (h[at + 7]! << 16) | (h[at + 8]! << 8) | h[at + 9]!) >>> 0;
      // RFC 6455 §5.2: the most significant bit of a 64-bit length must be 0.
      if (hi & 0x80000000) return this.#failWith('WS_ERR_INVALID_PAYLOAD_LENGTH'), false;
      // 2^40 bytes (1 TiB) and more is too big by any limit, maxPayload 0 included: such a length
      // could not be buffered anyway, and past 2^53 - 1 it is not even exact in a JS number.
      if (hi > 0xff) return this.#failWith('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'), false;
      payloadLength = hi * 0x100000000 + lo;
      if (payloadLength < 0x10000) return this.#failWith('WS_ERR_NON_MINIMAL_LENGTH'), false;
    }

    if (!isControl) {
      // Limits are checked on the declared length, before any byte of the payload is stored.
      if (this.#maxPayload > 0 && this.#messageLength + payloadLength > this.#maxPayload) {
        return this.#failWith('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'), false;
      }
      if (this.#maxFragments > 0 && this.#messageFragments + 1 > this.#maxFragments) {
        return this.#failWith('WS_ERR_TOO_MANY_FRAGMENTS'), false;
      }
      if (opcode !== Opcode.CONTINUATION) {
        this.#messageOpcode = opcode;
        this.#messageCompressed = rsv1;
        this.#utf8?.reset();
      }
      this.#messageFragments++;
    } else {
      this.#controlLength = 0;
    }

    if (masked) {
      const k = at + headerSize - 4;
      this.#maskingKey = (h[k]! | (h[k + 1]! << 8) | (h[k + 2]! << 16) | (h[k + 3]! << 24)) >>> 0;
    }
    this.#fin = fin;
    this.#rsv1 = rsv1;
    this.#opcode = opcode;
    this.#masked = masked;
    this.#payloadLength = payloadLength;
    this.#payloadRead = 0;
    this.#skip(headerSize);
    this.#readState = ReadState.PAYLOAD;
    return true;
  }

  /** Hands over the part of the current payload that is here, then finishes the frame if it is complete. */
  #readPayload(): void {
    const remaining = this.#payloadLength - this.#payloadRead;
    if (remaining > 0) {
      const chunk = this.#chunks[0]!;
      const start = this.#offset;
      const take = Math.min(remaining, chunk.length - start);
      const piece = start === 0 && take === chunk.length ? chunk : chunk.subarray(start, start + take);
      if (this.#masked) {
        const key = this.#maskingKey;
        keyScratch[0] = key & 0xff;
        keyScratch[1] = (key >>> 8) & 0xff;
        keyScratch[2] = (key >>> 16) & 0xff;
        keyScratch[3] = key >>> 24;
        this.#mask(piece, keyScratch, this.#payloadRead);
      }
      const whole = this.#payloadRead === 0 && take === this.#payloadLength;
      this.#payloadRead += take;
      this.#skip(take);
      if (this.#opcode >= 0x8) this.#controlPiece(piece, whole);
      else if (!this.#dataPiece(piece, whole)) return;
    }
    if (this.#payloadRead === this.#payloadLength && this.#readState === ReadState.PAYLOAD) {
      this.#readState = ReadState.HEADER;
      if (this.#opcode >= 0x8) this.#controlFrameEnd();
      else if (this.#fin) this.#messageEnd();
    }
  }

  #controlPiece(piece: Uint8Array, whole: boolean): void {
    if (whole) {
      // Whole control frame in one chunk: keep the view, copy nothing.
      this.#controlWhole = piece;
      return;
    }
    this.#controlWhole = null;
    (this.#controlBuffer ??= new Uint8Array(MAX_CONTROL_PAYLOAD)).set(piece, this.#controlLength);
    this.#controlLength += piece.length;
  }

  #controlWhole: Uint8Array | null = null;

  #controlFrameEnd(): void {
    const payload =
      this.#payloadLength === 0
        ? EMPTY
        : (this.#controlWhole ?? this.#controlBuffer!.slice(0, this.#controlLength));
    this.#controlWhole = null;
    switch (this.#opcode) {
      case Opcode.PING:
        this.#events.push({ type: 'ping', data: payload });
        if (this.#autoPong && !this.#closeSent) this.#queuePong(payload);
        return;
      case Opcode.PONG:
        this.#events.push({ type: 'pong', data: payload });
        return;
      default:
        this.#closeFrameReceived(payload);
    }
  }

  #closeFrameReceived(payload: Uint8Array): void {
    let code: number = CloseCode.NO_STATUS_RECEIVED;
    let reason = EMPTY;
    if (payload.length === 1) return this.#failWith('WS_ERR_INVALID_CLOSE_PAYLOAD');
    if (payload.length >= 2) {
      code = (payload[0]! << 8) | payload[1]!;
      // RFC 6455 §7.4: only codes defined for the wire may be received.
      if (!isValidCloseCode(code)) return this.#failWith('WS_ERR_INVALID_CLOSE_CODE');
      reason = payload.subarray(2);
      // RFC 6455 §5.5.1: the reason is UTF-8.
      if (!isValidUtf8(reason)) return this.#failWith('WS_ERR_INVALID_CLOSE_UTF8');
    }
    this.#closeReceived = true;
    this.#closeCode = code;
    this.#closeReason = reason;
    this.#events.push({ type: 'close', code, reason });
    // RFC 6455 §5.5.1: answer with a close frame echoing code and reason, unless one was sent already.
    if (!this.#closeSent && this.#autoCloseReply) {
      this.#queueClose(code === CloseCode.NO_STATUS_RECEIVED ? 0 : code, reason);
    }
    // RFC 6455 §5.5.1: nothing after a close frame counts.
    this.#discardInput();
  }

  /** Returns false when the piece failed the connection. */
  #dataPiece(piece: Uint8Array, whole: boolean): boolean {
    const text = this.#messageOpcode === Opcode.TEXT && !this.#messageCompressed && !this.#skipUtf8;
    if (whole && this.#fin && this.#messageFragments === 1) {
      // Fast path: an unfragmented message wholly in one chunk is handed out as a view.
      if (text && !(this.#isUtf8 ? this.#isUtf8(piece) : isValidUtf8(piece))) {
        this.#failWith('WS_ERR_INVALID_UTF8');
        return false;
      }
      this.#messageBuffer = piece;
      this.#messageLength = piece.length;
      this.#messageWhole = true;
      return true;
    }
    // RFC 6455 §8.1: fail as soon as an invalid byte arrives, not at the end of the message.
    if (text && !(this.#utf8 ??= new Utf8Validator()).update(piece)) {
      this.#failWith('WS_ERR_INVALID_UTF8');
      return false;
    }
    if (piece.length > 0) this.#append(piece);
    return true;
  }

  /**
   * Copies a piece into the message buffer. The buffer grows with the bytes that arrived (it
   * doubles), never with what a header merely declares, so a peer that declares a huge frame
   * and sends little costs little, with or without maxPayload.
   */
  #append(piece: Uint8Array): void {
    const needed = this.#messageLength + piece.length;
    let buffer = this.#messageBuffer;
    if (buffer === null || buffer.length < needed) {
      const frameRest = this.#payloadLength - this.#payloadRead;
      let capacity: number;
      if (this.#fin && this.#messageFragments === 1 && this.#payloadLength <= PREALLOCATE_LIMIT) {
        capacity = this.#payloadLength; // one frame of known, modest size: allocate once
      } else {
        capacity = Math.max(needed, (buffer?.length ?? 0) * 2, 16 * 1024);
        // The last frame of a message says exactly how much is still to come.
        if (this.#fin) capacity = Math.min(capacity, needed + frameRest);
        if (this.#maxPayload > 0) capacity = Math.min(capacity, this.#maxPayload);
        capacity = Math.max(capacity, needed);
      }
      const grown = new Uint8Array(capacity);
      if (buffer !== null && this.#messageLength > 0) grown.set(buffer.subarray(0, this.#messageLength));
      buffer = grown;
      this.#messageBuffer = buffer;
    }
    buffer.set(piece, this.#messageLength);
    this.#messageLength = needed;
  }

  #messageEnd(): void {
    const opcode = this.#messageOpcode;
    const buffer = this.#messageBuffer;
    const length = this.#messageLength;
    const data = length === 0 ? EMPTY : buffer!.length === length ? buffer! : buffer!.subarray(0, length);
    const compressed = this.#messageCompressed;
    const text = opcode === Opcode.TEXT;
    const checkedWhole = this.#messageWhole;
    this.#messageWhole = false;
    this.#messageOpcode = 0;
    this.#messageCompressed = false;
    this.#messageLength = 0;
    this.#messageFragments = 0;
    this.#messageBuffer = null;
    if (compressed) {
      this.#inflateMessage(data, text);
      return;
    }
    if (text && !this.#skipUtf8 && !checkedWhole && this.#utf8 !== null && !this.#utf8.isComplete()) {
      // The message ended inside a multi-byte sequence.
      return this.#failWith('WS_ERR_INVALID_UTF8');
    }
    this.#events.push({ type: 'message', data, binary: !text });
  }

  #inflateMessage(data: Uint8Array, text: boolean): void {
    const result = this.#codec!.decompress(data, this.#maxPayload);
    if (result instanceof ProtocolError) return this.#fail(result, this.#autoCloseReply);
    if (text && !this.#skipUtf8 && !(this.#isUtf8 ? this.#isUtf8(result) : isValidUtf8(result))) {
      return this.#failWith('WS_ERR_INVALID_UTF8');
    }
    this.#events.push({ type: 'message', data: result, binary: !text });
  }

  // ---------------------------------------------------------------- output

  /**
   * Queues a data frame. `binary` picks the opcode of the first frame; with `fin: false` the
   * message stays open and later calls send continuation frames. With `owned`, the caller gives
   * up `data`: a client masks it in place instead of copying it. With a codec negotiated,
   * `compress` lets the message be compressed (RSV1 on its first frame only, RFC 7692 §6), if
   * its first frame reaches the codec's threshold.
   * Throws UsageError after a close frame was sent (RFC 6455 §5.5.1: no data after close).
   */
  send(data: Uint8Array, binary: boolean, fin = true, owned = false, compress = true): void {
    this.#assertCanSend();
    let opcode: number;
    let rsv1 = false;
    if (this.#sendOpcode !== 0) {
      opcode = Opcode.CONTINUATION;
    } else {
      opcode = binary ? Opcode.BINARY : Opcode.TEXT;
      this.#sendCompressing = this.#codec !== null && compress && this.#codec.shouldCompress(data.length);
      rsv1 = this.#sendCompressing;
      if (!fin) this.#sendOpcode = opcode;
    }
    let payload = data;
    if (this.#sendCompressing) {
      payload = this.#codec!.compress(data, fin);
      owned = true;
    }
    if (fin) {
      this.#sendOpcode = 0;
      this.#sendCompressing = false;
    }
    this.#queueFrame(opcode, payload, fin, rsv1, owned);
  }

  /**
   * Queues a whole frame encoded elsewhere, byte for byte: how a server sends one framed (and
   * perhaps compressed) message to many connections. Server side only (frames are unmasked).
   */
  sendFrame(frame: Uint8Array): void {
    this.#assertCanSend();
    if (this.side !== 'server') throw new UsageError('WS_ERR_PREPARED_CLIENT', 'clients must mask each frame themselves');
    if (this.#sendOpcode !== 0) throw new UsageError('WS_ERR_FRAGMENT_OPEN', 'a fragmented message is being sent');
    this.#closeSlabRegion();
    this.#output.push(frame);
    this.#outputBytes += frame.length;
  }

  sendPing(data: Uint8Array = EMPTY): void {
    this.#assertCanSend();
    this.#assertControlLength(data);
    this.#queueFrame(Opcode.PING, data, true, false, false);
  }

  sendPong(data: Uint8Array = EMPTY): void {
    this.#assertCanSend();
    this.#assertControlLength(data);
    this.#queueFrame(Opcode.PONG, data, true, false, false);
  }

  /**
   * Starts (or answers) the closing handshake. `code` omitted sends an empty close frame. Does
   * nothing if a close frame was already sent: at most one is ever sent.
   */
  sendClose(code?: number, reason: Uint8Array = EMPTY): void {
    if (this.#closeSent || this.#eof) return;
    if (code === undefined) {
      if (reason.length > 0) throw new UsageError('WS_ERR_INVALID_CLOSE_ARGS', 'a close reason needs a close code');
      this.#queueClose(0, EMPTY);
      return;
    }
    if (!isValidCloseCode(code)) throw new UsageError('WS_ERR_INVALID_CLOSE_CODE', `invalid close code ${code}`);
    if (reason.length > MAX_CLOSE_REASON) throw new UsageError('WS_ERR_CLOSE_REASON_TOO_LONG', 'close reason longer than 123 bytes');
    this.#queueClose(code, reason);
  }

  #assertCanSend(): void {
    if (this.#closeSent) throw new UsageError('WS_ERR_CLOSE_SENT', 'a close frame was already sent');
    if (this.#eof) throw new UsageError('WS_ERR_CLOSED', 'the connection is closed');
  }

  #assertControlLength(data: Uint8Array): void {
    if (data.length > MAX_CONTROL_PAYLOAD) {
      throw new UsageError('WS_ERR_CONTROL_TOO_LONG', 'control frame payload longer than 125 bytes');
    }
  }

  /** Queues the pong that waited for the next take (the newest ping past the cap). */
  #releaseDeferredPong(): void {
    const payload = this.#deferredPong;
    if (payload === null) return;
    this.#deferredPong = null;
    this.#outputBytes -= this.#deferredPongBytes;
    this.#deferredPongBytes = 0;
    if (!this.#closeSent) this.#queueFrame(Opcode.PONG, payload, true, false, false);
  }

  /** code 0: an empty close frame. */
  #queueClose(code: number, reason: Uint8Array): void {
    this.#releaseDeferredPong();
    this.#closeSent = true;
    let payload = EMPTY;
    if (code !== 0) {
      payload = new Uint8Array(2 + reason.length);
      payload[0] = code >>> 8;
      payload[1] = code & 0xff;
      payload.set(reason, 2);
    }
    this.#queueFrame(Opcode.CLOSE, payload, true, false, true);
  }

  #queuePong(payload: Uint8Array): void {
    if (this.#pendingPongs >= this.#maxPendingPongs) {
      // RFC 6455 §5.5.3: answering only the most recent ping is allowed. Keep its payload (a
      // copy: it may be a view of input) and answer it when the output is next taken.
      this.#deferredPong = payload.slice();
      const bytes = frameHeaderSize(payload.length, this.side === 'client') + payload.length;
      this.#outputBytes += bytes - this.#deferredPongBytes;
      this.#deferredPongBytes = bytes;
      return;
    }
    this.#queueFrame(Opcode.PONG, payload, true, false, false);
    this.#pendingPongs++;
  }

  #nextMask(): Uint8Array | null {
    if (this.#generateMask === null) return null;
    // The key is used at once, for the frame being queued.
    this.#generateMask(keyScratch);
    return keyScratch;
  }

  #queueFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv1: boolean, owned: boolean): void {
    const key = this.#nextMask();
    const length = payload.length;
    const headerSize = frameHeaderSize(length, key !== null);
    if (length <= MERGE_LIMIT || (key !== null && !owned)) {
      // Header and payload together in the slab: small payloads, and client payloads we may
      // not mask in place. This is the payload's one copy.
      const total = headerSize + length;
      const slab = this.#reserve(total);
      const at = this.#slabUsed;
      writeFrameHeader(slab, at, fin, rsv1, opcode, length, key);
      if (key && length < MASK_IN_PLACE_LENGTH) maskInto(payload, slab, at + headerSize, key);
      else {
        slab.set(payload, at + headerSize);
        // Long payloads: copy, then mask in place with the (possibly faster) mask function.
        if (key) this.#mask(slab.subarray(at + headerSize, at + total), key, 0);
      }
      this.#slabUsed = at + total;
      this.#outputBytes += total;
      return;
    }
    const slab = this.#reserve(headerSize);
    writeFrameHeader(slab, this.#slabUsed, fin, rsv1, opcode, length, key);
    this.#slabUsed += headerSize;
    this.#closeSlabRegion();
    if (key) this.#mask(payload, key, 0);
    this.#output.push(payload);
    this.#outputBytes += headerSize + length;
  }

  /** Makes room for `size` bytes in the slab, starting a new slab when the current one is full. */
  #reserve(size: number): Uint8Array {
    const slab = this.#slab;
    if (slab !== null && slab.length - this.#slabUsed >= size) return slab;
    this.#closeSlabRegion();
    const fresh = this.#allocate(Math.max(SLAB_SIZE, size));
    this.#slab = fresh;
    this.#slabStart = 0;
    this.#slabUsed = 0;
    return fresh;
  }

  /** Moves the queued part of the slab to the output list (as a view: no copy). */
  #closeSlabRegion(): void {
    if (this.#slabUsed > this.#slabStart) {
      this.#output.push(this.#slab!.subarray(this.#slabStart, this.#slabUsed));
      this.#slabStart = this.#slabUsed;
    }
  }
}
