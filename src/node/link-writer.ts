/**
 * The sending half of a Link (link.ts): sends, prepared frames (fan-out), control frames and
 * Blobs go into the Sans-I/O core, and what it queued leaves in one socket write per tick (the
 * write scheduler), at the end of the input being handled, or at once for a publication reaching
 * a connection with nothing queued. The backpressure policy (send-policy.ts) decides what a
 * backed-up connection holds or drops. Link adds reading and the closing handshake.
 * Must not: read the socket or run the closing handshake (link.ts does), or parse frames.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Connection } from '../protocol/connection.js';
import { ReadyState } from '../protocol/constants.js';
import { UsageError } from '../protocol/errors.js';
import { sendFrameOptions } from '../protocol/send-frame-options.js';
import type { SendResult } from '../pubsub/pubsub.js';
import { BlobQueue } from './blob-queue.js';
import { toBytes, type SendData } from './bytes/to-bytes.js';
import type { DeflateCodec } from './compression/deflate-codec.js';
import { countOut } from './diagnostics.js';
import type { ConnectionHost, ConnectionOwner, SocketHandlers, TransportEnding } from './internal.js';
import type { Callback, SendOptions } from './options.js';
import { againstSide, frameMaskedAs } from './mask-override.js';
import type { PreparedMessage } from './prepared-message.js';
import { SOCKET_ENDING, takeOver } from './socket-listeners.js';
import { HandleTransport } from './handle-transport.js';
import type { Backlog, Backpressured, DropReason } from './send-policy.js';
import { queuedInHandle, writeDirect, writesDirectly, type DirectWriter } from './socket-write.js';
import { writeOutput, writeScheduler, type ScheduledWriter } from './write-scheduler.js';

export const EMPTY_BUFFER = Buffer.alloc(0);
/** #writeState bits: input is being handled (receive() runs). */
export const RECEIVING = 1;
/** A write is queued in the write scheduler. */
export const WRITE_SCHEDULED = 2;
/** A write is due when the input being handled is done. */
export const WRITE_AFTER_RECEIVE = 4;
/** cork() runs: everything sent goes in one write, a publication too. */
const CORKED = 8;
/** The socket takes direct writes (socket-write.ts): set once, when the socket is attached. */
export const DIRECT = 16;
/** The user paused reading (pause()). */
const PAUSED = 32;
/**
 * A direct write waits in libuv's queue. Without one, that queue holds only stream-path writes,
 * which the socket's writableLength counts until they are done. (64 and 128 are link.ts's.)
 */
const DIRECT_QUEUED = 256;
/** While any of these holds, a publication waits for the write that is due. */
export const WRITE_PENDING = RECEIVING | WRITE_SCHEDULED | WRITE_AFTER_RECEIVE | CORKED;
const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

/**
 * What a link seldom sets, in one record made when first needed, so that an idle connection
 * without a subprotocol or extension carries none of it.
 */
export interface Seldom {
  protocol: string;
  extensions: string;
  /** How the socket ends abruptly (a TCP socket, or an HTTP/2 stream). */
  ending: TransportEnding;
  closeTimer: NodeJS.Timeout | null;
  /** An empty write stands in for 'drain' for held 'latest' messages (see #held). */
  drainAwaited: boolean;
  /** Bytes of sends made after closing, which `ws` counts in bufferedAmount (WHATWG does too). */
  sentAfterClose: number;
}

export abstract class LinkWriter implements Backpressured, ScheduledWriter, DirectWriter {
  readonly host: ConnectionHost;
  /** The WebSocket this link serves; bound once, by the WebSocket's constructor. */
  owner!: ConnectionOwner;
  readyState: ReadyState = ReadyState.CONNECTING;
  backlog: Backlog | null = null;
  protected duplex: Duplex | null = null;
  protected core: Connection | null = null;
  protected codec: DeflateCodec | null = null;
  /**
   * RECEIVING | WRITE_SCHEDULED | WRITE_AFTER_RECEIVE | CORKED | DIRECT | PAUSED | DIRECT_QUEUED,
   * and link.ts's reading bits (64 and 128): one field for them all.
   */
  protected writeState = 0;
  /** What is seldom set (see Seldom); null until it is. */
  protected seldom: Seldom | null = null;
  /**
   * A prepared frame delivered while nothing else waited to be written: it goes out ahead of the
   * core's output at the next write, without being queued in the core (the fan-out fast path).
   */
  #leadFrame: Buffer | null = null;
  #callbacks: Callback[] | null = null;
  /** Blobs being read, with the sends waiting behind them; made by the first Blob sent. */
  protected blobs: BlobQueue | null = null;

  constructor(host: ConnectionHost) {
    this.host = host;
  }

