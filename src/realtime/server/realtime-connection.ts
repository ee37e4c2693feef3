/**
 * One client of the real-time server: the fdx.v1 state machine of a connection (awaiting
 * `connect`, authenticating, open, draining, closed), its per-connection data and limits, and
 * requests in both directions. Channel state lives in the server; this side asks it through the
 * ConnectionHost port.
 * Must not: touch the engine directly, or throw on anything a peer sends.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { EventData, EventMap, EventName, EventReply } from '../event-map.js';
import { CLOSE_CODES, SUBPROTOCOL, parseBinaryMessage, parseMessage, serialize, type ConnectMessage, type ConnectResult, type ErrorCode, type Id, type Message, type ServerMessage } from '../protocol.js';
import { RealtimeError } from '../realtime-error.js';
import type { SharedText } from '../shared-text.js';
import type { Transport } from '../transport.js';
import type { RealtimeLimits } from './limits.js';

/** What a connection needs from its server (implemented by RealtimeServer). */
export interface ConnectionHost {
  readonly limits: RealtimeLimits;
  readonly clock: Clock;
  authenticate(connection: RealtimeConnection<any, any>, token: string | undefined, data: unknown): Promise<unknown>;
  /** The session for the `connect` reply, resuming the one the client named if it can; never rejects. */
  resume(connection: RealtimeConnection<any, any>, session: string | undefined): Promise<{ session: string; resumed: boolean } | undefined>;
  /** The application's `data` for the `connect` reply (undefined: none). */
  welcome(connection: RealtimeConnection<any, any>): unknown;
  opened(connection: RealtimeConnection<any, any>): void;
  closed(connection: RealtimeConnection<any, any>, code: number, reason: string): void;
  /** Handles subscribe, unsubscribe, publish and set-presence; resolves with the reply's result (or calls `reply` first). */
  channelRequest(connection: RealtimeConnection<any, any>, message: Message & { type: ChannelRequestType }, reply: (result: unknown) => void): Promise<unknown>;
  /** Runs the event's handler (validated); resolves with its result. */
  event(connection: RealtimeConnection<any, any>, event: string, data: unknown, key: string | undefined): Promise<unknown>;
  /** A request timed out: the client did not answer ours, or our handler did not answer its. */
  timedOut(side: 'client' | 'handler'): void;
}

export type ChannelRequestType = 'subscribe' | 'unsubscribe' | 'publish' | 'set-presence';

export type ConnectionState = 'connecting' | 'authenticating' | 'open' | 'draining' | 'closed';

interface Outgoing {
  resolve(value: unknown): void;
  reject(error: RealtimeError): void;
  timer: TimerHandle;
}

let connectionCounter = 0;

export class RealtimeConnection<ToClient extends EventMap = EventMap, Data = unknown> {
  /** This connection's id, also given to the client in the `connect` reply. */
  readonly id: string;
  /** The application's data for this connection, from `authenticate` (or set later). */
  data: Data = undefined as Data;
  /** What the transport's glue knew of the opening handshake (e.g. the HTTP upgrade request). */
  readonly handshake: unknown;
  readonly #transport: Transport;
  readonly #host: ConnectionHost;
  #state: ConnectionState = 'connecting';
  #queue: Array<string | Uint8Array> = [];
  #timer: TimerHandle = null;
  /** Channels this connection is subscribed to (kept by the server). */
  readonly channels = new Set<string>();
  // Rate limit: a token bucket refilled continuously.
  #tokens: number;
  #refilledAt: number;
  #limitedInARow = 0;
  /** Requests from the client whose handlers still run, and their timeout timers. */
  #running = 0;
  readonly #timers = new Set<TimerHandle>();
  #idle: (() => void) | null = null;
  #nextId = 0;
  readonly #outgoing = new Map<number, Outgoing>();

