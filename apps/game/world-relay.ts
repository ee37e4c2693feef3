/**
 * The arena across processes (--redis): each process stays authoritative for the players
 * connected to it and, every tick, publishes their records as one binary STATE on the engine's
 * channel `arena:world`, behind the publishing process's id (ORIGIN_BYTES random bytes at the
 * front of the publication: an engine's `origin` is a connection's, for `except`, and does not
 * reach other processes); it draws the other
 * processes' players from their latest STATE. Remote players get ids of this process's own
 * (0x8000 and up), so ids never collide, and are forgotten when their process stays silent for
 * REMOTE_TIMEOUT_MS. Any Engine will do: a RedisEngine joins processes, and one MemoryEngine
 * joins relays in one process (as the tests do).
 * What this does not do, by design: players of different processes do not interact (there is
 * no contact between players in this arena), and remote players are one engine hop late.
 * Must not: block a tick on the engine (publishing is fire-and-forget; a failure costs one
 * frame), or close the engine (its owner does).
 */
import { randomBytes } from 'node:crypto';
import type { Engine, EnginePublication } from 'fullduplex/realtime';
import { decodeState, encodeState, type PlayerState } from './game-frames.js';

export const REMOTE_TIMEOUT_MS = 1000;
export const WORLD_CHANNEL = 'arena:world';
const FIRST_REMOTE_ID = 0x8000;
/** Length of the process id in front of each published STATE. */
const ORIGIN_BYTES = 8;

interface RemoteProcess {
  lastSeenMs: number;
  players: PlayerState[];
}

export class WorldRelay {
  readonly #engine: Engine;
  readonly #originBytes = randomBytes(ORIGIN_BYTES);
  readonly #origin = this.#originBytes.toString('hex');
  readonly #remotes = new Map<string, RemoteProcess>();
  /** `${origin}/${their id}` -> the id this process shows. */
  readonly #ids = new Map<string, number>();
  #nextId = FIRST_REMOTE_ID;
  #tick = 0;
  #unsubscribe: (() => Promise<void>) | null = null;

  private constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** A relay on `engine`, receiving once this resolves. */
  static async open(engine: Engine): Promise<WorldRelay> {
    const relay = new WorldRelay(engine);
    relay.#unsubscribe = await engine.subscribe(WORLD_CHANNEL, (publication) => relay.#received(publication));
    return relay;
  }

  /** Publishes this process's players of this tick. */
  publish(players: PlayerState[]): void {
    const state = encodeState({ tick: ++this.#tick, players });
    const data = new Uint8Array(ORIGIN_BYTES + state.length);
    data.set(this.#originBytes);
    data.set(state, ORIGIN_BYTES);
    this.#engine.publish(WORLD_CHANNEL, data).catch(() => undefined);
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

  /** Stops receiving (the engine stays open). */
  async close(): Promise<void> {
    await this.#unsubscribe?.().catch(() => undefined);
    this.#unsubscribe = null;
  }

  #received({ data }: EnginePublication): void {
    if (!(data instanceof Uint8Array) || data.length < ORIGIN_BYTES) return;
    const origin = Buffer.from(data.buffer, data.byteOffset, ORIGIN_BYTES).toString('hex');
    if (origin === this.#origin) return;
    const frame = decodeState(data.subarray(ORIGIN_BYTES));
    if (frame === null) return;
    const players = frame.players.map((player) => {
      const id = this.#localId(`${origin}/${player.id}`);
      return { ...player, id, hue: (id * 137) % 360, ack: 0 };
    });
    this.#remotes.set(origin, { lastSeenMs: Date.now(), players });
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
