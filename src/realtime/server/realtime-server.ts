/**
 * The real-time server: connections in, channels with history and recovery over an Engine,
 * typed events with optional Standard Schema validation, pushes to a channel, to everyone, to
 * everyone but one, to one connection, and a drain spread over a period. Runtime-agnostic: it
 * sees Transports, a Clock and an Engine (src/realtime.ts mounts it on a WebSocketServer).
 *
 * Recovery without gap or duplicate: a subscription joins the channel's live fan-out first and
 * buffers what arrives, then reads history from the client's position, replies with it, and
 * delivers the buffered publications past the replied position; from then on a publication is
 * sent only if its offset is past the last one sent (docs/protocol.md section 3).
 * Fan-out serializes a publication's `pub` once and hands the same SharedText to every local
 * subscriber (buffered or live), so a transport that frames once for many sends the same bytes.
 * Presence (server/presence-hub.ts) is per channel, as the `presence` option decides: every
 * subscriber of a presence channel is a member under its user id, and subscribers get batched
 * diffs per tick over a PresenceStore shared by all processes.
 * Must not: import node:* or node/, or let one connection's failure reach another.
 */
import { systemClock, type Clock } from '../clock.js';
import type { Engine, EnginePublication, PublishOptions } from '../engine.js';
import type { EventData, EventMap, EventName, EventReply } from '../event-map.js';
import { MemoryEngine } from '../memory-engine.js';
import { MemoryPresenceStore } from '../memory-presence-store.js';
import type { RealtimeGauges, RealtimeObserver } from '../observer.js';
import type { PresenceStore } from '../presence-store.js';
import { channelProblem, serialize, type Message, type Position, type PresenceMember, type SubscribeResult } from '../protocol.js';
import { RealtimeError } from '../realtime-error.js';
import { SharedText } from '../shared-text.js';
import type { Transport } from '../transport.js';
import { resolveLimits, type RealtimeLimits } from './limits.js';
import { PresenceHub } from './presence-hub.js';
import { RealtimeConnection, type ChannelRequestType, type ConnectionHost } from './realtime-connection.js';
import { SessionBook } from './session-book.js';
import { pubFrame, wirePublication } from './publication-wire.js';
import { validateWith, type StandardSchemaV1 } from './standard-schema.js';
import { initialMetaOf, presenceOptionsOf, userOf, type EventHandler, type RealtimeServerOptions } from './realtime-server-options.js';

export type { ChannelAction, EventHandler, RealtimeServerOptions } from './realtime-server-options.js';

const SESSION_TTL_MS_DEFAULT = 120_000;

/** A live publication, its offset as a number and its `pub` message: made once for all subscribers. */
interface Delivery {
  publication: EnginePublication;
  offset: number;
  pub: SharedText;
  /** The transport key of a publication with `latest`: channel, NUL, latest. */
  key: string | undefined;
}

interface Membership {
  connection: RealtimeConnection<any, any>;
  /** Live publications that arrived while the subscription reads history; null once live. */
  buffer: Delivery[] | null;
  offset: number;
  epoch: string;
}

interface ChannelEntry {
  members: Set<Membership>;
  /** The engine subscription (resolves with its unsubscribe). */
  live: Promise<() => Promise<void>>;
}

export class RealtimeServer<ToServer extends EventMap = EventMap, ToClient extends EventMap = EventMap, Data = unknown> {
  readonly limits: RealtimeLimits;
  readonly engine: Engine;
  readonly #ownsEngine: boolean;
  readonly #clock: Clock;
  readonly #options: RealtimeServerOptions<Data>;
  readonly #connections = new Map<string, RealtimeConnection<ToClient, Data>>();
  readonly #channels = new Map<string, ChannelEntry>();
  /** connection -> its memberships by channel. */
  readonly #memberships = new WeakMap<RealtimeConnection<any, any>, Map<string, Membership>>();
  readonly #handlers = new Map<string, { handler: EventHandler<Data>; schema: StandardSchemaV1 | undefined }>();
  readonly #host: ConnectionHost;
  readonly #sessions: SessionBook | undefined;
  readonly presenceStore: PresenceStore;
  readonly #ownsPresenceStore: boolean;
  readonly #presence: PresenceHub;
  readonly #observer: RealtimeObserver | null;
  readonly #stopGauges: (() => void) | undefined;
  #accepting = true;

