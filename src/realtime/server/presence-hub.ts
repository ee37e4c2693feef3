/**
 * Presence for one server process, above the PresenceStore port: per channel the local members
 * (a user with several connections is one member), the other nodes' entries, and the view last
 * sent to subscribers. Changes only mark users dirty; once per tick a channel writes its local
 * changes to the store (which tells the other nodes) and sends one diff to its subscribers, and
 * one snapshot to those that arrived during the tick. So a join storm of N costs a subscriber
 * one message per tick, not N. Count-only channels send the member count alone.
 *
 * Convergence: every ttlMs/3 the hub rewrites its own entries (the heartbeat that keeps them
 * alive) and reads the channel's entries back, replacing what it believed of the other nodes.
 * Changes that arrive during that read are applied again after it. A node that died stops
 * refreshing, its entries expire after ttlMs, and every view drops them by the next read:
 * within ttlMs + ttlMs/3 + one tick.
 * Must not: send a message per change, or let a store failure reach a connection (a failed
 * write is repaired by the next heartbeat or by expiry).
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { PresenceChange, PresenceEntry, PresenceStore } from '../presence-store.js';
import type { PresenceMember } from '../protocol.js';
import { SharedText } from '../shared-text.js';

/** A channel's presence settings (RealtimeServerOptions.presence). */
export interface PresenceChannelOptions {
  /** Subscribers get the member count only, never the members (for huge channels). Default false. */
  countOnly?: boolean;
  /** How often diffs are sent, in ms. Default: the server's presenceTickMs. */
  tickMs?: number;
}

/** What the hub needs of a subscriber: a way to send it a shared text. */
export interface PresenceSubscriber {
  sendShared(message: SharedText): boolean;
}

interface LocalMember {
  connections: Set<PresenceSubscriber>;
  meta: unknown;
  at: number;
}

interface ChannelPresence {
  readonly name: string;
  readonly countOnly: boolean;
  readonly tickMs: number;
  readonly local: Map<string, LocalMember>;
  /** Subscribers (every one is a member) and their user. */
  readonly subscribers: Map<PresenceSubscriber, string>;
  /** Subscribers that get a snapshot at the next tick (and no diff before it). */
  readonly fresh: Set<PresenceSubscriber>;
  /** user -> node -> entry, for the other nodes. */
  remote: Map<string, Map<string, PresenceEntry>>;
  /** user -> the member's JSON as last sent ('' in count-only channels). */
  readonly sent: Map<string, string>;
  /** Users whose view may have changed since the last tick. */
  readonly dirty: Set<string>;
  /** Users whose local entry must be written at the next tick. */
  readonly localDirty: Set<string>;
  timer: TimerHandle | null;
  /** False until the first read of the store seeded `remote`. */
  ready: boolean;
  /** Changes that arrived during a read of the store, applied again after it; null when none runs. */
  buffer: PresenceChange[] | null;
  unsubscribe: Promise<(() => Promise<void>) | null>;
}

export interface PresenceHubOptions {
  store: PresenceStore;
  clock: Clock;
  /** Tick of channels that do not set their own. */
  tickMs: number;
  /** Told a channel's member count at each tick that changed it (the server's observer). */
  onCount?: (channel: string, members: number) => void;
}

let nodeCounter = 0;

export class PresenceHub {
  /** This process's name in the store. */
  readonly node: string;
  readonly #store: PresenceStore;
  readonly #clock: Clock;
  readonly #tickMs: number;
  readonly #onCount: ((channel: string, members: number) => void) | undefined;
  readonly #channels = new Map<string, ChannelPresence>();
  #heartbeat: TimerHandle | null = null;

  constructor(options: PresenceHubOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#tickMs = options.tickMs;
    this.#onCount = options.onCount;
    this.node = `n${(++nodeCounter).toString(36)}${Math.floor(Math.random() * 2 ** 40).toString(36)}`;
  }

