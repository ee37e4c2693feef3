/**
 * Link: one open WebSocket connection's machinery, behind the public WebSocket. It attaches a
 * Node socket to the Sans-I/O Connection of protocol/, pumps bytes in (socket -> core -> events
 * dispatched to the WebSocket's listeners) and out (sends -> core -> one socket write per tick;
 * a publication reaching a connection with nothing queued is written at once), and runs the
 * closing handshake (RFC 6455 §7) with its timeout.
 *
 * Invariants: the socket is always read (unless the user pauses, or the peer leaves more than
 * maxBackpressure bytes unread) so control frames are seen; sends made in one tick after the
 * first leave in one socket write (cork() puts the first with them); a payload is copied at most once on its way out; 'close' is emitted once, after
 * the socket closed. Close codes, close frames sent and received, and the fragment being sent
 * are the core's state, read from it, never copied here.
 * Must not: parse frames or handshakes (protocol/ does), own topics (pubsub/ does), or hold
 * per-server settings in fields (the host has them).
 */
import type { Duplex } from 'node:stream';
import { Connection, type ConnectionEvent } from '../protocol/connection.js';
import { CloseCode, ReadyState } from '../protocol/constants.js';
import { UsageError, type ProtocolError } from '../protocol/errors.js';
import { sendFrameOptions } from '../protocol/send-frame-options.js';
import type { SendResult } from '../pubsub/pubsub.js';
import { BlobQueue } from './blob-queue.js';
import { asBuffer, convertMessage } from './bytes/convert-message.js';
import { toBytes, type SendData } from './bytes/to-bytes.js';
import type { DeflateCodec } from './compression/deflate-codec.js';
import type { ConnectionHost, ConnectionOwner, HostedConnection, SocketHandlers, TransportEnding } from './internal.js';
import { coreOptions, type Callback, type SendOptions } from './options.js';
import type { PreparedMessage } from './prepared-message.js';
import type { Backlog, Backpressured, DropReason } from './send-policy.js';
import { SOCKET_ENDING, takeOver } from './socket-listeners.js';
import { wsProtocolError } from './ws-error.js';
import { countIn, countOut } from './diagnostics.js';
import { writeOutput, writeScheduler, type ScheduledWriter } from './write-scheduler.js';

const EMPTY_BUFFER = Buffer.alloc(0);
/** #writeState bits: input is being handled (receive() runs). */
const RECEIVING = 1;
/** A write is queued in the write scheduler. */
const WRITE_SCHEDULED = 2;
/** A write is due when the input being handled is done. */
const WRITE_AFTER_RECEIVE = 4;
/** cork() runs: everything sent goes in one write, a publication too. */
const CORKED = 8;
/** While any of these holds, a publication waits for the write that is due. */
const WRITE_PENDING = RECEIVING | WRITE_SCHEDULED | WRITE_AFTER_RECEIVE | CORKED;
const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

export class Link implements HostedConnection, SocketHandlers, Backpressured, ScheduledWriter {
  readonly host: ConnectionHost;
  /** The WebSocket this link serves; bound once, by the WebSocket's constructor. */
  owner!: ConnectionOwner;
  readyState: ReadyState = ReadyState.CONNECTING;
  protocol = '';
  extensions = '';
  paused = false;
  backlog: Backlog | null = null;
  #socket: Duplex | null = null;
  /** How the socket ends abruptly (a TCP socket, or an HTTP/2 stream). */
  #ending: TransportEnding = SOCKET_ENDING;
  #connection: Connection | null = null;
  #codec: DeflateCodec | null = null;
  /** Reading stopped because the peer does not read: more than maxBackpressure waits for it. */
  #readingHeld = false;
  /** RECEIVING | WRITE_SCHEDULED | WRITE_AFTER_RECEIVE | CORKED. */
  #writeState = 0;
  /**
   * A prepared frame delivered while nothing else waited to be written: it goes out ahead of the
   * core's output at the next write, without being queued in the core (the fan-out fast path).
   */
  #leadFrame: Buffer | null = null;
  /** An empty write stands in for 'drain' for held 'latest' messages (see #held). */
  #drainAwaited = false;
  /** Nothing arrived since the last heartbeat (liveness). */
  #unheard = false;
  #closeTimer: NodeJS.Timeout | null = null;
  #callbacks: Callback[] | null = null;
  #deferred: ConnectionEvent[] | null = null;
  /** Blobs being read, with the sends waiting behind them; made by the first Blob sent. */
  #blobs: BlobQueue | null = null;
  /** Bytes of sends made after closing, which `ws` counts in bufferedAmount (WHATWG does too). */
  #sentAfterClose = 0;

