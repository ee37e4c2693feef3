/**
 * The fdx.v1 client (docs/protocol.md), for browsers and Node alike: one WebSocket at a time,
 * reconnecting with exponential backoff and full jitter, resubscribing every channel from its
 * last position (and telling the app whether recovery succeeded), a bounded offline outbox whose
 * publications carry idempotency keys (so each is stored once however often it is sent),
 * requests with timeouts, retries and deadlines, heartbeats, drain hints, and optional positions
 * in sessionStorage so that a reload resumes without loss.
 * Written as closures over local state, not a class: the browser build must stay under 5 KB
 * gzipped, and locals minify to one letter where fields would not.
 * Must not: import node:* or anything outside realtime/ (it is bundled for the browser).
 */
import { systemClock, type TimerHandle } from '../clock.js';
import type { EventMap } from '../event-map.js';
import { SUBPROTOCOL, frameBinary, parseBinary, parseMessage, serialize, shouldReconnect, type ConnectResult, type Id, type Message, type Position, type SubscribeResult } from '../protocol.js';
import { RealtimeError } from '../realtime-error.js';
import { listen, presenceViews, type Views } from './presence-views.js';
import type { ClientOptions, ClientState, Lifecycle, PositionStorage, PublicationInfo, RealtimeClient, RequestOptions, WebSocketConstructor, WebSocketLike } from './client-api.js';

export type * from './client-api.js';

interface Pending {
  /** The message without its id. */
  m: Record<string, unknown> & { type: string };
  resolve(value: any): void;
  reject(error: RealtimeError): void;
  /** The id it was sent with on the current connection, or undefined while in the outbox. */
  id?: Id;
  timer?: TimerHandle;
  deadline: number;
  timeoutMs: number;
  retries: number;
}

interface Sub {
  handler: ((data: any, info: PublicationInfo) => void) | undefined;
  pos: Position | undefined;
  /**
   * A (re)subscription is on its way: live publications of the earlier subscription are
   * dropped, since the reply recovers everything after the position it was sent with.
   */
  wait?: boolean;
}

