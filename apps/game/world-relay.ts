/**
 * The arena across processes (--redis): each process stays authoritative for the players
 * connected to it and, every tick, publishes their positions on one broker channel as a STATE
 * frame behind its origin id; it draws the other processes' players from their latest frame.
 * Remote players get ids of this process's own (0x8000 and up), so ids never collide, and are
 * forgotten when their process stays silent for REMOTE_TIMEOUT_MS.
 * What this does not do, by design: players of different processes do not interact (there is
 * no contact between players in this arena), and remote players are one Redis hop late.
 * Why the Broker port and not the real-time engine: these frames are live positions, stale a
 * tick later; the engine would give each one an offset and a place in history (one Redis script
 * per publish, 30 a second per process) that nothing ever reads. The broker is the engine's own
 * fan-out without the bookkeeping: bytes in, bytes out on every other process.
 * Must not: block a tick on Redis (publishing is fire-and-forget; a failure costs one frame).
 */
import { randomBytes } from 'node:crypto';
import { RedisBroker } from 'fullduplex/redis';
import { decodeState, encodeState, type PlayerState } from './game-frames.js';

export const REMOTE_TIMEOUT_MS = 1000;
const CHANNEL = 'game:world';
const ORIGIN_BYTES = 8;
const FIRST_REMOTE_ID = 0x8000;

interface RemoteProcess {
  lastSeenMs: number;
  players: PlayerState[];
}

export class WorldRelay {
  readonly #broker: RedisBroker;
  readonly #origin = randomBytes(ORIGIN_BYTES);
  readonly #remotes = new Map<string, RemoteProcess>();
  /** `${origin}/${their id}` -> the id this process shows. */
  readonly #ids = new Map<string, number>();
  #nextId = FIRST_REMOTE_ID;
  #tick = 0;

  private constructor(broker: RedisBroker) {
    this.#broker = broker;
  }

  static async open(url: string): Promise<WorldRelay> {
    const broker = new RedisBroker({ url, keyPrefix: 'fdx-game:' });
    const relay = new WorldRelay(broker);
    try {
      await broker.subscribe(CHANNEL, (bytes) => relay.#received(bytes));
    } catch (error) {
      await broker.close().catch(() => undefined);
      throw error;
    }
    return relay;
  }

  /** Publishes this process's players of this tick. */
  publish(players: PlayerState[]): void {
    const state = encodeState({ tick: ++this.#tick, players });
    const bytes = new Uint8Array(ORIGIN_BYTES + state.length);
    bytes.set(this.#origin, 0);
    bytes.set(state, ORIGIN_BYTES);
    this.#broker.publish(CHANNEL, bytes).catch(() => undefined);
  }

  /** The other processes' players, with this process's ids for them. */
  remotePlayers(): PlayerState[] {
    const now = Date.now();
    const all: PlayerState[] = [];
    for (const [origin, remote] of this.#remotes) {
      if (now - remote.lastSeenMs > REMOTE_TIMEOUT_MS) {
        this.#remotes.delete(origin);
        for (const key of this.#ids.keys()) if (key.startsWith(`${origin}/`)) this.#ids.delete(key);
        continue;
      }
      all.push(...remote.players);
    }
    return all;
  }

  async close(): Promise<void> {
    await this.#broker.close().catch(() => undefined);
  }

  #received(bytes: Uint8Array): void {
    if (bytes.length < ORIGIN_BYTES) return;
    const origin = Buffer.from(bytes.subarray(0, ORIGIN_BYTES));
    if (origin.equals(this.#origin)) return;
    const frame = decodeState(bytes.subarray(ORIGIN_BYTES));
    if (frame === null) return;
    const name = origin.toString('hex');
    const players = frame.players.map((player) => {
      const id = this.#localId(`${name}/${player.id}`);
      return { ...player, id, hue: (id * 137) % 360, ack: 0 };
    });
    this.#remotes.set(name, { lastSeenMs: Date.now(), players });
  }

  #localId(key: string): number {
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.#nextId;
      this.#nextId = this.#nextId >= 0xffff ? FIRST_REMOTE_ID : this.#nextId + 1;
      this.#ids.set(key, id);
    }
    return id;
  }
}