  /** The socket; a connection on a bare handle gets its net.Socket made now (handle-transport.ts). */
  get socket(): Duplex | null {
    const duplex = this.duplex;
    if (duplex instanceof HandleTransport) {
      const socket = duplex.materialize();
      return this.duplex === duplex ? socket : this.duplex;
    }
    return duplex;
  }

  /** Whether a transport was attached (without making a net.Socket for it). */
  get attached(): boolean {
    return this.duplex !== null;
  }

  /**
   * The net.Socket made over this connection's bare handle takes over from the handle: later
   * writes queue behind `queuedWrites` writes still in libuv's queue, counted there until done.
   */
  socketMade(socket: Socket, queuedWrites: number): void {
    this.duplex = socket;
    if (writesDirectly(socket)) this.writeState |= DIRECT;
    if (queuedWrites > 0) this.writeState |= DIRECT_QUEUED;
    takeOver(socket, EMPTY_BUFFER, this as unknown as SocketHandlers);
  }

  /** The seldom-set record, made now if it was not. */
  protected seldomState(): Seldom {
    return (this.seldom ??= { protocol: '', extensions: '', ending: SOCKET_ENDING, closeTimer: null, drainAwaited: false, sentAfterClose: 0 });
  }

  /** The subprotocol agreed on ('' for none). */
  get protocol(): string {
    return this.seldom?.protocol ?? '';
  }

  /** The extensions agreed on, as the handshake answer listed them ('' for none). */
  get extensions(): string {
    return this.seldom?.extensions ?? '';
  }

  /** Whether the user paused reading. */
  get paused(): boolean {
    return (this.writeState & PAUSED) !== 0;
  }

  set paused(paused: boolean) {
    this.writeState = paused ? this.writeState | PAUSED : this.writeState & ~PAUSED;
  }

