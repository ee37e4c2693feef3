/**
 * The Sans-I/O WebSocket connection: one endpoint of RFC 6455 after the opening handshake.
 * Bytes in (`receiveData`, `receiveEof`), events and bytes out (`takeEvents`, `takeOutput`).
 * It composes the frame reader (frame-reader.ts, §5.2-§5.5 framing rules), the message
 * assembler (message-assembler.ts, §5.4 fragments, §8.1 UTF-8, limits, RFC 7692 inflation) and
 * the output queue (output-queue.ts, framing what is sent), and owns what they share: the
 * connection's state, control frames (§5.5.2-§5.5.3 ping and pong, §5.5.1 and §7 closing), and
 * the event list.
 *
 * Invariants:
 *  - the receive path never throws: every violation becomes `fail(error)`, which queues exactly
 *    one close frame with the error's close code (left to the caller with autoCloseReply: false)
 *    and discards all further input;
 *  - at most one close frame is ever sent;
 *  - the client masks every frame it sends, the server never does;
 *  - memory held for one message is bounded by `maxPayload`, whatever the fragmentation.
 * Must not: import anything outside protocol/ (no sockets, timers or zlib), or allocate on the
 * per-frame happy path beyond views and the events themselves.
 */
import { CloseCode, MAX_CLOSE_REASON, MAX_CONTROL_PAYLOAD, Opcode, isValidCloseCode } from './constants.js';
import { ProtocolError, UsageError, type ProtocolErrorCode } from './errors.js';
import { FrameReader, ReadStep } from './frame-reader.js';
import { applyMask, maskInto } from './mask.js';
import { MessageAssembler } from './message-assembler.js';
import { NO_OUTPUT, OutputQueue } from './output-queue.js';
import type { SendFrameOptions } from './send-frame-options.js';
import { isValidUtf8 } from './utf8-validator.js';
import { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD, DEFAULT_MAX_PENDING_PONGS } from './connection-options.js';
import type { ConnectionEvent, ConnectionOptions, ConnectionState, Side } from './connection-options.js';

export {
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_MAX_PENDING_PONGS,
  type ConnectionEvent,
  type ConnectionOptions,
  type ConnectionState,
  type Side,
} from './connection-options.js';

const EMPTY: Uint8Array = new Uint8Array(0);
/**
 * What takeEvents returns when there is nothing (takeOutput returns the output queue's
 * NO_OUTPUT): shared by every connection, so an idle one holds no lists of its own. Callers
 * read these lists and never change them.
 */
const NO_EVENTS: ConnectionEvent[] = [];

/** Connection#flags bits. */
const CLOSE_RECEIVED = 1;
const FAILED = 2;
const EOF = 4;

/** The close frame received (code 1006 and no reason if none arrived) and the violation, if one failed the connection. */
interface Outcome {
  closeCode: number;
  closeReason: Uint8Array;
  error: ProtocolError | null;
}

function allocateBytes(size: number): Uint8Array {
  return new Uint8Array(size);
}

export class Connection {
  readonly side: Side;
  /**
   * The options given (one object may serve all of a server's connections), read again when the
   * assembler and the output queue are made: first needed, and dropped again when idle.
   */
  readonly #options: ConnectionOptions;
  readonly #reader: FrameReader;
  #assembler: MessageAssembler | null = null;
  #output: OutputQueue | null = null;

  /** Events not yet taken; null when there are none. */
  #events: ConnectionEvent[] | null = null;

  /**
   * CLOSE_RECEIVED | FAILED | EOF: one field for the three (whether the close frame was sent is
   * the output queue's).
   */
  #flags = 0;
  /** How the connection ended: made when a close frame arrives or the connection fails. */
  #outcome: Outcome | null = null;

