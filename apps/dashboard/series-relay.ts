/**
 * The dashboard's series across processes (--redis): each process publishes the samples of its
 * own process series on one broker channel at every tick, and shows the other processes' series
 * as series of its own ('peer.<pid>.process.cpu.user'). A process that stops publishing for
 * PEER_TIMEOUT_MS is forgotten; `onCatalogChange` runs when peers come or go.
 * Relay, not storage: a page sees a peer's newest values from the moment it selects them, as
 * with local series; nothing is kept in Redis.
 * Must not: block a tick on Redis (publishing is fire-and-forget; a failure costs one sample).
 */
import os from 'node:os';
import { RedisBroker } from 'fullduplex/redis';
import type { SeriesInfo } from './metric-sampler.js';

/** A peer that sent nothing for this long is gone. */
export const PEER_TIMEOUT_MS = 2000;
const CHANNEL = 'dashboard:samples';

interface PeerSample {
  node: string;
  pid: number;
  t: number;
  ids: string[];
  values: number[];
}

interface Peer {
  lastSeenMs: number;
  catalog: SeriesInfo[];
  /** Remote series id -> newest value. */
  values: Map<string, number>;
}

export class SeriesRelay {
  readonly #broker: RedisBroker;
  readonly #node = `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  readonly #local: readonly SeriesInfo[];
  readonly #indexes: number[];
  readonly #peers = new Map<string, Peer>();
  readonly #onCatalogChange: () => void;
  readonly #sweep: NodeJS.Timeout;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();

  private constructor(broker: RedisBroker, catalog: readonly SeriesInfo[], onCatalogChange: () => void) {
    this.#broker = broker;
    this.#onCatalogChange = onCatalogChange;
    // Only this process's own series travel: the machine's and synthetic ones each process has.
    this.#indexes = [];
    catalog.forEach((info, i) => info.group === 'process' && this.#indexes.push(i));
    this.#local = this.#indexes.map((i) => catalog[i]!);
    this.#sweep = setInterval(() => this.#forgetSilentPeers(), PEER_TIMEOUT_MS / 2);
  }

  /** Connects to Redis at `url` and starts listening to the other processes. */
  static async open(url: string, catalog: readonly SeriesInfo[], onCatalogChange: () => void): Promise<SeriesRelay> {
    const broker = new RedisBroker({ url, keyPrefix: 'fdx-dashboard:' });
    const relay = new SeriesRelay(broker, catalog, onCatalogChange);
    try {
      await broker.subscribe(CHANNEL, (bytes) => relay.#received(bytes));
    } catch (error) {
      await relay.close();
      throw error;
    }
    return relay;
  }

  /** Publishes this tick's samples of this process's series. */
  publish(t: number, values: Float64Array): void {
    const sample: PeerSample = {
      node: this.#node,
      pid: process.pid,
      t,
      ids: this.#local.map((info) => info.id),
      values: this.#indexes.map((i) => values[i]!),
    };
    this.#broker.publish(CHANNEL, this.#encoder.encode(JSON.stringify(sample))).catch(() => undefined);
  }

  /** The other processes' series, as this process lists them. */
  remoteCatalog(): SeriesInfo[] {
    return [...this.#peers.values()].flatMap((peer) => peer.catalog);
  }

  /** The newest value of a remote series, or null if there is no such series now. */
  value(id: string): number | null {
    for (const peer of this.#peers.values()) {
      const value = peer.values.get(id);
      if (value !== undefined) return value;
    }
    return null;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    await this.#broker.close().catch(() => undefined);
  }

  #received(bytes: Uint8Array): void {
    let sample: PeerSample;
    try {
      sample = JSON.parse(this.#decoder.decode(bytes)) as PeerSample;
    } catch {
      return;
    }
    if (sample.node === this.#node || !Array.isArray(sample.ids) || !Array.isArray(sample.values)) return;
    const prefix = `peer.${sample.pid}.`;
    let peer = this.#peers.get(sample.node);
    const isNew = peer === undefined;
    if (peer === undefined) {
      const catalog = sample.ids.map((id): SeriesInfo => {
        const own = this.#local.find((info) => info.id === id);
        return { id: prefix + id, label: `${own?.label ?? id} (pid ${sample.pid})`, unit: own?.unit ?? '', group: 'peer' };
      });
      peer = { lastSeenMs: Date.now(), catalog, values: new Map() };
      this.#peers.set(sample.node, peer);
    }
    peer.lastSeenMs = Date.now();
    sample.ids.forEach((id, i) => peer.values.set(prefix + id, Math.round(Number(sample.values[i]) * 1e4) / 1e4));
    if (isNew) this.#onCatalogChange();
  }

  #forgetSilentPeers(): void {
    const now = Date.now();
    let changed = false;
    for (const [node, peer] of this.#peers) {
      if (now - peer.lastSeenMs > PEER_TIMEOUT_MS) {
        this.#peers.delete(node);
        changed = true;
      }
    }
    if (changed) this.#onCatalogChange();
  }
}