  /** Bytes of sends made after closing. */
  #sentAfterClose(): number {
    return this.seldom?.sentAfterClose ?? 0;
  }

  /** Bytes queued (framed, in the socket's buffer or about to be written) and not yet handed to the kernel. */
  get bufferedAmount(): number {
    const socket = this.duplex;
    if (socket === null) return this.#sentAfterClose();
    let waiting = socket.writableLength;
    if ((this.writeState & DIRECT_QUEUED) !== 0) {
      // A direct write libuv queued is in its queue only; the stream path's writes are counted
      // in writableLength until done, and in libuv's queue too once handed to it (so with no
      // direct write queued, libuv's figure, a call into C++, adds nothing).
      const inHandle = queuedInHandle(socket);
      if (inHandle > waiting) waiting = inHandle;
    }
    return waiting + this.queuedBytes() + this.#sentAfterClose();
  }

  /** Bytes queued for the next write: the lead frame and the core's output. */
  queuedBytes(): number {
    const lead = this.#leadFrame;
    return this.core!.outputBytes + (lead === null ? 0 : lead.length);
  }


  send(data: SendData, options: SendOptions | undefined, cb: Callback | undefined): SendResult {
    if (this.blobs !== null && this.blobs.holding) {
      this.blobs.hold(() => this.send(data, options, cb), cb);
      return 'buffered';
    }
    let bytes: Buffer;
    let owned = false;
    if (Buffer.isBuffer(data)) {
      // The common case (an echo, a relay): no conversion, nothing allocated for it.
      bytes = data;
    } else {
      const converted = toBytes(data);
      if (converted === null) return this.#sendBlob(data as Blob, options, cb);
      ({ bytes, owned } = converted);
    }
    const connection = this.core!;
    if (this.readyState !== ReadyState.OPEN || connection.closeSent) {
      this.#sendAfterClose(cb, bytes.length);
      return 'dropped';
    }
    const fin = options?.fin ?? true;
    const backlog = this.backlog;
    if (backlog !== null && backlog.droppingFragments) {
      // The first fragment of this message was dropped: the rest goes with it, or the peer
      // would get the message's tail as a whole message.
      if (fin) backlog.droppingFragments = false;
      return 'dropped';
    }
    if (!connection.sendingFragments) {
      const policy = this.host.sendPolicy;
      if (!fin && policy.overLimit(this, bytes.length)) return policy.overflowFragmented(this);
      const key = options?.key;
      if (policy.mustHold(this, bytes.length, key)) return this.#held(policy.overflow(this, key, () => this.send(data, options, cb)));
    }
    // Strings and numbers go as text, everything else as binary, unless `binary` says otherwise.
    const binary = options?.binary ?? !(typeof data === 'string' || typeof data === 'number');
    if (options !== undefined && againstSide(options.mask, connection.side) && fin && !connection.sendingFragments) {
      countOut(bytes.length);
      return this.#writeMaskedAs(frameMaskedAs(Boolean(options.mask), binary ? 'binary' : 'text', bytes, this.host.generateMask), cb);
    }
    connection.send(bytes, sendFrameOptions(binary, fin, owned, options?.compress ?? true));
    countOut(bytes.length);
    return this.scheduleFlush(cb) ? 'sent' : 'buffered';
  }

  /** A Blob goes out once read (blob-queue.ts); sends made meanwhile wait behind it. */
  #sendBlob(blob: Blob, options: SendOptions | undefined, cb: Callback | undefined): SendResult {
    const connection = this.core!;
    if (this.readyState !== ReadyState.OPEN || connection.closeSent) {
      this.#sendAfterClose(cb, blob.size);
      return 'dropped';
    }
    this.#blobQueue().read(
      blob,
      cb,
      (bytes) => this.send(bytes, { ...options, binary: options?.binary ?? true }, cb),
      (error) => this.blobUnreadable(error),
    );
    return 'buffered';
  }

  #blobQueue(): BlobQueue {
    return (this.blobs ??= new BlobQueue(() => this.duplex === null || this.duplex.destroyed));
  }

  deliver(message: PreparedMessage, key: string | undefined): SendResult {
    const connection = this.core!;
    if (this.readyState !== ReadyState.OPEN || connection.closeSent || connection.sendingFragments) return 'dropped';
    const policy = this.host.sendPolicy;
    if (policy.mustHold(this, message.payload.length, key)) return this.#held(policy.overflow(this, key, () => this.deliver(message, key)));
    const codec = this.codec;
    if (connection.side === 'client') {
      connection.send(message.payload, sendFrameOptions(message.binary, true, false, message.compress));
    } else if (codec !== null && message.compress && codec.shouldCompress(message.payload.length)) {
      connection.sendFrame(message.compressedFrame(codec.sendWindowBits));
      codec.sentShared();
    } else if (this.#leadFrame === null && connection.outputBytes === 0) {
      const socket = this.duplex!;
      if ((this.writeState & WRITE_PENDING) === 0 && socket.writable) {
        // Nothing queued, no write due: written now, while this connection's objects are at
        // hand, rather than touched again at the end of the tick (a publication to thousands).
        const queued = (this.writeState & DIRECT) !== 0 ? writeDirect(socket, message.plainFrame, this) : -1;
        if (queued < 0) socket.write(message.plainFrame);
        countOut(message.payload.length);
        return (queued < 0 ? socket.writableLength : queued) < socket.writableHighWaterMark ? 'sent' : 'buffered';
      }
      // A write is due: the frame leads it, and whatever the core queues after it follows.
      this.#leadFrame = message.plainFrame;
    } else {
      connection.sendFrame(message.plainFrame);
    }
    countOut(message.payload.length);
    return this.scheduleFlush(undefined) ? 'sent' : 'buffered';
  }

  /**
   * A message the 'latest' policy holds ('buffered') waits for the buffer to drain. Node emits
   * 'drain' only after a write that reached the socket's high-water mark, which a
   * maxBackpressure below that mark never makes: then an empty write's callback, called once
   * everything written before it left, stands in for it.
   */
  #held(result: SendResult): SendResult {
    const socket = this.duplex;
    if (result !== 'buffered' || this.seldom?.drainAwaited === true || socket === null || socket.writableNeedDrain) return result;
    const seldom = this.seldomState();
    seldom.drainAwaited = true;
    socket.write(EMPTY_BUFFER, () => {
      seldom.drainAwaited = false;
      if (this.readyState !== ReadyState.OPEN) return;
      this.host.sendPolicy.drained(this);
      // Still over the limit (output queued since): wait for that to leave too.
      if ((this.backlog?.latest?.size ?? 0) > 0) this.#held('buffered');
    });
    return result;
  }

  control(kind: 'ping' | 'pong', data: SendData | undefined, cb: Callback | undefined, mask?: boolean): void {
    const converted = data === undefined ? null : toBytes(data);
    const blob = data !== undefined && converted === null ? (data as Blob) : null;
    const bytes = converted?.bytes ?? EMPTY_BUFFER;
    const connection = this.core!;
    if (this.readyState !== ReadyState.OPEN || connection.closeSent) {
      this.#sendAfterClose(cb, blob?.size ?? bytes.length);
      return;
    }
    if ((blob?.size ?? bytes.length) > 125) throw new RangeError('The data size must not be greater than 125 bytes');
    if (this.blobs !== null && this.blobs.holding) {
      this.blobs.hold(() => this.control(kind, data, cb, mask), cb);
      return;
    }
    if (blob !== null) {
      // A Blob's bytes are read first, as for send() (and in `ws`, where one that cannot be read fails the connection).
      this.#blobQueue().read(blob, cb, (read) => this.control(kind, read, cb, mask), (error) => this.blobUnreadable(error));
      return;
    }
    if (mask !== undefined && againstSide(mask, connection.side)) {
      this.#writeMaskedAs(frameMaskedAs(mask, kind, bytes, this.host.generateMask), cb);
      return;
    }
    if (kind === 'ping') connection.sendPing(bytes);
    else connection.sendPong(bytes);
    this.scheduleFlush(cb);
  }

  ping(): void {
    this.control('ping', undefined, undefined);
  }

  /** A frame masked against the side's rule (mask-override.ts): written after what is queued. */
  #writeMaskedAs(frame: Buffer, cb: Callback | undefined): SendResult {
    this.flush();
    const socket = this.duplex!;
    socket.write(frame, cb as ((error?: Error | null) => void) | undefined);
    return socket.writableLength < socket.writableHighWaterMark ? 'sent' : 'buffered';
  }

  get droppedMessages(): number {
    return this.backlog?.dropped ?? 0;
  }

  dropped(reason: DropReason): void {
    this.backlog!.dropped++;
    if (this.owner.listenerCount('dropped') > 0) this.owner.emit('dropped', reason);
  }

  #sendAfterClose(cb: Callback | undefined, length: number): void {
    this.seldomState().sentAfterClose += length;
    if (!cb) return;
    const state = this.readyState;
    process.nextTick(cb, new UsageError('WS_ERR_NOT_OPEN', `WebSocket is not open: readyState ${state} (${STATE_NAMES[state]})`));
  }

  /**
   * Queues a write of what the core holds at the end of this tick (write-scheduler.ts), or, while
   * input is being handled, at the end of that (what its message handlers send, an echo, leaves
   * in one write without a trip through the scheduler). Returns false when the connection's
   * buffer is at or above the socket's high-water mark, so that a 'drain' event will follow.
   */
  scheduleFlush(cb: Callback | undefined): boolean {
    if (cb) (this.#callbacks ??= []).push(cb);
    const state = this.writeState;
    if ((state & (WRITE_SCHEDULED | WRITE_AFTER_RECEIVE)) === 0) {
      if ((state & RECEIVING) !== 0) {
        this.writeState = state | WRITE_AFTER_RECEIVE;
      } else {
        this.writeState = state | WRITE_SCHEDULED;
        writeScheduler.schedule(this);
      }
    }
    return this.bufferedAmount < this.duplex!.writableHighWaterMark;
  }

  /** Runs `fn`; everything it sends, publications included, leaves in one socket write. */
  cork(fn: () => void): void {
    const corked = (this.writeState & CORKED) !== 0;
    this.writeState |= CORKED;
    try {
      fn();
    } finally {
      if (!corked) this.writeState &= ~CORKED;
    }
  }

  writeScheduled(): void {
    this.writeState &= ~WRITE_SCHEDULED;
    if (this.duplex !== null && this.duplex.writable) this.flush();
  }

  /** Writes everything the core queued, now. */
  flush(): void {
    const callbacks = this.#callbacks;
    this.#callbacks = null;
    const lead = this.#leadFrame;
    this.#leadFrame = null;
    // Node hands write callbacks null or an error; ours take the same (typed as `ws` types them).
    const direct = (this.writeState & DIRECT) !== 0 ? this : null;
    writeOutput(this.duplex!, lead, this.core!.takeOutput(), callbacks as Array<(error?: Error | null) => void> | null, direct);
  }

  /**
   * A direct write that libuv queued ended (`ok`: written, and the socket alive). bufferedAmount
   * counted its bytes, so it may have reported the high-water mark reached ('buffered') where
   * Node saw less: 'drain' follows now, unless Node's own writes since reached the mark, and
   * Node emits it.
   */
  directWriteDone(ok: boolean): void {
    this.writeState &= ~DIRECT_QUEUED;
    const socket = this.duplex;
    if (ok && socket !== null && !socket.writableNeedDrain) this.socketDrained();
  }

  directWriteQueued(): void {
    this.writeState |= DIRECT_QUEUED;
  }

  /** A write of the high-water mark or more left at once: 'drain', unless a later one waits in libuv. */
  directWriteDrained(): void {
    if ((this.writeState & DIRECT_QUEUED) === 0) this.socketDrained();
  }

  /** The socket's buffer drained ('drain'): link.ts resumes reading and sends what waited. */
  abstract socketDrained(): void;

  // ------------------------------------------------------------------ reading

  /** As in `ws`: a Blob that cannot be read ends the connection (no close frame), with 'error'. */
  protected abstract blobUnreadable(error: Error): void;

  /** Closes with `code` (the 'close' backpressure policy; link.ts runs the closing handshake). */
  abstract close(code: number | undefined, reason: Uint8Array): void;
}