export function createClient<ToServer extends EventMap = EventMap, ToClient extends EventMap = EventMap>(
  url: string,
  options: ClientOptions = {},
): RealtimeClient<ToServer, ToClient> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const WS = options.WebSocket ?? ((globalThis as any).WebSocket as WebSocketConstructor);
  if (!WS) throw new TypeError('no WebSocket: pass options.WebSocket (in Node 20, WebSocket from "fullduplex")');
  const minDelay = options.minDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 20_000;
  const maxInflight = options.maxInflight ?? 32;
  const storage = options.persist === true ? ((globalThis as any).sessionStorage as PositionStorage | undefined) : options.persist || undefined;
  const storageKey = 'fdx:' + url;
  const subs = new Map<string, Sub>();
  const handlers = new Map<string, (data: any) => any>();
  const listeners: { [K in keyof Lifecycle]?: Set<Lifecycle[K]> } = {};
  const views: Views = new Map();
  /** Requests sent on the current connection, by id. */
  const inflight = new Map<Id, Pending>();
  /** Requests waiting for a connection, oldest first. */
  let outbox: Pending[] = [];
  let ws: WebSocketLike | null = null;
  let state: ClientState = 'connecting';
  let ready = false;
  let draining = false;
  let attempt = 0;
  let nextId = 0;
  let keys = 0;
  let clientId = '';
  let retryTimer: TimerHandle;
  let beatTimer: TimerHandle;
  let lastHeard = 0;
  /** The server's session (if it keeps them): named in the next connect to resume it. */
  let session: string | undefined;
  let pingMs = 0;

  let saved: Record<string, Position> = {};
  try {
    saved = JSON.parse(storage?.getItem(storageKey) || '{}');
  } catch {}

  function fire<K extends keyof Lifecycle>(type: K, ...args: Parameters<Lifecycle[K]>): void {
    listeners[type]?.forEach((listener) => (listener as (...a: unknown[]) => void)(...args));
  }

  const { presence, presenceMessage, absent } = presenceViews(views, (channel, meta) => {
    const sub = subs.get(channel);
    return ready && sub && !sub.wait ? enqueue({ type: 'set-presence', channel, meta }) : Promise.resolve(null);
  });

  function setState(next: ClientState): void {
    if (state !== next) fire('state', (state = next));
  }

  /** An idempotency key: 16 random characters, unique across clients, plus a counter, unique within one. */
  function key(): string {
    let out = '';
    for (let i = 0; i < 16; i++) out += 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[Math.floor(random() * 62)];
    return out + (++keys).toString(36);
  }

  /** A message as one frame: binary when its `data` is bytes (a binary publish). */
  function send(message: any): void {
    const data = message.data;
    ws!.send(data instanceof Uint8Array ? frameBinary({ ...message, data: undefined }, data) : serialize(message as Message));
  }

  async function open(): Promise<void> {
    retryTimer = undefined;
    setState('connecting');
    let token: string | undefined;
    try {
      token = typeof options.token === 'function' ? await options.token() : options.token;
    } catch {
      return dropped(1006);
    }
    if (state === 'closed') return;
    let socket: WebSocketLike;
    try {
      socket = ws = new WS(url, SUBPROTOCOL);
      socket.binaryType = 'arraybuffer';
    } catch {
      return dropped(1006);
    }
    let foreign = false;
    socket.onopen = () => {
      // A server that did not pick fdx.v1 does not speak it: stop, do not retry (section 1).
      if ((foreign = socket.protocol !== SUBPROTOCOL)) return socket.close(1000, 'fdx.v1 required');
      lastHeard = clock.now();
      send({ type: 'connect', id: 0, token, data: options.data, session });
    };
    socket.onmessage = (event) => socket === ws && receive(event.data);
    socket.onclose = (event) => socket === ws && dropped(event.code, !foreign);
    socket.onerror = null;
    // No welcome within the request timeout (a dead network, a server that never answers): retry.
    beatTimer = clock.setTimeout(() => {
      if (ws !== socket) return;
      dropped(1006);
      socket.close();
    }, options.timeoutMs ?? 10_000);
  }

  function receive(data: unknown): void {
    lastHeard = clock.now();
    const parsed = typeof data == 'string' ? parseMessage(data) : parseBinary(new Uint8Array(data as ArrayBuffer));
    if (!parsed.ok) return;
    const m = parsed.message;
    if (m.type === 'reply') {
      if (m.id === 0 && !ready) return connected(m.result as ConnectResult, m.error);
      const p = inflight.get(m.id);
      if (!p) return;
      inflight.delete(m.id);
      clock.clearTimeout(p.timer);
      // A draining server refused it: it goes on the next connection.
      if (m.error?.code === 'SHUTTING_DOWN' && p.m.type !== 'subscribe') transmit(p, true);
      else if (m.error) p.reject(new RealtimeError(m.error.code, m.error.message));
      else p.resolve(m.result);
      pump();
    } else if (m.type === 'pub') {
      deliver(m.channel, m.data, m.offset, m.epoch);
    } else if (m.type === 'event') {
      const handler = handlers.get(m.event);
      const id = m.id;
      const answer = (result: unknown, code?: string, message?: string) =>
        id !== undefined && ws && send(code ? { type: 'reply', id, error: { code, message } } : { type: 'reply', id, result: result ?? null });
      if (!handler) return void answer(null, 'UNKNOWN_EVENT', m.event);
      new Promise((resolve) => resolve(handler(m.data))).then(answer, (e) => answer(null, e?.code || 'HANDLER_ERROR', String(e?.message ?? e)));
    } else if (m.type === 'ping') {
      send({ type: 'pong' });
    } else if (m.type === 'join') {
      const sub = subs.get(m.channel) ?? { handler: undefined, pos: undefined };
      sub.pos = m.position;
      subs.set(m.channel, sub);
      store(m.channel, m.position);
      fire('subscribed', m.channel, m.recovered !== false);
    } else if (m.type === 'presence') {
      if (subs.has(m.channel)) presenceMessage(m);
    } else if (m.type === 'leave') {
      subs.delete(m.channel);
      absent(m.channel);
    } else if (m.type === 'drain') {
      draining = true;
      fire('drain');
    } else if (m.type === 'error') {
      fire('error', new RealtimeError(m.code, m.message));
    }
  }

  function connected(result: ConnectResult | undefined, error: { code: string; message?: string } | undefined): void {
    if (error || !result) return; // the server closes next (4500 or 1012), which decides
    ready = true;
    attempt = 0;
    clientId = result.client;
    session = result.session;
    pingMs = result.pingIntervalMs;
    clock.clearTimeout(beatTimer);
    setState('connected');
    fire('online', result.data);
    beat();
    for (const channel of subs.keys()) resubscribe(channel);
    pump();
  }

  /** Heartbeat: a ping per interval; silence for two intervals means the connection is dead. */
  function beat(): void {
    if (!pingMs) return;
    beatTimer = clock.setTimeout(() => {
      if (!ready) return;
      if (clock.now() - lastHeard >= 2 * pingMs) {
        const socket = ws!;
        dropped(4000);
        socket.close(4000, 'heartbeat');
        return;
      }
      send({ type: 'ping' });
      beat();
    }, pingMs);
  }

  function resubscribe(channel: string): void {
    const sub = subs.get(channel)!;
    const since = sub.pos ?? saved[channel];
    sub.wait = true;
    const p: Pending = {
      m: since ? { type: 'subscribe', channel, since } : { type: 'subscribe', channel },
      resolve: (r: SubscribeResult) => {
        if (subs.get(channel) !== sub) return;
        sub.wait = false;
        for (const pub of r.publications) deliver(channel, pub.bytes != null ? Uint8Array.from(atob(pub.bytes), (c) => c.charCodeAt(0)) : pub.data, pub.offset, r.position.epoch);
        sub.pos = r.position;
        store(channel, r.position);
        fire('subscribed', channel, r.recovered);
        const meta = views.get(channel)?.meta;
        if (meta !== undefined) enqueue({ type: 'set-presence', channel, meta }).catch(() => {});
      },
      reject: (e) => {
        if (subs.get(channel) !== sub) return;
        // The server's engine is out of reach for now (Redis down): the channel stays, asked again.
        // (A new connection in between subscribes again by itself.)
        const socket = ws;
        if (e.code === 'UNAVAILABLE') return void clock.setTimeout(() => subs.get(channel) === sub && ready && ws === socket && resubscribe(channel), minDelay);
        if (e.code !== 'DISCONNECTED') {
          subs.delete(channel);
          fire('error', e);
        }
      },
      deadline: Infinity,
      timeoutMs: options.timeoutMs ?? 10_000,
      retries: 0,
    };
    write(p);
  }

  function deliver(channel: string, data: unknown, offset: string, epoch: string): void {
    const sub = subs.get(channel);
    if (!sub || sub.wait) return;
    sub.pos = { offset, epoch };
    const info = { channel, offset, epoch };
    sub.handler?.(data, info);
    fire('publication', data, info);
    store(channel, sub.pos);
  }

  function store(channel: string, pos: Position): void {
    if (!storage) return;
    saved[channel] = pos;
    try {
      storage.setItem(storageKey, JSON.stringify(saved));
    } catch {}
  }

  /** Sends a request now on a ready connection. */
  function write(p: Pending): void {
    const id = (p.id = ++nextId);
    inflight.set(id, p);
    send({ ...p.m, id });
    p.timer = clock.setTimeout(() => {
      inflight.delete(id);
      if (p.retries-- > 0) transmit(p, true);
      else p.reject(new RealtimeError('TIMEOUT', 'no reply in time'));
      pump();
    }, Math.min(p.timeoutMs, p.deadline - clock.now()));
  }

  /**
   * Queues a request in the outbox (at the front for one that was already sent) and sends what
   * the connection can take: at most maxInflight requests await replies at once, so a long
   * outbox does not hit the server's pending-request limit when it is flushed.
   */
  function transmit(p: Pending, first?: boolean): void {
    clock.clearTimeout(p.timer);
    if (clock.now() >= p.deadline) return p.reject(new RealtimeError('DEADLINE_EXCEEDED', 'the deadline passed'));
    p.id = undefined;
    if (first) outbox.unshift(p);
    else outbox.push(p);
    p.timer = clock.setTimeout(() => {
      outbox = outbox.filter((q) => q !== p);
      p.reject(new RealtimeError('DEADLINE_EXCEEDED', 'the deadline passed while queued'));
    }, p.deadline - clock.now());
    pump();
  }

  function pump(): void {
    while (ready && !draining && outbox.length > 0 && inflight.size < maxInflight) {
      const p = outbox.shift()!;
      clock.clearTimeout(p.timer);
      write(p);
    }
  }

  function enqueue<T>(m: Pending['m'], o: RequestOptions = {}, resend = 0): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (state === 'closed') return reject(new RealtimeError('CLOSED', 'the client is closed'));
      if (outbox.length >= (options.maxOutbox ?? 100)) return reject(new RealtimeError('OUTBOX_FULL', 'the outbox is full'));
      transmit({
        m,
        resolve,
        reject,
        deadline: clock.now() + (o.deadlineMs ?? options.deadlineMs ?? 30_000),
        timeoutMs: o.timeoutMs ?? options.timeoutMs ?? 10_000,
        retries: o.retries ?? options.retries ?? resend,
      });
    });
  }

  function dropped(code: number, spoke = true): void {
    clock.clearTimeout(beatTimer);
    const wasReady = ready;
    ready = draining = false;
    ws = null;
    clientId = '';
    // Sent but unanswered: publications (idempotent) and requests with retries left go again,
    // ahead of what was queued after them.
    const sent = [...inflight.values()].reverse();
    inflight.clear();
    for (const p of sent) {
      clock.clearTimeout(p.timer);
      if (p.m.type === 'subscribe') p.reject(new RealtimeError('DISCONNECTED', 'disconnected'));
      else if (p.m.type === 'publish' || p.retries-- > 0) transmit(p, true);
      else p.reject(new RealtimeError('DISCONNECTED', 'the connection dropped before the reply'));
    }
    if (wasReady) fire('offline', code);
    if (state === 'closed') return;
    if (!spoke || !shouldReconnect(code)) {
      fire('error', new RealtimeError(code === 4500 ? 'UNAUTHORIZED' : 'CLOSED', `closed by the server (${code})`));
      return close();
    }
    setState('disconnected');
    // A drain (1012) asks for a reconnect at once, jittered under a second; else full jitter.
    const delay = code === 1012 ? random() * 1000 : random() * Math.min(maxDelay, minDelay * 2 ** attempt++);
    retryTimer = clock.setTimeout(open, delay);
  }

  function close(): void {
    if (state === 'closed') return;
    setState('closed');
    clock.clearTimeout(retryTimer);
    const socket = ws;
    if (socket) {
      dropped(1000);
      socket.close(1000, '');
    }
    for (const p of outbox) {
      clock.clearTimeout(p.timer);
      p.reject(new RealtimeError('CLOSED', 'the client is closed'));
    }
    outbox = [];
    if (onOnline) (globalThis as any).removeEventListener('online', onOnline);
  }

  function reconnect(): void {
    if (state === 'disconnected') {
      clock.clearTimeout(retryTimer);
      attempt = 0;
      void open();
    }
  }

  // A browser that comes back online reconnects at once rather than at the end of a backoff.
  const onOnline = typeof (globalThis as any).addEventListener === 'function' ? reconnect : null;
  if (onOnline) (globalThis as any).addEventListener('online', onOnline);

  void open();

  return {
    get state() {
      return state;
    },
    get id() {
      return clientId;
    },
    subscribe(channel, handler) {
      const sub: Sub = { handler, pos: subs.get(channel)?.pos };
      subs.set(channel, sub);
      if (ready) resubscribe(channel);
      return () => {
        if (subs.get(channel) !== sub) return;
        subs.delete(channel);
        absent(channel);
        if (ready) enqueue({ type: 'unsubscribe', channel }).catch(() => {});
      };
    },
    position: (channel) => subs.get(channel)?.pos ?? saved[channel],
    publish: (channel, data, o) => enqueue({ type: 'publish', channel, data, key: key() }, o),
    request: (event, data, o) => enqueue({ type: 'event', event, data, key: key() }, o),
    emit(event, data) {
      if (ready && !draining) send({ type: 'event', event, data });
      else enqueue({ type: 'event', event, data }).catch(() => {});
    },
    handle(event, handler) {
      handlers.set(event, handler);
    },
    on: (type, listener) => listen(listeners, type, listener),
    presence,
    reconnect,
    close,
  };
}
