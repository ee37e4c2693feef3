/**
 * The dashboard's series across processes (--redis): every process announces, once a
 * ANNOUNCE_MS on one engine channel, its node name, pid and its own process series; each process
 * lists the other processes' announced series as peer series ('peer.<pid>.process.cpu.user'),
 * whose samples travel on the announcing process's own series channels through the shared
 * engine. A process that stops announcing for PEER_TIMEOUT_MS is forgotten; `onChange` runs
 * when peers come or go.
 * Must not: block a tick on the engine (announcing is fire-and-forget), or trust an announcement
 * (one that does not read as one is ignored).
 */
import type { Engine, EnginePublication } from 'fullduplex/realtime';
import type { SeriesInfo } from './metric-sampler.js';
import { seriesChannel, type CatalogEntry } from './series-channels.js';

/** How often a process announces itself. */
export const ANNOUNCE_MS = 500;
/** A peer that announced nothing for this long is gone. */
export const PEER_TIMEOUT_MS = 2000;
/** The engine channel of the announcements (pages may not subscribe to it). */
export const PEERS_CHANNEL = 'dashboard.peers';

interface Announcement {
  node: string;
  pid: number;
  series: { id: string; label: string; unit: string }[];
}

interface Peer {
  lastSeenMs: number;
  catalog: CatalogEntry[];
}

const NODE = /^[A-Za-z0-9-]{1,40}$/;
const SERIES_ID = /^[A-Za-z0-9_.-]{1,80}$/;

function readAnnouncement(data: unknown): Announcement | null {
  const value = data as Partial<Announcement> | null;
  if (typeof value !== 'object' || value === null || typeof value.node !== 'string' || !NODE.test(value.node)) return null;
  if (!Number.isSafeInteger(value.pid) || !Array.isArray(value.series) || value.series.length > 64) return null;
  const ok = value.series.every((info) => typeof info?.id === 'string' && SERIES_ID.test(info.id) && typeof info.label === 'string' && typeof info.unit === 'string');
  return ok ? (value as Announcement) : null;
}

export class PeerCatalog {
  readonly #engine: Engine;
  readonly #node: string;
  readonly #own: Announcement;
  readonly #peers = new Map<string, Peer>();
  readonly #onChange: () => void;
  readonly #timer: NodeJS.Timeout;
  #stop: (() => Promise<void>) | null = null;

  private constructor(engine: Engine, node: string, own: readonly SeriesInfo[], onChange: () => void) {
    this.#engine = engine;
    this.#node = node;
    this.#own = { node, pid: process.pid, series: own.map(({ id, label, unit }) => ({ id, label, unit })) };
    this.#onChange = onChange;
    this.#timer = setInterval(() => {
      this.#announce();
      this.#forgetSilentPeers();
    }, ANNOUNCE_MS);
  }

  /** Starts listening to the other processes on `engine`, and announcing `own` series as `node`'s. */
  static async open(engine: Engine, node: string, own: readonly SeriesInfo[], onChange: () => void): Promise<PeerCatalog> {
    const peers = new PeerCatalog(engine, node, own, onChange);
    try {
      peers.#stop = await engine.subscribe(PEERS_CHANNEL, (publication) => peers.#received(publication));
    } catch (error) {
      await peers.close();
      throw error;
    }
    peers.#announce();
    return peers;
  }

  /** The other processes' series, as this process lists them. */
  catalog(): CatalogEntry[] {
    return [...this.#peers.values()].flatMap((peer) => peer.catalog);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#stop?.().catch(() => undefined);
  }

  #announce(): void {
    this.#engine.publish(PEERS_CHANNEL, this.#own).catch(() => undefined);
  }

  #received({ data }: EnginePublication): void {
    const announcement = readAnnouncement(data);
    if (announcement === null || announcement.node === this.#node) return;
    let peer = this.#peers.get(announcement.node);
    if (peer === undefined) {
      const catalog = announcement.series.map(
        (info): CatalogEntry => ({
          id: `peer.${announcement.pid}.${info.id}`,
          label: `${info.label.slice(0, 80)} (pid ${announcement.pid})`,
          unit: info.unit.slice(0, 8),
          group: 'peer',
          channel: seriesChannel(announcement.node, info.id),
        }),
      );
      peer = { lastSeenMs: Date.now(), catalog };
      this.#peers.set(announcement.node, peer);
      this.#onChange();
    }
    peer.lastSeenMs = Date.now();
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
    if (changed) this.#onChange();
  }
}