  constructor(transport: Transport, host: ConnectionHost, handshake: unknown) {
    this.id = `c${(++connectionCounter).toString(36)}${Math.floor(Math.random() * 1_679_616).toString(36)}`;
    this.#transport = transport;
    this.#host = host;
    this.handshake = handshake;
    this.#tokens = host.limits.publishBurst;
    this.#refilledAt = host.clock.now();
    transport.onmessage = (data) => this.#receive(data);
    transport.onclose = (code, reason) => this.#closed(code, reason);
    if (transport.protocol !== SUBPROTOCOL) {
      this.close(CLOSE_CODES.PROTOCOL, `subprotocol ${SUBPROTOCOL} required`);
      return;
    }
    this.#timer = host.clock.setTimeout(() => {
      if (this.#state === 'connecting' || this.#state === 'authenticating') this.close(CLOSE_CODES.CONNECT_TIMEOUT, 'no connect in time');
    }, host.limits.connectTimeoutMs);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Sends a push event (no reply expected). False when the connection is not open. */
  emit<E extends EventName<ToClient>>(event: E, data: EventData<ToClient, E>): boolean {
    return this.sendMessage({ type: 'event', event, data });
  }

  /** Sends a request event and resolves with the client's reply, or rejects (TIMEOUT, ...). */
  request<E extends EventName<ToClient>>(event: E, data: EventData<ToClient, E>, options: { timeoutMs?: number } = {}): Promise<EventReply<ToClient, E>> {
    if (this.#state !== 'open' && this.#state !== 'draining') return Promise.reject(new RealtimeError('DISCONNECTED', 'the connection is not open'));
    if (this.#outgoing.size >= this.#host.limits.maxPendingRequests) {
      return Promise.reject(new RealtimeError('TOO_MANY_PENDING', `more than ${this.#host.limits.maxPendingRequests} requests await replies`));
    }
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      const timer = this.#host.clock.setTimeout(() => {
        this.#outgoing.delete(id);
        this.#host.timedOut('client');
        reject(new RealtimeError('TIMEOUT', `no reply to "${event}" in time`));
      }, options.timeoutMs ?? this.#host.limits.requestTimeoutMs);
      this.#outgoing.set(id, { resolve, reject, timer });
      this.sendMessage({ type: 'event', id, event, data });
    });
  }

  /** Closes the connection; 4502 (the default) tells the client not to reconnect. */
  close(code: number = CLOSE_CODES.KICKED, reason = ''): void {
    if (this.#state === 'closed') return;
    this.#transport.close(code, reason);
    // A transport that reports its close later still ends this connection now.
    this.#closed(code, reason);
  }

  /** Sends one protocol message as it is (used by the server for pubs, joins, leaves). */
  sendMessage(message: ServerMessage): boolean {
    return this.sendText(serialize(message));
  }

  sendText(text: string): boolean {
    if (this.#state === 'closed' || this.#state === 'connecting' || this.#state === 'authenticating') return false;
    this.#transport.send(text);
    return true;
  }

  /**
   * Sends a message that goes to many connections (a channel's fan-out, a broadcast): through the
   * transport's sendShared where it has one (the bytes are framed once for all), else as send.
   * `key` is the transport key of a publication with `latest` (Transport.send).
   */
  sendShared(message: SharedText, key?: string): boolean {
    if (this.#state === 'closed' || this.#state === 'connecting' || this.#state === 'authenticating') return false;
    const transport = this.#transport;
    if (transport.sendShared) transport.sendShared(message, key);
    else transport.send(message.data, key);
    return true;
  }

  /**
   * Starts this connection's drain: tells the client, waits for running handlers (at most
   * drainTimeoutMs), then closes with 1012. Resolves once closed.
   */
  async drain(): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state !== 'open') {
      this.close(CLOSE_CODES.SERVICE_RESTART, 'drain');
      return;
    }
    this.#state = 'draining';
    this.#transport.send(serialize({ type: 'drain' }));
    if (this.#running > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#host.clock.setTimeout(resolve, this.#host.limits.drainTimeoutMs);
        this.#idle = () => {
          this.#host.clock.clearTimeout(timer);
          resolve();
        };
      });
    }
    this.close(CLOSE_CODES.SERVICE_RESTART, 'drain');
  }

  #receive(data: string | Uint8Array): void {
    if (this.#state === 'closed') return;
    const max = this.#host.limits.maxMessageBytes;
    // A UTF-16 unit is 1 to 3 UTF-8 bytes: count bytes only when the length leaves a doubt.
    if (data.length > max || (typeof data === 'string' && data.length * 3 > max && utf8Length(data) > max)) {
      // Answer the request itself when its id can be read (the WebSocket limit bounds the cost).
      const parsed = this.#state === 'open' ? parse(data) : null;
      const id = parsed ? (parsed.ok ? (parsed.message as { id?: Id }).id : parsed.id) : undefined;
      this.#answerBad(id, 'MESSAGE_TOO_LARGE', `messages are limited to ${max} bytes`);
      return;
    }
    if (this.#state === 'authenticating') {
      if (this.#queue.length >= this.#host.limits.maxQueuedBeforeConnect) this.close(CLOSE_CODES.FLOOD, 'too many messages before connect');
      else this.#queue.push(data);
      return;
    }
    this.#handle(data);
  }

  #handle(data: string | Uint8Array): void {
    const parsed = parse(data);
    if (this.#state === 'connecting') {
      if (!parsed.ok || parsed.message.type !== 'connect' || typeof data !== 'string') {
        this.close(CLOSE_CODES.PROTOCOL, 'the first message must be connect');
        return;
      }
      this.#connect(parsed.message);
      return;
    }
    if (!parsed.ok) {
      this.#answerBad(parsed.id, parsed.code, parsed.reason);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'connect':
        this.#reply(message.id, undefined, 'ALREADY_CONNECTED', 'connect was already received');
        return;
      case 'ping':
        this.#transport.send('{"type":"pong"}');
        return;
      case 'pong':
        return;
      case 'reply':
        this.#answered(message.id, message.result, message.error);
        return;
      case 'subscribe':
      case 'unsubscribe':
      case 'publish':
      case 'set-presence':
        if ((message.type === 'publish' || message.type === 'set-presence') && !this.#takeToken(message.id)) return;
        this.#run(message.id, (reply) => this.#host.channelRequest(this, message, reply));
        return;
      case 'event':
        if (!this.#takeToken(message.id)) return;
        this.#run(message.id, () => this.#host.event(this, message.event, message.data, message.key));
        return;
      default:
        this.#answerBad(undefined, 'BAD_MESSAGE', `"${message.type}" is not sent by clients`);
    }
  }

  #connect({ id, token, data, session }: ConnectMessage): void {
    this.#state = 'authenticating';
    this.#host.authenticate(this, token, data).then(
      async (value) => {
        if (this.#state !== 'authenticating') return;
        this.data = value as Data;
        const resumed = await this.#host.resume(this, session);
        if (this.#state !== 'authenticating') return;
        this.#state = 'open';
        this.#host.clock.clearTimeout(this.#timer);
        const welcome = this.#host.welcome(this);
        const result: ConnectResult = { client: this.id, pingIntervalMs: this.#host.limits.pingIntervalMs };
        if (welcome !== undefined) result.data = welcome;
        if (resumed) {
          result.session = resumed.session;
          if (resumed.resumed) result.resumed = true;
        }
        this.#reply(id, result);
        this.#host.opened(this);
        const queued = this.#queue;
        this.#queue = [];
        for (const data of queued) {
          if (this.#state !== 'open') break;
          this.#handle(data);
        }
      },
      (error) => {
        if (this.#state !== 'authenticating') return;
        if (error instanceof RealtimeError && error.code === 'SHUTTING_DOWN') {
          this.#reply(id, undefined, error.code, error.message);
          this.close(CLOSE_CODES.SERVICE_RESTART, 'drain');
          return;
        }
        this.#reply(id, undefined, 'UNAUTHORIZED', error instanceof RealtimeError ? error.message : 'unauthorized');
        this.close(CLOSE_CODES.UNAUTHORIZED, 'unauthorized');
      },
    );
  }

  /** Rate limit for publishes and events: false (and an answer) when over it. */
  #takeToken(id: Id | undefined): boolean {
    const limits = this.#host.limits;
    const now = this.#host.clock.now();
    this.#tokens = Math.min(limits.publishBurst, this.#tokens + ((now - this.#refilledAt) * limits.publishRatePerSecond) / 1000);
    this.#refilledAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      this.#limitedInARow = 0;
      return true;
    }
    if (++this.#limitedInARow >= limits.floodLimit) {
      this.close(CLOSE_CODES.FLOOD, 'flooding');
      return false;
    }
    this.#answerBad(id, 'RATE_LIMITED', `more than ${limits.publishRatePerSecond} messages a second`);
    return false;
  }

  /** Runs a request's work; its outcome becomes the reply (pushes get errors as `error` messages). */
  #run(id: Id | undefined, work: (reply: (result: unknown) => void) => Promise<unknown>): void {
    if (this.#state === 'draining') {
      this.#answerBad(id, 'SHUTTING_DOWN', 'the server is draining; send it again after reconnecting');
      return;
    }
    if (this.#running >= this.#host.limits.maxPendingRequests) {
      this.#answerBad(id, 'TOO_MANY_PENDING', `more than ${this.#host.limits.maxPendingRequests} requests are running`);
      return;
    }
    this.#running++;
    let done = false;
    /** Ends the request once: clears its timer, then answers. */
    const end = (answer: () => void): void => {
      if (done) return;
      done = true;
      this.#host.clock.clearTimeout(timer);
      this.#timers.delete(timer);
      answer();
      this.#finished();
    };
    const timer = this.#host.clock.setTimeout(() => {
      this.#host.timedOut('handler');
      end(() => this.#answerBad(id, 'TIMEOUT', 'the handler did not reply in time'));
    }, this.#host.limits.requestTimeoutMs);
    this.#timers.add(timer);
    // The work may reply early (a subscription replies before it flushes what it buffered).
    const reply = (result: unknown): void => end(() => id !== undefined && this.#reply(id, result));
    work(reply).then(reply, (error) =>
      end(() => {
        if (error instanceof RealtimeError) this.#answerBad(id, error.code, error.message);
        else this.#answerBad(id, 'HANDLER_ERROR', 'the handler failed');
      }),
    );
  }

  #finished(): void {
    if (--this.#running === 0 && this.#idle) {
      const idle = this.#idle;
      this.#idle = null;
      idle();
    }
  }

  #answered(id: Id, result: unknown, error: { code: string; message?: string } | undefined): void {
    if (typeof id !== 'number') return;
    const pending = this.#outgoing.get(id);
    if (!pending) return; // late (after its timeout) or unknown: ignored, as the spec says
    this.#outgoing.delete(id);
    this.#host.clock.clearTimeout(pending.timer);
    if (error) pending.reject(new RealtimeError(error.code, error.message));
    else pending.resolve(result);
  }

  #reply(id: Id, result: unknown, code?: ErrorCode | string, message?: string): void {
    if (this.#state === 'closed') return;
    this.#transport.send(serialize(code ? { type: 'reply', id, error: { code, message } } : { type: 'reply', id, result: result ?? null }));
  }

  /** An error as the reply to `id`, or as an `error` push when there is no id. */
  #answerBad(id: Id | undefined, code: string, message: string): void {
    if (this.#state === 'closed') return;
    if (id !== undefined) this.#reply(id, undefined, code, message);
    else this.#transport.send(serialize({ type: 'error', code, message }));
  }

  #closed(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state === 'open' || this.#state === 'draining';
    this.#state = 'closed';
    this.#transport.onmessage = null;
    this.#host.clock.clearTimeout(this.#timer);
    // Handlers still running answer nobody: their timeouts go too (no timer outlives a connection).
    for (const timer of this.#timers) this.#host.clock.clearTimeout(timer);
    this.#timers.clear();
    this.#queue = [];
    for (const pending of this.#outgoing.values()) {
      this.#host.clock.clearTimeout(pending.timer);
      pending.reject(new RealtimeError('DISCONNECTED', 'the connection closed before the reply'));
    }
    this.#outgoing.clear();
    if (this.#idle) this.#idle();
    if (wasOpen) this.#host.closed(this, code, reason);
  }
}

/** A text frame or a binary frame as a message (or why not). */
function parse(data: string | Uint8Array): ReturnType<typeof parseMessage> {
  return typeof data === 'string' ? parseMessage(data) : parseBinaryMessage(data);
}

/** The UTF-8 length of a string (a surrogate pair is 4 bytes: 2 units counted 2 each). */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x800) bytes += unit >= 0xd800 && unit <= 0xdfff ? 1 : 2;
    else if (unit >= 0x80) bytes += 1;
  }
  return bytes;
}
