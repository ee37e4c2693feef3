/**
 * Link: one open WebSocket connection's machinery, behind the public WebSocket. It attaches a
 * Node socket to the Sans-I/O Connection of protocol/, pumps bytes in (socket -> core -> events
 * dispatched to the WebSocket's listeners) and out through its sending half, LinkWriter
 * (link-writer.ts: sends -> core -> one socket write per tick; a publication reaching a
 * connection with nothing queued is written at once), and runs the closing handshake
 * (RFC 6455 §7) with its timeout.
 *
 * Invariants: the socket is always read (unless the user pauses, or the peer leaves more than
 * maxBackpressure bytes unread) so control frames are seen; sends made in one tick after the
 * first leave in one socket write (cork() puts the first with them); a payload is copied at
 * most once on its way out; 'close' is emitted once, after the socket closed. Close codes, close frames sent and received, and the fragment being sent
 * are the core's state, read from it, never copied here.
 * Must not: parse frames or handshakes (protocol/ does), own topics (pubsub/ does), or hold
 * per-server settings in fields (the host has them).
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { Connection, type ConnectionEvent } from '../protocol/connection.js';
import { CloseCode, ReadyState } from '../protocol/constants.js';
import type { ProtocolError } from '../protocol/errors.js';
import { asBuffer, convertMessage } from './bytes/convert-message.js';
import type { DeflateCodec } from './compression/deflate-codec.js';
import { countIn } from './diagnostics.js';
import { emitMessage } from './emit-message.js';
import type { ConnectionOwner, HostedConnection, SocketHandlers, TransportEnding } from './internal.js';
import { DIRECT, EMPTY_BUFFER, LinkWriter, RECEIVING, WRITE_AFTER_RECEIVE, WRITE_PENDING, WRITE_SCHEDULED } from './link-writer.js';
import { coreOptions } from './options.js';
import type { Backpressured } from './send-policy.js';
import { SOCKET_ENDING, takeOver } from './socket-listeners.js';
import { writesDirectly } from './socket-write.js';
import { HandleTransport } from './handle-transport.js';
import { wsProtocolError } from './ws-error.js';
import type { ScheduledWriter } from './write-scheduler.js';

/** An empty, unmasked ping frame (RFC 6455 §5.5.2), shared by every server connection's heartbeat. */
const HEARTBEAT_PING = Buffer.from([0x89, 0x00]);
/** Link#writeState bits of reading (link-writer.ts has those of writing). */
const READING_HELD = 64;
const UNHEARD = 128;

export class Link extends LinkWriter implements HostedConnection, SocketHandlers, Backpressured, ScheduledWriter {
  // writeState also holds READING_HELD (reading stopped because the peer does not read: more
  // than maxBackpressure waits for it) and UNHEARD (nothing arrived since the last heartbeat).
  #deferred: ConnectionEvent[] | null = null;

