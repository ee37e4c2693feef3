/**
 * The PresenceStore port: who is in a channel, across processes, apart from the Engine (so that
 * one store may keep history and another presence). The memory store implements it for one
 * process; the Redis store (fullduplex/redis) across processes. The presence hub
 * (server/presence-hub.ts) is written once above it: it batches, merges and fans out.
 *
 * Contract, for every implementation:
 * - An entry is one user on one node (a server process), with the number of that node's
 *   connections of the user, the user's metadata on that node, and `at`, when the metadata was
 *   set there. A node writes only its own entries.
 * - write() stores (or replaces) and removes a node's entries of a channel, then hands the same
 *   change to every subscriber of the channel (this node's included) in write order per node.
 * - Entries expire `ttlMs` after they were last written: a node refreshes its entries (write
 *   with `notify: false`) more often than that, so a node that died vanishes within `ttlMs`.
 * - read() returns every unexpired entry of a channel, of every node.
 * - Failures reject with a RealtimeError whose code is 'UNAVAILABLE'; none is silent.
 * Must not: know about connections, ticks or the wire protocol.
 */

export interface PresenceEntry {
  node: string;
  user: string;
  /** This node's connections of the user on the channel (at least 1). */
  connections: number;
  meta: unknown;
  /** When `meta` was set, in ms since the epoch (the newest wins across nodes). */
  at: number;
}

export interface PresenceChange {
  node: string;
  /** Entries stored or replaced (all of `node`). */
  set: PresenceEntry[];
  /** Users whose entry of `node` was removed. */
  remove: string[];
}

export type PresenceHandler = (change: PresenceChange) => void;

export interface PresenceStore {
  /** How long an entry lives after its last write; the hub refreshes well within it. */
  readonly ttlMs: number;
  /** Stores and removes `change`'s entries; hands the change to subscribers unless `notify` is false. */
  write(channel: string, change: PresenceChange, options?: { notify?: boolean }): Promise<void>;
  /** Every unexpired entry of the channel, of every node. */
  read(channel: string): Promise<PresenceEntry[]>;
  /** Calls `handler` with each change written from now on; resolves once that is in effect. */
  subscribe(channel: string, handler: PresenceHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