  constructor(options: ConnectionOptions) {
    this.side = options.side;
    if (this.side === 'client' && !options.generateMask) {
      throw new UsageError('WS_ERR_NO_MASK_SOURCE', 'a client connection needs generateMask');
    }
    this.#options = options;
    this.#reader = new FrameReader({
      expectMasked: this.side === 'server',
      allowRsv1: (options.codec ?? null) !== null,
      mask: options.mask ?? applyMask,
      maskInto: options.maskInto ?? maskInto,
    });
  }

  /** Makes the message assembler, when the first bytes arrive. */
  #makeAssembler(): MessageAssembler {
    const options = this.#options;
    return (this.#assembler = new MessageAssembler({
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      maxFragments: options.maxFragments ?? DEFAULT_MAX_FRAGMENTS,
      skipUtf8Validation: options.skipUtf8Validation ?? false,
      isUtf8: options.isUtf8 ?? null,
      codec: options.codec ?? null,
      allocate: options.allocate ?? allocateBytes,
    }));
  }

  /** The output queue, made when the first frame is queued. */
  #queue(): OutputQueue {
    if (this.#output !== null) return this.#output;
    const options = this.#options;
    return (this.#output = new OutputQueue({
      generateMask: this.side === 'client' ? options.generateMask! : null,
      mask: options.mask ?? applyMask,
      allocate: options.allocate ?? allocateBytes,
      maxPendingPongs: options.maxPendingPongs ?? DEFAULT_MAX_PENDING_PONGS,
      codec: options.codec ?? null,
    }));
  }

  /** The outcome record, made the first time the connection ends or fails. */
  #ending(): Outcome {
    return (this.#outcome ??= { closeCode: CloseCode.ABNORMAL_CLOSURE, closeReason: EMPTY, error: null });
  }

  /** Whether a violation found in the input queues its close frame (autoCloseReply). */
  get #closeReply(): boolean {
    return this.#options.autoCloseReply !== false;
  }

  #emit(event: ConnectionEvent): void {
    const events = this.#events;
    if (events === null) this.#events = [event];
    else events.push(event);
  }

  // ---------------------------------------------------------------- state

  /** OPEN, then CLOSING once a close frame was sent or received (or the connection failed), then CLOSED once both close frames crossed or the transport ended. */
  get state(): ConnectionState {
    const closeSent = this.closeSent;
    const flags = this.#flags;
    if ((flags & EOF) !== 0 || (closeSent && (flags & CLOSE_RECEIVED) !== 0)) return 'CLOSED';
    if (closeSent || (flags & (CLOSE_RECEIVED | FAILED)) !== 0) return 'CLOSING';
    return 'OPEN';
  }

  /** The code of the close frame received, 1005 if it had none, 1006 if none arrived. */
  get closeCode(): number {
    const outcome = this.#outcome;
    return outcome === null ? CloseCode.ABNORMAL_CLOSURE : outcome.closeCode;
  }

  get closeReason(): Uint8Array {
    const outcome = this.#outcome;
    return outcome === null ? EMPTY : outcome.closeReason;
  }

  get closeSent(): boolean {
    const output = this.#output;
    return output !== null && output.closeSent;
  }

  get closeReceived(): boolean {
    return (this.#flags & CLOSE_RECEIVED) !== 0;
  }

  /** The violation that failed the connection, if one did. */
  get error(): ProtocolError | null {
    const outcome = this.#outcome;
    return outcome === null ? null : outcome.error;
  }

  /** A fragmented message is being sent: its first frame went out, its last (fin) not yet. */
  get sendingFragments(): boolean {
    const output = this.#output;
    return output !== null && output.fragmenting;
  }

  /** Bytes queued by send calls and not yet taken. */
  get outputBytes(): number {
    const output = this.#output;
    return output === null ? 0 : output.bytes;
  }

  /**
   * Should this endpoint close the transport now? RFC 6455 §7.1.1: the server closes the TCP
   * connection first once the close handshake is done; the client waits for it (and uses a
   * timeout of its own). After a failure (§7.1.7) either side closes once its close frame is out.
   */
  closeExpected(): boolean {
    if ((this.#flags & FAILED) !== 0) return true;
    return this.side === 'server' && this.closeSent && (this.#flags & CLOSE_RECEIVED) !== 0;
  }

  // ---------------------------------------------------------------- input

  /**
   * Feeds bytes received from the peer. Takes ownership of `data`: masked payloads are unmasked
   * in place and message events may hold views into it. A `borrowed` chunk is only lent for the
   * call (a read buffer about to be reused): events then hold copies, and nothing keeps a view
   * of it once this returns. Never throws.
   */
  receiveData(data: Uint8Array, borrowed = false): void {
    if ((this.#flags & EOF) !== 0 || this.#reader.discarding || data.length === 0) return;
    // A lent chunk that starts with a short frame (most likely a run of small messages) is copied
    // whole: its messages are then views of one copy, not a copy each. A chunk that starts with
    // a long frame, or goes on with a payload, stays lent and each message is copied out once.
    if (borrowed && data.length > 1 && (data[1]! & 0x7f) < 126 && this.#reader.atNewFrame) {
      const copy = (this.#options.allocate ?? allocateBytes)(data.length);
      copy.set(data);
      data = copy;
      borrowed = false;
    }
    this.#reader.push(data, borrowed);
    try {
      this.#read();
    } catch (cause) {
      // A bug here must not escape to the transport: fail the connection as an internal error.
      this.fail(new ProtocolError('WS_ERR_INTERNAL', `internal error: ${String(cause)}`));
    } finally {
      if (borrowed) this.#reader.settle();
    }
  }

  /** The transport ended. A close frame that never arrived leaves the close code at 1006. */
  receiveEof(): void {
    if ((this.#flags & EOF) !== 0) return;
    this.#flags |= EOF;
    this.#discardInput();
  }

  /**
   * Once per idle period: drops the assembler and the output queue if they hold nothing (the
   * shape after the opening handshake); the next frame received or sent makes them again.
   */
  releaseIdle(): void {
    if (this.#reader.idle) this.#assembler = null;
    const output = this.#output;
    if (output !== null && output.bytes === 0 && !output.fragmenting && !output.closeSent) this.#output = null;
  }

  /** Events since the last call, in order. */
  takeEvents(): ConnectionEvent[] {
    const events = this.#events;
    if (events === null) return NO_EVENTS;
    this.#events = null;
    return events;
  }

  /** Bytes to send since the last call, in order; the caller writes them as they are. */
  takeOutput(): Uint8Array[] {
    const output = this.#output;
    return output === null ? NO_OUTPUT : output.take();
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
    if ((this.#flags & (FAILED | EOF)) !== 0) return;
    this.#flags |= FAILED;
    this.#ending().error = error;
    this.#emit({ type: 'error', error });
    if (queueClose) this.#queue().close(error.closeCode, EMPTY);
    this.#discardInput();
  }

  #failWith(code: ProtocolErrorCode, detail?: number): void {
    this.#fail(new ProtocolError(code, undefined, detail), this.#closeReply);
  }

  #discardInput(): void {
    this.#reader.discard();
    this.#assembler?.discard();
  }

  /** Runs the reader over the buffered bytes, handing each step to the assembler or the control handling. */
  #read(): void {
    const reader = this.#reader;
    for (;;) {
      const step = reader.next();
      if (step === ReadStep.PIECE) {
        if (reader.opcode < 0x8) {
          const assembler = this.#assembler!;
          if (!assembler.dataPiece(reader)) return this.#fail(assembler.error!, this.#closeReply);
          if (reader.frameEnded && reader.fin && !this.#messageEnd()) return;
        } else if (reader.frameEnded && reader.whole && !reader.borrowed) {
          // A control frame whole in one chunk (a heartbeat's pong): no assembler needed.
          this.#controlFrame(reader.opcode, reader.piece);
        } else {
          const assembler = this.#assembler ?? this.#makeAssembler();
          assembler.controlPiece(reader.piece, reader.borrowed);
          if (reader.frameEnded) this.#controlFrame(reader.opcode, assembler.controlPayload());
        }
      } else if (step === ReadStep.HEADER) {
        const opcode = reader.opcode;
        if (opcode < 0x8) {
          const assembler = this.#assembler ?? this.#makeAssembler();
          if (!assembler.frameStart(opcode, reader.rsv1, reader.fin, reader.payloadLength)) return this.#fail(assembler.error!, this.#closeReply);
          if (reader.frameEnded && reader.fin && !this.#messageEnd()) return;
        } else if (reader.frameEnded) this.#controlFrame(opcode, EMPTY);
        else (this.#assembler ?? this.#makeAssembler()).controlStart(reader.payloadLength);
      } else if (step === ReadStep.ERROR) return this.#fail(reader.error!, this.#closeReply);
      else return;
    }
  }

  /** The last frame of a data message ended; false when the message failed the connection. */
  #messageEnd(): boolean {
    const assembler = this.#assembler!;
    const data = assembler.finish();
    if (data === null) {
      this.#fail(assembler.error!, this.#closeReply);
      return false;
    }
    this.#emit({ type: 'message', data, binary: assembler.binary });
    return true;
  }

  #controlFrame(opcode: number, payload: Uint8Array): void {
    switch (opcode) {
      case Opcode.PING:
        this.#emit({ type: 'ping', data: payload });
        if (this.#options.autoPong !== false && !this.closeSent) this.#queue().pong(payload);
        return;
      case Opcode.PONG:
        this.#emit({ type: 'pong', data: payload });
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
      if (!isValidCloseCode(code)) return this.#failWith('WS_ERR_INVALID_CLOSE_CODE', code);
      reason = payload.subarray(2);
      // RFC 6455 §5.5.1: the reason is UTF-8.
      if (!isValidUtf8(reason)) return this.#failWith('WS_ERR_INVALID_CLOSE_UTF8');
    }
    this.#flags |= CLOSE_RECEIVED;
    const outcome = this.#ending();
    outcome.closeCode = code;
    outcome.closeReason = reason;
    this.#emit({ type: 'close', code, reason });
    // RFC 6455 §5.5.1: answer with a close frame echoing code and reason, unless one was sent already.
    if (this.#closeReply) this.#queue().close(code === CloseCode.NO_STATUS_RECEIVED ? 0 : code, reason);
    // RFC 6455 §5.5.1: nothing after a close frame counts.
    this.#discardInput();
  }

  // ---------------------------------------------------------------- output

  /**
   * Queues a data frame. `options.binary` picks the opcode of the first frame; with `fin: false`
   * the message stays open and later calls send continuation frames. With `owned`, the caller
   * gives up `data`: a client masks it in place instead of copying it. With a codec negotiated,
   * `compress` lets the message be compressed (RSV1 on its first frame only, RFC 7692 §6), if
   * its first frame reaches the codec's threshold. On the hot path pass a shared options object
   * (`sendFrameOptions(...)` or a module constant), not a fresh one per message.
   * Throws UsageError after a close frame was sent (RFC 6455 §5.5.1: no data after close).
   */
  send(data: Uint8Array, options: SendFrameOptions): void {
    const output = this.#queue();
    if (output.closeSent || (this.#flags & EOF) !== 0) this.#assertCanSend();
    output.message(data, options.binary, options.fin !== false, options.owned === true, options.compress !== false);
  }

  /**
   * Queues a whole frame encoded elsewhere, byte for byte: how a server sends one framed (and
   * perhaps compressed) message to many connections. Server side only (frames are unmasked).
   */
  sendFrame(frame: Uint8Array): void {
    this.#assertCanSend();
    if (this.side !== 'server') throw new UsageError('WS_ERR_PREPARED_CLIENT', 'clients must mask each frame themselves');
    const output = this.#queue();
    if (output.fragmenting) throw new UsageError('WS_ERR_FRAGMENT_OPEN', 'a fragmented message is being sent');
    output.raw(frame);
  }

  sendPing(data: Uint8Array = EMPTY): void {
    this.#assertCanSend();
    this.#assertControlLength(data);
    this.#queue().control(Opcode.PING, data);
  }

  sendPong(data: Uint8Array = EMPTY): void {
    this.#assertCanSend();
    this.#assertControlLength(data);
    this.#queue().control(Opcode.PONG, data);
  }

  /**
   * Starts (or answers) the closing handshake. `code` omitted sends an empty close frame. Does
   * nothing if a close frame was already sent: at most one is ever sent.
   */
  sendClose(code?: number, reason: Uint8Array = EMPTY): void {
    if (this.closeSent || (this.#flags & EOF) !== 0) return;
    if (code === undefined) {
      if (reason.length > 0) throw new UsageError('WS_ERR_INVALID_CLOSE_ARGS', 'a close reason needs a close code');
      this.#queue().close(0, EMPTY);
      return;
    }
    if (!isValidCloseCode(code)) throw new UsageError('WS_ERR_INVALID_CLOSE_CODE', `invalid close code ${code}`);
    if (reason.length > MAX_CLOSE_REASON) throw new UsageError('WS_ERR_CLOSE_REASON_TOO_LONG', 'close reason longer than 123 bytes');
    this.#queue().close(code, reason);
  }

  #assertCanSend(): void {
    if (this.closeSent) throw new UsageError('WS_ERR_CLOSE_SENT', 'a close frame was already sent');
    if ((this.#flags & EOF) !== 0) throw new UsageError('WS_ERR_CLOSED', 'the connection is closed');
  }

  #assertControlLength(data: Uint8Array): void {
    if (data.length > MAX_CONTROL_PAYLOAD) {
      throw new UsageError('WS_ERR_CONTROL_TOO_LONG', 'control frame payload longer than 125 bytes');
    }
  }
}