  /** How the socket ends abruptly. */
  #ending(): TransportEnding {
    const seldom = this.seldom;
    return seldom === null ? SOCKET_ENDING : seldom.ending;
  }

  bind(owner: ConnectionOwner): void {
    this.owner = owner;
  }

  /**
   * The opening handshake succeeded: reads and writes `socket` from now on (a TCP socket, or an
   * HTTP/2 stream with its own `ending`).
   */
  attach(socket: Duplex, head: Buffer, protocol: string, extensions: string, codec: DeflateCodec | null, ending: TransportEnding = SOCKET_ENDING): void {
    if (protocol !== '' || extensions !== '' || ending !== SOCKET_ENDING) {
      const seldom = this.seldomState();
      seldom.protocol = protocol;
      seldom.extensions = extensions;
      seldom.ending = ending;
    }
    this.codec = codec;
    this.core = new Connection(coreOptions(this.host.settings, codec, this.host.generateMask));
    this.duplex = socket;
    if (socket instanceof HandleTransport) socket.attach(head, this);
    else {
      if (writesDirectly(socket)) this.writeState |= DIRECT;
      takeOver(socket, head, this);
    }
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

  /** True once the close frames crossed. */
  get wasClean(): boolean {
    const connection = this.core;
    return connection !== null && connection.closeReceived && connection.closeSent;
  }


  /** Stops reading from the socket (inbound backpressure). */
  pause(): void {
    this.paused = true;
    this.duplex?.pause();
  }

  resume(): void {
    this.paused = false;
    this.#resumeReading();
  }

  /** Reads the socket again unless something still holds it: the user, deferred events, the peer's backlog. */
  #resumeReading(): void {
    if (this.paused || this.#deferred || (this.writeState & READING_HELD) !== 0 || this.readyState === ReadyState.CLOSED) return;
    this.duplex?.resume();
  }

  receive(chunk: Buffer, lent = false): void {
    const connection = this.core!;
    this.writeState = (this.writeState & ~UNHEARD) | RECEIVING;
    try {
      connection.receiveData(chunk, lent);
      this.#pump();
    } finally {
      // Even when a handler threw: what was sent must not wait for the next input.
      const state = this.writeState;
      this.writeState = state & ~(RECEIVING | WRITE_AFTER_RECEIVE);
      if ((state & WRITE_AFTER_RECEIVE) !== 0 && this.duplex !== null && this.duplex.writable) this.flush();
    }
    // A peer that leaves more than maxBackpressure bytes unread is not read either until they
    // drain, so its input (pings above all) cannot make us queue replies without bound. At or
    // above the high-water mark a 'drain' event is sure to follow and resumes reading.
    const socket = this.duplex!;
    const waiting = socket.writableLength;
    if (waiting >= socket.writableHighWaterMark && waiting + this.queuedBytes() > this.host.sendPolicy.maxBackpressure) {
      this.writeState |= READING_HELD;
      socket.pause();
    }
  }

  beat(): boolean {
    this.codec?.releaseIdle();
    this.core?.releaseIdle();
    if ((this.writeState & UNHEARD) !== 0) return false;
    this.writeState |= UNHEARD;
    return true;
  }

  /**
   * The heartbeat's ping. On a server connection with nothing queued and no write due, the one
   * shared empty ping frame is written at once, so pinging an idle connection makes no output
   * queue for it (the pong that answers it needs no assembler either).
   */
  override ping(): void {
    const socket = this.duplex;
    const connection = this.core;
    if (
      connection !== null &&
      connection.side === 'server' &&
      (this.writeState & WRITE_PENDING) === 0 &&
      this.queuedBytes() === 0 &&
      this.blobs === null &&
      this.readyState === ReadyState.OPEN &&
      !connection.closeSent &&
      socket !== null &&
      socket.writable
    ) {
      socket.write(HEARTBEAT_PING);
      return;
    }
    super.ping();
  }

  #pump(): void {
    const connection = this.core!;
    const events = connection.takeEvents();
    if (connection.outputBytes > 0) this.scheduleFlush(undefined);
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
    this.duplex?.pause();
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
        emitMessage(owner, event.binary ? convertMessage(event.data, owner.binaryType) : asBuffer(event.data), event.binary);
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
  override close(code: number | undefined, reason: Uint8Array): void {
    if (this.blobs !== null && this.blobs.holding) {
      // As in `ws`: the close frame follows the Blobs sent before it, whose bytes are being read.
      this.blobs.hold(() => {
        if (this.readyState === ReadyState.OPEN) this.close(code, reason);
      });
      return;
    }
    const connection = this.core!;
    if (connection.closeSent) {
      if (connection.closeReceived && connection.side === 'server') this.duplex?.end();
      return;
    }
    this.readyState = ReadyState.CLOSING;
    connection.sendClose(code, reason);
    this.flush();
    if (connection.closeExpected()) this.duplex!.end();
    this.#armCloseTimer();
  }

  /**
   * Destroys the connection at once, without a closing handshake. What was sent before is
   * handed to the socket first, so its callbacks run, as they do in `ws`, which writes at once.
   */
  terminate(): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSING;
    const socket = this.duplex;
    if (socket === null) return;
    if ((this.writeState & (WRITE_SCHEDULED | WRITE_AFTER_RECEIVE)) !== 0 && socket.writable) this.flush();
    this.#ending().abort(socket);
  }

  #onCloseFrame(code: number, reason: Uint8Array): void {
    this.readyState = ReadyState.CLOSING;
    const connection = this.core!;
    if (!connection.closeSent) {
      // RFC 6455 §5.5.1: answer with the same code (and reason), after the messages that came
      // before the close were handed to the application, so its replies to them went out first.
      connection.sendClose(code === CloseCode.NO_STATUS_RECEIVED ? undefined : code, reason);
      this.flush();
    }
    if (connection.closeExpected()) this.duplex!.end();
    this.#armCloseTimer();
  }

  /** As in `ws`: a Blob that cannot be read ends the connection (no close frame), with 'error'. */
  protected override blobUnreadable(error: Error): void {
    if (this.readyState !== ReadyState.OPEN) return;
    this.readyState = ReadyState.CLOSING;
    this.duplex!.end();
    this.#armCloseTimer();
    if (this.owner.listenerCount('error') > 0) this.owner.emit('error', error);
  }

  #onProtocolError(error: ProtocolError): void {
    const connection = this.core!;
    if (!connection.closeSent) {
      // RFC 6455 §7.1.7: the close frame of the failure, after the replies to earlier messages.
      connection.sendClose(error.closeCode);
      this.flush();
    }
    this.readyState = ReadyState.CLOSING;
    this.duplex!.end();
    this.#armCloseTimer();
    // Never crash a process over one peer's bad bytes: report only to those who listen.
    // The 'close' event that follows carries the outcome either way.
    if (this.owner.listenerCount('error') > 0) this.owner.emit('error', wsProtocolError(error));
  }

  #armCloseTimer(): void {
    const seldom = this.seldomState();
    if (seldom.closeTimer) return;
    seldom.closeTimer = setTimeout(() => {
      if (this.duplex !== null) seldom.ending.abort(this.duplex);
    }, this.host.settings.closeTimeoutMs);
    seldom.closeTimer.unref?.();
  }

  #emitClose(): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSED;
    this.host.topics?.unsubscribeAll(this);
    if (this.backlog !== null) this.backlog.latest = null;
    this.codec?.close();
    // As in `ws`: the peer's close code, else the code we failed the connection with, else 1006.
    const connection = this.core;
    const received = connection !== null && connection.closeReceived;
    const code = received ? connection.closeCode : (connection?.error?.closeCode ?? CloseCode.ABNORMAL_CLOSURE);
    const reason = received ? Buffer.from(connection.closeReason) : EMPTY_BUFFER;
    this.host.connectionClosed(this);
    this.owner.emit('close', code, reason);
  }

  // ------------------------------------------------------------------ socket events

  socketEnded(): void {
    this.core?.receiveEof();
    this.readyState = ReadyState.CLOSING;
    // The peer is done sending: finish our side too (RFC 6455 §7.1.1).
    this.duplex?.end();
  }

  socketClosed(): void {
    const seldom = this.seldom;
    if (seldom !== null) {
      clearTimeout(seldom.closeTimer ?? undefined);
      seldom.closeTimer = null;
    }
    this.core?.receiveEof();
    this.#emitClose();
  }

  socketErrored(): void {
    // Resets and the like: the socket closes next and 'close' reports 1006.
    this.readyState = ReadyState.CLOSING;
    if (this.duplex !== null) this.#ending().abort(this.duplex);
  }

  socketDrained(): void {
    if ((this.writeState & READING_HELD) !== 0) {
      this.writeState &= ~READING_HELD;
      this.#resumeReading();
    }
    this.host.sendPolicy.drained(this);
    this.owner.emit('drain');
  }
}