  constructor(host: ConnectionHost) {
    this.host = host;
  }

  bind(owner: ConnectionOwner): void {
    this.owner = owner;
  }

  /**
   * The opening handshake succeeded: reads and writes `socket` from now on (a TCP socket, or an
   * HTTP/2 stream with its own `ending`).
   */
  attach(socket: Duplex, head: Buffer, protocol: string, extensions: string, codec: DeflateCodec | null, ending: TransportEnding = SOCKET_ENDING): void {
    this.#ending = ending;
    this.protocol = protocol;
    this.extensions = extensions;
    this.#codec = codec;
    this.#connection = new Connection(coreOptions(this.host.settings, codec, this.host.generateMask));
    this.#socket = socket;
    takeOver(socket, head, this);
    this.readyState = ReadyState.OPEN;
    this.owner.emit('open');
  }

  /** The opening handshake failed (client side): reports `error` and closes. */
  failOpening(error: Error): void {
    this.readyState = ReadyState.CLOSING;
    // Never from inside the call that failed it (close() while connecting returns first, as in `ws`).
    process.nextTick(() => {
      if (this.owner.listenerCount('error') > 0) this.owner.emit('error', error);
      this.#emitClose();
    });
  }

  get socket(): Duplex | null {
    return this.#socket;
  }

  /** Bytes queued (framed, in the socket's buffer or about to be written) and not yet handed to the kernel. */
  get bufferedAmount(): number {
    const socket = this.#socket;
    return socket ? socket.writableLength + this.#queuedBytes() + this.#sentAfterClose : this.#sentAfterClose;
  }