  /** Whether `channel` has presence here (a subscriber of it is a member). */
  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  /** Adds a subscriber as a member of `user`; its snapshot follows at the channel's next tick. */
  add(subscriber: PresenceSubscriber, channel: string, options: PresenceChannelOptions, user: string, meta: unknown): void {
    // Removed first: were it the channel's only subscriber, the channel closes and opens anew.
    this.remove(subscriber, channel);
    const state = this.#channels.get(channel) ?? this.#open(channel, options);
    state.subscribers.set(subscriber, user);
    state.fresh.add(subscriber);
    let member = state.local.get(user);
    if (!member) {
      // `at` 0: a joining connection's first metadata never overrides metadata set on purpose elsewhere.
      state.local.set(user, (member = { connections: new Set(), meta, at: 0 }));
    }
    member.connections.add(subscriber);
    this.#touch(state, user, true);
  }

  /** Removes a subscriber; its user leaves once it has no other connection here. */
  remove(subscriber: PresenceSubscriber, channel: string): void {
    const state = this.#channels.get(channel);
    const user = state?.subscribers.get(subscriber);
    if (!state || user === undefined) return;
    state.subscribers.delete(subscriber);
    state.fresh.delete(subscriber);
    const member = state.local.get(user)!;
    member.connections.delete(subscriber);
    if (member.connections.size === 0) state.local.delete(user);
    this.#touch(state, user, true);
    if (state.subscribers.size === 0) void this.#close(state);
  }

  /** Sets the metadata of the subscriber's user on `channel`; false when it is not a member. */
  setMeta(subscriber: PresenceSubscriber, channel: string, meta: unknown): boolean {
    const state = this.#channels.get(channel);
    const user = state?.subscribers.get(subscriber);
    if (!state || user === undefined) return false;
    const member = state.local.get(user)!;
    member.meta = meta;
    member.at = this.#clock.now();
    this.#touch(state, user, true);
    return true;
  }

  /** The channel's members across every node, read from the store. */
  async members(channel: string): Promise<Map<string, PresenceMember>> {
    const byUser = new Map<string, Map<string, PresenceEntry>>();
    for (const entry of await this.#store.read(channel)) {
      let nodes = byUser.get(entry.user);
      if (!nodes) byUser.set(entry.user, (nodes = new Map()));
      nodes.set(entry.node, entry);
    }
    const out = new Map<string, PresenceMember>();
    for (const [user, nodes] of byUser) out.set(user, merge(undefined, nodes)!);
    return out;
  }

  /** Stops every timer and removes this node's entries (best effort: they expire anyway). */
  async close(): Promise<void> {
    this.#clock.clearTimeout(this.#heartbeat);
    this.#heartbeat = null;
    const states = [...this.#channels.values()];
    for (const state of states) {
      for (const user of state.local.keys()) state.localDirty.add(user);
      state.local.clear();
      state.subscribers.clear();
    }
    await Promise.all(states.map((state) => this.#close(state)));
  }

  // ---- channels -------------------------------------------------------------------------

  #open(channel: string, options: PresenceChannelOptions): ChannelPresence {
    const state: ChannelPresence = {
      name: channel,
      countOnly: options.countOnly === true,
      tickMs: options.tickMs ?? this.#tickMs,
      local: new Map(),
      subscribers: new Map(),
      fresh: new Set(),
      remote: new Map(),
      sent: new Map(),
      dirty: new Set(),
      localDirty: new Set(),
      timer: null,
      ready: false,
      buffer: [],
      unsubscribe: Promise.resolve(null),
    };
    this.#channels.set(channel, state);
    state.unsubscribe = this.#store.subscribe(channel, (change) => this.#changed(state, change)).then(
      async (unsubscribe) => {
        await this.#reconcile(state);
        state.ready = true;
        this.#schedule(state);
        return unsubscribe;
      },
      () => {
        // The store is unavailable: serve the local members, and try again at the heartbeat.
        state.ready = true;
        state.buffer = null;
        this.#schedule(state);
        return null;
      },
    );
    this.#heartbeat ??= this.#clock.setTimeout(() => this.#beat(), this.#store.ttlMs / 3);
    return state;
  }

  async #close(state: ChannelPresence): Promise<void> {
    if (this.#channels.get(state.name) !== state) return;
    this.#channels.delete(state.name);
    this.#clock.clearTimeout(state.timer);
    state.timer = null;
    // No local subscriber is left to watch the channel: this process stops counting it.
    if (state.sent.size > 0) this.#onCount?.(state.name, 0);
    const unsubscribe = await state.unsubscribe;
    await this.#writeLocal(state);
    await unsubscribe?.().catch(() => undefined);
    if (this.#channels.size === 0) {
      this.#clock.clearTimeout(this.#heartbeat);
      this.#heartbeat = null;
    }
  }

  #touch(state: ChannelPresence, user: string, local: boolean): void {
    state.dirty.add(user);
    if (local) state.localDirty.add(user);
    this.#schedule(state);
  }