  constructor(options: RealtimeServerOptions<Data> = {}) {
    this.limits = resolveLimits(options);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#ownsEngine = !options.engine;
    this.engine = options.engine ?? new MemoryEngine({ clock: this.#clock });
    this.#sessions = options.sessions ? new SessionBook(options.sessions, options.sessionTtlMs ?? SESSION_TTL_MS_DEFAULT) : undefined;
    this.#ownsPresenceStore = !options.presenceStore;
    this.presenceStore = options.presenceStore ?? new MemoryPresenceStore({ clock: this.#clock });
    const observer = (this.#observer = options.observer ?? null);
    this.#presence = new PresenceHub({
      store: this.presenceStore,
      clock: this.#clock,
      tickMs: this.limits.presenceTickMs,
      onCount: observer?.presence ? (channel, members) => observer.presence!(channel, members) : undefined,
    });
    const server = this;
    this.#host = {
      limits: this.limits,
      clock: this.#clock,
      async authenticate(connection, token, data) {
        if (!server.#accepting) throw new RealtimeError('SHUTTING_DOWN', 'the server is shutting down');
        return options.authenticate ? options.authenticate({ token, data, request: connection.handshake }) : undefined;
      },
      resume: async (connection, session) => this.#sessions?.open(connection, session),
      welcome: (connection) => {
        try {
          return options.welcome?.(connection);
        } catch {
          return undefined; // a failing hook costs the client its welcome data, not its connection
        }
      },
      opened: (connection) => {
        if (!this.#accepting) {
          void connection.drain();
          return;
        }
        this.#connections.set(connection.id, connection);
        try {
          options.onConnection?.(connection);
        } catch {
          connection.close(1011, 'internal error'); // the application's hook failed: not this peer's doing
        }
      },
      closed: (connection, code, reason) => {
        this.#connections.delete(connection.id);
        this.#sessions?.closed(connection);
        for (const channel of [...connection.channels]) this.#removeMembership(connection, channel);
        try {
          options.onDisconnect?.(connection, code, reason);
        } catch {
          // The connection is gone either way; a failing hook must not reach the transport.
        }
      },
      channelRequest: (connection, message, reply) => this.#channelRequest(connection, message, reply),
      event: (connection, event, data, key) => this.#event(connection, event, data, key),
      timedOut: (side) => observer?.ackTimedOut?.(side),
    };
    this.#stopGauges = observer?.gauges?.(() => this.gauges());
  }

  /** Connections, channels, subscriptions and the busiest channels (by local subscribers) now. */
  gauges(): RealtimeGauges {
    let subscriptions = 0;
    const busiest: Array<{ channel: string; subscribers: number }> = [];
    for (const [channel, entry] of this.#channels) {
      subscriptions += entry.members.size;
      busiest.push({ channel, subscribers: entry.members.size });
    }
    busiest.sort((a, b) => b.subscribers - a.subscribers);
    return { connections: this.#connections.size, channels: this.#channels.size, subscriptions, busiest: busiest.slice(0, 20) };
  }

  /** Authenticated connections, by id. */
  get connections(): ReadonlyMap<string, RealtimeConnection<ToClient, Data>> {
    return this.#connections;
  }

  /** Takes a new connection; it must send `connect` first (docs/protocol.md section 4). */
  accept(transport: Transport, handshake?: unknown): RealtimeConnection<ToClient, Data> {
    return new RealtimeConnection<ToClient, Data>(transport, this.#host, handshake);
  }

  /** Registers the handler of a client event; its return value (or promise) is the reply. */
  on<E extends EventName<ToServer>>(
    event: E,
    handler: (data: EventData<ToServer, E>, connection: RealtimeConnection<ToClient, Data>, meta: { key: string | undefined }) => EventReply<ToServer, E> | Promise<EventReply<ToServer, E>>,
    options: { schema?: StandardSchemaV1<unknown, EventData<ToServer, E>> } = {},
  ): this {
    this.#handlers.set(event, { handler: handler as EventHandler<Data>, schema: options.schema as StandardSchemaV1 | undefined });
    return this;
  }

  /**
   * Publishes on a channel through the engine (positioned, kept in history, delivered to every
   * subscriber in every process). `data` that is a Uint8Array (a Buffer is one) is a binary
   * publication: subscribers get its bytes in a binary frame. `key` makes it idempotent;
   * `except` skips one local connection; `latest` lets a newer publication of the channel with
   * the same `latest` replace this one on a connection whose socket is backed up (with the
   * WebSocketServer's backpressurePolicy 'latest'), so a slow reader gets the newest values.
   */
  async publish(
    channel: string,
    data: unknown,
    options: { key?: string; except?: RealtimeConnection<any, any>; latest?: string } = {},
  ): Promise<{ offset: string; epoch: string; duplicate: boolean }> {
    const problem = channelProblem(channel);
    if (problem) throw new RealtimeError('CHANNEL_INVALID', problem);
    if (options.latest !== undefined && typeof options.latest !== 'string') throw new TypeError('latest must be a string');
    // A copy, as a plain Uint8Array: the caller may reuse its buffer once publish returns.
    const value = data instanceof Uint8Array ? new Uint8Array(data) : data;
    return this.#enginePublish(channel, value, options.key, options.except?.id, options.latest);
  }

  /** Sends an event to every connection of this server (but `except`); returns how many. */
  broadcast<E extends EventName<ToClient>>(event: E, data: EventData<ToClient, E>, options: { except?: RealtimeConnection<any, any> } = {}): number {
    const message = new SharedText(serialize({ type: 'event', event, data }));
    let count = 0;
    for (const connection of this.#connections.values()) {
      if (connection !== options.except && connection.sendShared(message)) count++;
    }
    return count;
  }

  /** Subscribes a connection from the server side; the client gets `join` with the position. */
  async join(connection: RealtimeConnection<any, any>, channel: string): Promise<void> {
    const problem = channelProblem(channel);
    if (problem) throw new RealtimeError('CHANNEL_INVALID', problem);
    await this.#subscribe(connection, channel, undefined, (result) => {
      connection.sendMessage({ type: 'join', channel, position: result.position });
    });
  }

  /** Removes a connection from a channel from the server side; the client gets `leave`. */
  leave(connection: RealtimeConnection<any, any>, channel: string, reason?: string): void {
    if (!connection.channels.has(channel)) return;
    this.#removeMembership(connection, channel);
    connection.sendMessage(reason === undefined ? { type: 'leave', channel } : { type: 'leave', channel, reason });
  }

  /** The members of a presence channel, across every process (read from the presence store). */
  presence(channel: string): Promise<Map<string, PresenceMember>> {
    const problem = channelProblem(channel);
    if (problem) return Promise.reject(new RealtimeError('CHANNEL_INVALID', problem));
    return this.#presence.members(channel).catch(() => {
      throw new RealtimeError('UNAVAILABLE', 'the presence store is unavailable');
    });
  }

  /**
   * Sets the presence metadata of a connection's user on a channel it is subscribed to (as the
   * client's set-presence does); subscribers see it in the next diff.
   */
  setPresence(connection: RealtimeConnection<any, any>, channel: string, meta: unknown): void {
    if (!presenceOptionsOf(this.#options, channel)) throw new RealtimeError('PRESENCE_DISABLED', `"${channel}" has no presence`);
    const size = JSON.stringify(meta ?? null).length;
    if (size > this.limits.maxPresenceMetaBytes) throw new RealtimeError('MESSAGE_TOO_LARGE', `presence metadata is limited to ${this.limits.maxPresenceMetaBytes} bytes`);
    if (!this.#presence.setMeta(connection, channel, meta ?? null)) throw new RealtimeError('NOT_SUBSCRIBED', `not subscribed to "${channel}"`);
  }

  /**
   * Graceful drain: new connections are refused, and each connection is told to reconnect
   * elsewhere (`drain`, then 1012 once its running handlers replied) at its own moment spread
   * evenly over `periodMs`, so that a restart does not become a reconnect storm.
   */
  async drain(periodMs: number = this.limits.drainPeriodMs): Promise<void> {
    this.#accepting = false;
    const connections = [...this.#connections.values()];
    const step = connections.length > 0 ? periodMs / connections.length : 0;
    await Promise.all(
      connections.map(
        (connection, i) =>
          new Promise<void>((resolve) => {
            const go = () => connection.drain().then(resolve, resolve);
            if (i === 0 || step === 0) go();
            else this.#clock.setTimeout(go, step * i);
          }),
      ),
    );
  }

  /** Closes every connection with 1001 at once, and the engine if the server made it. */
  async close(): Promise<void> {
    this.#accepting = false;
    this.#stopGauges?.();
    for (const connection of [...this.#connections.values()]) connection.close(1001, 'server closing');
    const lives = [...this.#channels.values()].map((entry) => entry.live);
    this.#channels.clear();
    await Promise.all(lives.map((live) => live.then((stop) => stop()).catch(() => undefined)));
    await this.#presence.close();
    if (this.#ownsEngine) await this.engine.close();
    if (this.#ownsPresenceStore) await this.presenceStore.close();
  }

  // ---- channels -------------------------------------------------------------------------

  async #enginePublish(channel: string, data: unknown, key: string | undefined, origin?: string, latest?: string): Promise<{ offset: string; epoch: string; duplicate: boolean }> {
    const options: PublishOptions = {};
    if (key !== undefined) options.key = key;
    if (origin !== undefined) options.origin = origin;
    if (latest !== undefined) options.latest = latest;
    let result: { offset: string; epoch: string; duplicate: boolean };
    try {
      result = await this.engine.publish(channel, data, options);
    } catch (error) {
      const failure = error instanceof RealtimeError ? error : new RealtimeError('UNAVAILABLE', 'the engine is unavailable');
      this.#observer?.publishFailed?.(channel, failure.code);
      throw failure;
    }
    if (!result.duplicate) this.#observer?.published?.(channel);
    return result;
  }

  async #channelRequest(
    connection: RealtimeConnection<any, any>,
    message: Message & { type: ChannelRequestType },
    reply: (result: unknown) => void,
  ): Promise<unknown> {
    const channel = message.channel;
    if (message.type === 'unsubscribe') {
      this.#removeMembership(connection, channel);
      return null;
    }
    if (message.type === 'set-presence') {
      this.setPresence(connection, channel, message.meta);
      return null;
    }
    const authorize = this.#options.authorize;
    // A resumed session's channels were authorized for this client already.
    if (authorize && !(message.type === 'subscribe' && this.#sessions?.granted(connection, channel))) {
      let allowed = false;
      try {
        allowed = await authorize(connection, channel, message.type);
      } catch {
        allowed = false;
      }
      if (!allowed) throw new RealtimeError('CHANNEL_FORBIDDEN', `${message.type} on "${channel}" is not allowed`);
    }
    if (message.type === 'publish') {
      const result = await this.#enginePublish(channel, message.data, message.key);
      return result.duplicate ? result : { offset: result.offset, epoch: result.epoch };
    }
    if (!connection.channels.has(channel) && connection.channels.size >= this.limits.maxChannelsPerConnection) {
      throw new RealtimeError('TOO_MANY_CHANNELS', `at most ${this.limits.maxChannelsPerConnection} channels per connection`);
    }
    await this.#subscribe(connection, channel, message.since, reply);
    return undefined; // replied already
  }

  /**
   * Joins the live fan-out (buffering), reads history from `since`, hands the result to `ready`
   * (which sends the reply or the join), then flushes the buffer past the result's position.
   */
  async #subscribe(connection: RealtimeConnection<any, any>, channel: string, since: Position | undefined, ready: (result: SubscribeResult) => void): Promise<void> {
    if (connection.state === 'closed') throw new RealtimeError('DISCONNECTED', 'the connection is closed');
    this.#removeMembership(connection, channel);
    const membership: Membership = { connection, buffer: [], offset: 0, epoch: '' };
    let byChannel = this.#memberships.get(connection);
    if (!byChannel) this.#memberships.set(connection, (byChannel = new Map()));
    byChannel.set(channel, membership);
    connection.channels.add(channel);
    let entry = this.#channels.get(channel);
    if (!entry) {
      const members = new Set<Membership>();
      const live = this.engine.subscribe(channel, (publication) => this.#deliver(members, publication));
      entry = { members, live };
      this.#channels.set(channel, entry);
      live.catch(() => {
        if (this.#channels.get(channel) === entry) this.#channels.delete(channel);
      });
    }
    entry.members.add(membership);
    let result: SubscribeResult;
    try {
      await entry.live;
      result = await this.engine.history(channel, since);
    } catch {
      if (byChannel.get(channel) === membership) this.#removeMembership(connection, channel);
      throw new RealtimeError('UNAVAILABLE', 'the engine is unavailable');
    }
    if (byChannel.get(channel) !== membership) {
      // Unsubscribed (or subscribed again) while reading history: answer, deliver nothing.
      ready(result);
      return;
    }
    if (since) this.#observer?.recovery?.(channel, result.recovered);
    const buffered = membership.buffer!;
    const first = buffered[0]?.publication;
    if (!since && first && first.epoch === result.position.epoch) {
      // A fresh subscription starts where its live feed started: what was published after it
      // took effect (and so may have raced the history read) is delivered, not skipped.
      result = { ...result, position: { offset: String(Number(first.offset) - 1), epoch: first.epoch } };
    }
    membership.offset = Number(result.position.offset);
    membership.epoch = result.position.epoch;
    this.#sessions?.changed(connection);
    ready({ ...result, publications: result.publications.map(wirePublication) });
    membership.buffer = null;
    for (const delivery of buffered) this.#deliverTo(membership, delivery);
    const presence = presenceOptionsOf(this.#options, channel);
    if (presence && byChannel.get(channel) === membership) {
      this.#presence.add(connection, channel, presence, userOf(this.#options, connection), initialMetaOf(this.#options, connection, channel));
    }
  }

  #deliver(members: Set<Membership>, publication: EnginePublication): void {
    const skip = publication.origin;
    let delivery: Delivery | undefined;
    for (const membership of members) {
      if (skip !== undefined && membership.connection.id === skip) continue;
      delivery ??= {
        publication,
        offset: Number(publication.offset),
        pub: new SharedText(pubFrame(publication)),
        key: publication.latest === undefined ? undefined : publication.channel + '\0' + publication.latest,
      };
      if (membership.buffer) membership.buffer.push(delivery);
      else this.#deliverTo(membership, delivery);
    }
  }

  #deliverTo(membership: Membership, { publication, offset, pub, key }: Delivery): void {
    const sameEpoch = publication.epoch === membership.epoch;
    if (sameEpoch && offset <= membership.offset) return; // already sent (history or earlier)
    if (!sameEpoch || (publication.afterLoss && offset > membership.offset + 1)) {
      // The engine lost publications (a new epoch, or a gap history no longer held): the client
      // cannot recover what it had not received, and is told so before the next publication.
      membership.connection.sendMessage({ type: 'join', channel: publication.channel, position: { offset: String(offset - 1), epoch: publication.epoch }, recovered: false });
      this.#observer?.recovery?.(publication.channel, false);
    }
    membership.offset = offset;
    membership.epoch = publication.epoch;
    membership.connection.sendShared(pub, key);
  }

  #removeMembership(connection: RealtimeConnection<any, any>, channel: string): void {
    if (connection.channels.delete(channel)) this.#sessions?.changed(connection, channel);
    this.#presence.remove(connection, channel);
    const byChannel = this.#memberships.get(connection);
    const membership = byChannel?.get(channel);
    if (!membership) return;
    byChannel!.delete(channel);
    const entry = this.#channels.get(channel);
    if (!entry) return;
    entry.members.delete(membership);
    if (entry.members.size === 0) {
      this.#channels.delete(channel);
      entry.live.then((stop) => stop()).catch(() => undefined);
    }
  }

  // ---- events ---------------------------------------------------------------------------

  async #event(connection: RealtimeConnection<any, any>, event: string, data: unknown, key: string | undefined): Promise<unknown> {
    const entry = this.#handlers.get(event);
    if (!entry) throw new RealtimeError('UNKNOWN_EVENT', `no handler for "${event.slice(0, 60)}"`);
    let value = data;
    if (entry.schema) {
      const checked = await validateWith(entry.schema, data);
      if (!checked.ok) throw new RealtimeError('INVALID_PAYLOAD', checked.message);
      value = checked.value;
    }
    return entry.handler(value, connection as RealtimeConnection<any, Data>, { key });
  }
}