  /** Bytes queued for the next write: the lead frame and the core's output. */
  #queuedBytes(): number {
    const lead = this.#leadFrame;
    return this.#connection!.outputBytes + (lead === null ? 0 : lead.length);
  }

  /** True once the close frames crossed. */
  get wasClean(): boolean {
    const connection = this.#connection;
    return connection !== null && connection.closeReceived && connection.closeSent;
  }

  // ------------------------------------------------------------------ sending

  send(data: SendData, options: SendOptions | undefined, cb: Callback | undefined): SendResult {
    if (this.#blobs !== null && this.#blobs.holding) {
      this.#blobs.hold(() => this.send(data, options, cb));
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
    const connection = this.#connection!;
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
    connection.send(bytes, sendFrameOptions(binary, fin, owned, options?.compress ?? true));
    countOut(bytes.length);
    return this.#scheduleFlush(cb) ? 'sent' : 'buffered';
  }

  /** A Blob goes out once read (blob-queue.ts); sends made meanwhile wait behind it. */
  #sendBlob(blob: Blob, options: SendOptions | undefined, cb: Callback | undefined): SendResult {
    const connection = this.#connection!;
    if (this.readyState !== ReadyState.OPEN || connection.closeSent) {
      this.#sendAfterClose(cb, blob.size);
      return 'dropped';
    }
    (this.#blobs ??= new BlobQueue()).read(
      blob,
      (bytes) => this.send(bytes, { ...options, binary: options?.binary ?? true }, cb),
      (error) => {
        cb?.(error);
        this.#blobUnreadable(error);
      },
    );
    return 'buffered';
  }

  deliver(message: PreparedMessage, key: string | undefined): SendResult {
    const connection = this.#connection!;
    if (this.readyState !== ReadyState.OPEN || connection.closeSent || connection.sendingFragments) return 'dropped';
    const policy = this.host.sendPolicy;
    if (policy.mustHold(this, message.payload.length, key)) return this.#held(policy.overflow(this, key, () => this.deliver(message, key)));
    const codec = this.#codec;
    if (connection.side === 'client') {
      connection.send(message.payload, sendFrameOptions(message.binary, true, false, message.compress));
    } else if (codec !== null && message.compress && codec.shouldCompress(message.payload.length)) {
      connection.sendFrame(message.compressedFrame(codec.sendWindowBits));
      codec.sentShared();
    } else if (this.#leadFrame === null && connection.outputBytes === 0) {
      const socket = this.#socket!;
      if ((this.#writeState & WRITE_PENDING) === 0 && socket.writable) {
        // Nothing queued, no write due: written now, while this connection's objects are at
        // hand, rather than touched again at the end of the tick (a publication to thousands).
        socket.write(message.plainFrame);
        countOut(message.payload.length);
        return socket.writableLength < socket.writableHighWaterMark ? 'sent' : 'buffered';
      }
      // A write is due: the frame leads it, and whatever the core queues after it follows.
      this.#leadFrame = message.plainFrame;
    } else {
      connection.sendFrame(message.plainFrame);
    }
    countOut(message.payload.length);
    return this.#scheduleFlush(undefined) ? 'sent' : 'buffered';
  }

  /**
   * A message the 'latest' policy holds ('buffered') waits for the buffer to drain. Node emits
   * 'drain' only after a write that reached the socket's high-water mark, which a
   * maxBackpressure below that mark never makes: then an empty write's callback, called once
   * everything written before it left, stands in for it.
   */
  #held(result: SendResult): SendResult {
    const socket = this.#socket;
    if (result !== 'buffered' || this.#drainAwaited || socket === null || socket.writableNeedDrain) return result;
    this.#drainAwaited = true;
    socket.write(EMPTY_BUFFER, () => {
      this.#drainAwaited = false;
      if (this.readyState !== ReadyState.OPEN) return;
      this.host.sendPolicy.drained(this);
      // Still over the limit (output queued since): wait for that to leave too.
      if ((this.backlog?.latest?.size ?? 0) > 0) this.#held('buffered');
    });
    return result;
  }

  control(kind: 'ping' | 'pong', data: SendData | undefined, cb: Callback | undefined): void {
    const converted = data === undefined ? null : toBytes(data);
    const blob = data !== undefined && converted === null ? (data as Blob) : null;
    const bytes = converted?.bytes ?? EMPTY_BUFFER;
    const connection = this.#connection!;
    if (this.readyState !== ReadyState.OPEN || connection.closeSent) {
      this.#sendAfterClose(cb, blob?.size ?? bytes.length);
      return;
    }
    if ((blob?.size ?? bytes.length) > 125) throw new RangeError('The data size must not be greater than 125 bytes');
    if (this.#blobs !== null && this.#blobs.holding) {
      this.#blobs.hold(() => this.control(kind, data, cb));
      return;
    }
    if (blob !== null) {
      // A Blob's bytes are read first, as for send() (and in `ws`).
      (this.#blobs ??= new BlobQueue()).read(blob, (read) => this.control(kind, read, cb), (error) => cb?.(error));
      return;
    }
    if (kind === 'ping') connection.sendPing(bytes);
    else connection.sendPong(bytes);
    this.#scheduleFlush(cb);
  }

  ping(): void {
    this.control('ping', undefined, undefined);
  }

  get droppedMessages(): number {
    return this.backlog?.dropped ?? 0;
  }

  dropped(reason: DropReason): void {
    this.backlog!.dropped++;
    if (this.owner.listenerCount('dropped') > 0) this.owner.emit('dropped', reason);
  }

  #sendAfterClose(cb: Callback | undefined, length: number): void {
    this.#sentAfterClose += length;
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
  #scheduleFlush(cb: Callback | undefined): boolean {
    if (cb) (this.#callbacks ??= []).push(cb);
    const state = this.#writeState;
    if ((state & (WRITE_SCHEDULED | WRITE_AFTER_RECEIVE)) === 0) {
      if ((state & RECEIVING) !== 0) {
        this.#writeState = state | WRITE_AFTER_RECEIVE;
      } else {
        this.#writeState = state | WRITE_SCHEDULED;
        writeScheduler.schedule(this);
      }
    }
    return this.bufferedAmount < this.#socket!.writableHighWaterMark;
  }

  /** Runs `fn`; everything it sends, publications included, leaves in one socket write. */
  cork(fn: () => void): void {
    const corked = (this.#writeState & CORKED) !== 0;
    this.#writeState |= CORKED;
    try {
      fn();
    } finally {
      if (!corked) this.#writeState &= ~CORKED;
    }
  }

  writeScheduled(): void {
    this.#writeState &= ~WRITE_SCHEDULED;
    if (this.#socket !== null && this.#socket.writable) this.#flush();
  }

  /** Writes everything the core queued, now. */
  #flush(): void {
    const callbacks = this.#callbacks;
    this.#callbacks = null;
    const lead = this.#leadFrame;
    this.#leadFrame = null;
    // Node hands write callbacks null or an error; ours take the same (typed as `ws` types them).
    writeOutput(this.#socket!, lead, this.#connection!.takeOutput(), callbacks as Array<(error?: Error | null) => void> | null);
  }

  // ------------------------------------------------------------------ reading

  /** Stops reading from the socket (inbound backpressure). */
  pause(): void {
    this.paused = true;
    this.#socket?.pause();
  }

  resume(): void {
    this.paused = false;
    this.#resumeReading();
  }

  /** Reads the socket again unless something still holds it: the user, deferred events, the peer's backlog. */
  #resumeReading(): void {
    if (this.paused || this.#deferred || this.#readingHeld || this.readyState === ReadyState.CLOSED) return;
    this.#socket?.resume();
  }

  receive(chunk: Buffer): void {
    this.#unheard = false;
    const connection = this.#connection!;
    this.#writeState |= RECEIVING;
    try {
      connection.receiveData(chunk);
      this.#pump();
    } finally {
      // Even when a handler threw: what was sent must not wait for the next input.
      const state = this.#writeState;
      this.#writeState = state & ~(RECEIVING | WRITE_AFTER_RECEIVE);
      if ((state & WRITE_AFTER_RECEIVE) !== 0 && this.#socket !== null && this.#socket.writable) this.#flush();
    }
    // A peer that leaves more than maxBackpressure bytes unread is not read either until they
    // drain, so its input (pings above all) cannot make us queue replies without bound. At or
    // above the high-water mark a 'drain' event is sure to follow and resumes reading.
    const socket = this.#socket!;
    const waiting = socket.writableLength;
    if (waiting >= socket.writableHighWaterMark && waiting + this.#queuedBytes() > this.host.sendPolicy.maxBackpressure) {
      this.#readingHeld = true;
      socket.pause();
    }
  }

  beat(): boolean {
    this.#codec?.releaseIdle();
    if (this.#unheard) return false;
    this.#unheard = true;
    return true;
  }

  #pump(): void {
    const connection = this.#connection!;
    const events = connection.takeEvents();
    if (connection.outputBytes > 0) this.#scheduleFlush(undefined);
    if (events.length === 0) return;
    if (!this.host.settings.allowSynchronousEvents || this.#deferred) {
      this.#defer(events);
      return;
    }
    for (let i = 0; i < events.length; i++) this.#dispatch(events[i]!);
  }

  /** allowSynchronousEvents: false — one message event per turn of the event loop, as `ws` does. */
  #defer(events: ConnectionEvent[]): void {
    if (this.#deferred) {
      this.#deferred.push(...events);
      return;
    }
    this.#deferred = events.slice();
    this.#socket?.pause();
    const step = (): void => {
      const queue = this.#deferred;
      if (!queue) return;
      const event = queue.shift();
      if (event) this.#dispatch(event);
      if (queue.length > 0) {
        setImmediate(step);
      } else {
        this.#deferred = null;
        this.#resumeReading();
      }
    };
    setImmediate(step);
  }

  #dispatch(event: ConnectionEvent): void {
    const owner = this.owner;
    switch (event.type) {
      case 'message':
        countIn(event.data.length);
        owner.emit('message', event.binary ? convertMessage(event.data, owner.binaryType) : asBuffer(event.data), event.binary);
        return;
      case 'ping':
        owner.emit('ping', asBuffer(event.data));
        return;
      case 'pong':
        owner.emit('pong', asBuffer(event.data));
        return;
      case 'close':
        this.#onCloseFrame(event.code, event.reason);
        return;
      case 'error':
        this.#onProtocolError(event.error);
        return;
    }
  }

  // ------------------------------------------------------------------ closing

  /** Starts the closing handshake (RFC 6455 §7.1.2); arguments checked by the caller. */
  close(code: number | undefined, reason: Uint8Array): void {
    if (this.#blobs !== null && this.#blobs.holding) {
      // As in `ws`: the close frame follows the Blobs sent before it, whose bytes are being read.
      this.#blobs.hold(() => {
        if (this.readyState === ReadyState.OPEN) this.close(code, reason);
      });
      return;
    }
    const connection = this.#connection!;
    if (connection.closeSent) {
      if (connection.closeReceived && connection.side === 'server') this.#socket?.end();
      return;
    }
    this.readyState = ReadyState.CLOSING;
    connection.sendClose(code, reason);
    this.#flush();
    if (connection.closeExpected()) this.#socket!.end();
    this.#armCloseTimer();
  }

  /**
   * Destroys the connection at once, without a closing handshake. What was sent before is
   * handed to the socket first, so its callbacks run, as they do in `ws`, which writes at once.
   */
  terminate(): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSING;
    const socket = this.#socket;
    if (socket === null) return;
    if ((this.#writeState & (WRITE_SCHEDULED | WRITE_AFTER_RECEIVE)) !== 0 && socket.writable) this.#flush();
    this.#ending.abort(socket);
  }

  #onCloseFrame(code: number, reason: Uint8Array): void {
    this.readyState = ReadyState.CLOSING;
    const connection = this.#connection!;
    if (!connection.closeSent) {
      // RFC 6455 §5.5.1: answer with the same code (and reason), after the messages that came
      // before the close were handed to the application, so its replies to them went out first.
      connection.sendClose(code === CloseCode.NO_STATUS_RECEIVED ? undefined : code, reason);
      this.#flush();
    }
    if (connection.closeExpected()) this.#socket!.end();
    this.#armCloseTimer();
  }

  /** As in `ws`: a Blob that cannot be read ends the connection (no close frame), with 'error'. */
  #blobUnreadable(error: Error): void {
    if (this.readyState !== ReadyState.OPEN) return;
    this.readyState = ReadyState.CLOSING;
    this.#socket!.end();
    this.#armCloseTimer();
    if (this.owner.listenerCount('error') > 0) this.owner.emit('error', error);
  }

  #onProtocolError(error: ProtocolError): void {
    const connection = this.#connection!;
    if (!connection.closeSent) {
      // RFC 6455 §7.1.7: the close frame of the failure, after the replies to earlier messages.
      connection.sendClose(error.closeCode);
      this.#flush();
    }
    this.readyState = ReadyState.CLOSING;
    this.#socket!.end();
    this.#armCloseTimer();
    // Never crash a process over one peer's bad bytes: report only to those who listen.
    // The 'close' event that follows carries the outcome either way.
    if (this.owner.listenerCount('error') > 0) this.owner.emit('error', wsProtocolError(error));
  }

  #armCloseTimer(): void {
    if (this.#closeTimer) return;
    this.#closeTimer = setTimeout(() => {
      if (this.#socket !== null) this.#ending.abort(this.#socket);
    }, this.host.settings.closeTimeoutMs);
    this.#closeTimer.unref?.();
  }

  #emitClose(): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSED;
    this.host.topics?.unsubscribeAll(this);
    if (this.backlog !== null) this.backlog.latest = null;
    this.#codec?.close();
    // As in `ws`: the peer's close code, else the code we failed the connection with, else 1006.
    const connection = this.#connection;
    const received = connection !== null && connection.closeReceived;
    const code = received ? connection.closeCode : (connection?.error?.closeCode ?? CloseCode.ABNORMAL_CLOSURE);
    const reason = received ? Buffer.from(connection.closeReason) : EMPTY_BUFFER;
    this.host.connectionClosed(this);
    this.owner.emit('close', code, reason);
  }

  // ------------------------------------------------------------------ socket events

  socketEnded(): void {
    this.#connection?.receiveEof();
    this.readyState = ReadyState.CLOSING;
    // The peer is done sending: finish our side too (RFC 6455 §7.1.1).
    this.#socket?.end();
  }

  socketClosed(): void {
    clearTimeout(this.#closeTimer ?? undefined);
    this.#closeTimer = null;
    this.#connection?.receiveEof();
    this.#emitClose();
  }

  socketErrored(): void {
    // Resets and the like: the socket closes next and 'close' reports 1006.
    this.readyState = ReadyState.CLOSING;
    if (this.#socket !== null) this.#ending.abort(this.#socket);
  }

  socketDrained(): void {
    if (this.#readingHeld) {
      this.#readingHeld = false;
      this.#resumeReading();
    }
    this.host.sendPolicy.drained(this);
    this.owner.emit('drain');
  }
}