  #schedule(state: ChannelPresence): void {
    if (state.timer !== null || !state.ready || this.#channels.get(state.name) !== state) return;
    if (state.dirty.size === 0 && state.fresh.size === 0 && state.localDirty.size === 0) return;
    state.timer = this.#clock.setTimeout(() => this.#tick(state), state.tickMs);
  }

  /** A change from the store: another node's entries, applied to `remote`. */
  #changed(state: ChannelPresence, change: PresenceChange): void {
    if (change.node === this.node) return;
    state.buffer?.push(change);
    this.#apply(state, change);
    this.#schedule(state);
  }

  #apply(state: ChannelPresence, change: PresenceChange): void {
    for (const entry of change.set) {
      let nodes = state.remote.get(entry.user);
      if (!nodes) state.remote.set(entry.user, (nodes = new Map()));
      nodes.set(change.node, entry);
      state.dirty.add(entry.user);
    }
    for (const user of change.remove) {
      const nodes = state.remote.get(user);
      if (!nodes?.delete(change.node)) continue;
      if (nodes.size === 0) state.remote.delete(user);
      state.dirty.add(user);
    }
  }

  /** Writes the local entries of users changed since the last write, telling the other nodes. */
  async #writeLocal(state: ChannelPresence): Promise<void> {
    if (state.localDirty.size === 0) return;
    const change: PresenceChange = { node: this.node, set: [], remove: [] };
    for (const user of state.localDirty) {
      const entry = this.#entry(state, user);
      if (entry) change.set.push(entry);
      else change.remove.push(user);
    }
    state.localDirty.clear();
    await this.#store.write(state.name, change).catch(() => undefined);
  }

  #entry(state: ChannelPresence, user: string): PresenceEntry | undefined {
    const member = state.local.get(user);
    return member && { node: this.node, user, connections: member.connections.size, meta: member.meta, at: member.at };
  }

  /** One tick of a channel: write local changes, then one diff to subscribers and one snapshot to newcomers. */
  #tick(state: ChannelPresence): void {
    state.timer = null;
    void this.#writeLocal(state);
    const join: string[] = [];
    const update: string[] = [];
    const leave: string[] = [];
    for (const user of state.dirty) {
      const member = merge(state.local.get(user), state.remote.get(user));
      const json = member === undefined ? undefined : state.countOnly ? '' : JSON.stringify(member);
      const before = state.sent.get(user);
      if (json === before) continue;
      if (json === undefined) {
        state.sent.delete(user);
        leave.push(user);
      } else {
        state.sent.set(user, json);
        (before === undefined ? join : update).push(user);
      }
    }
    state.dirty.clear();
    const head = `{"type":"presence","channel":${JSON.stringify(state.name)},"count":${state.sent.size}`;
    const changed = join.length + update.length + leave.length > 0;
    if (changed) {
      let text = head;
      if (!state.countOnly) {
        if (join.length > 0) text += `,"join":${this.#members(state, join)}`;
        if (update.length > 0) text += `,"update":${this.#members(state, update)}`;
        if (leave.length > 0) text += `,"leave":${JSON.stringify(leave)}`;
      }
      this.#onCount?.(state.name, state.sent.size);
      const diff = new SharedText(text + '}');
      for (const subscriber of state.subscribers.keys()) if (!state.fresh.has(subscriber)) subscriber.sendShared(diff);
    }
    if (state.fresh.size > 0) {
      const snapshot = new SharedText(state.countOnly ? head + '}' : `${head},"members":${this.#members(state, state.sent.keys())}}`);
      for (const subscriber of state.fresh) subscriber.sendShared(snapshot);
      state.fresh.clear();
    }
  }

  /** A JSON object of `users` and their members as last sent. */
  #members(state: ChannelPresence, users: Iterable<string>): string {
    let text = '{';
    for (const user of users) text += `${text.length > 1 ? ',' : ''}${JSON.stringify(user)}:${state.sent.get(user)}`;
    return text + '}';
  }

  // ---- heartbeat ------------------------------------------------------------------------

  #beat(): void {
    this.#heartbeat = this.#clock.setTimeout(() => this.#beat(), this.#store.ttlMs / 3);
    for (const state of this.#channels.values()) {
      if (!state.ready || state.buffer) continue;
      void this.#refresh(state);
    }
  }

  /** Rewrites this node's entries (keeping them alive), then reads the channel back. */
  async #refresh(state: ChannelPresence): Promise<void> {
    const set: PresenceEntry[] = [];
    for (const user of state.local.keys()) if (!state.localDirty.has(user)) set.push(this.#entry(state, user)!);
    if (set.length > 0) await this.#store.write(state.name, { node: this.node, set, remove: [] }, { notify: false }).catch(() => undefined);
    if ((await state.unsubscribe) === null && this.#channels.get(state.name) === state) {
      // Subscribing failed when the channel opened: try again now.
      state.unsubscribe = this.#store.subscribe(state.name, (change) => this.#changed(state, change)).catch(() => null);
    }
    state.buffer = [];
    await this.#reconcile(state);
    this.#schedule(state);
  }

  /** Replaces `remote` with the store's entries of other nodes, then applies changes that raced the read. */
  async #reconcile(state: ChannelPresence): Promise<void> {
    state.buffer ??= [];
    let entries: PresenceEntry[];
    try {
      entries = await this.#store.read(state.name);
    } catch {
      state.buffer = null;
      return;
    }
    const remote = new Map<string, Map<string, PresenceEntry>>();
    for (const entry of entries) {
      if (entry.node === this.node) continue;
      let nodes = remote.get(entry.user);
      if (!nodes) remote.set(entry.user, (nodes = new Map()));
      nodes.set(entry.node, entry);
    }
    for (const user of state.remote.keys()) state.dirty.add(user);
    for (const user of remote.keys()) state.dirty.add(user);
    state.remote = remote;
    const raced = state.buffer;
    state.buffer = null;
    for (const change of raced) this.#apply(state, change);
  }
}

/** One member from a user's local member and other nodes' entries: connections add up, the newest meta wins. */
function merge(local: LocalMember | undefined, remote: Map<string, PresenceEntry> | undefined): PresenceMember | undefined {
  let connections = local ? local.connections.size : 0;
  let meta = local?.meta;
  let at = local ? local.at : -Infinity;
  if (remote) {
    for (const entry of remote.values()) {
      connections += entry.connections;
      if (entry.at > at) {
        at = entry.at;
        meta = entry.meta;
      }
    }
  }
  return connections > 0 ? { meta: meta ?? null, connections } : undefined;
}
