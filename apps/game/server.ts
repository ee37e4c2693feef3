/**
 * The multiplayer arena demo on the real-time layer: an authoritative server at `<base>rt`
 * (fdx.v1). Each tab that connects is a player, welcomed in the `connect` reply with its id and
 * the arena; it sends its inputs (arrow keys, WASD or touch) as numbered `input` events and
 * predicts its own movement at once; the server applies them in order, 30 times a second, and
 * publishes the whole arena as one binary STATE (game-frames.ts) on the channel `arena`, which
 * every tab subscribes to. The layer frames a publication once for all its subscribers, and the
 * WebSocketServer's `latest` policy keeps only the newest STATE for a tab that falls behind.
 * Each record carries the last input applied for that player, from which its tab reconciles its
 * prediction; other players are drawn interpolated between the two latest states. The corner's
 * round-trip time is a `ping` request and its reply. Tabs join and leave mid-game; a dropped tab
 * reconnects by itself (the client's backoff) and comes back as a new player.
 *
 * Wire (fdx.v1; docs/protocol.md):
 *   connect reply data {id, hue, tickHz, width, height, speed}
 *   event input {seq, keys} (a push; input-schema.ts)     request ping {} -> {tick}
 *   channel arena: STATE bytes, 30 a second (subscribe only; nothing may publish on it)
 *
 * Bad input gets the layer's answers and harms nobody else: a malformed message BAD_JSON or
 * BAD_MESSAGE, an input that fails its schema (or names anything but seq and keys) or whose number
 * does not rise INVALID_PAYLOAD, a message over LIMITS.maxMessageBytes MESSAGE_TOO_LARGE, a frame
 * over LIMITS.maxPayload close 1009, past the event rate RATE_LIMITED and, after
 * LIMITS.rate.floodLimit of those in a row, close 4001; a publish or a subscription to any
 * channel CHANNEL_FORBIDDEN; a 65th player UNAUTHORIZED and close 4500.
 *
 * With --redis (world-relay.ts): each process stays authoritative for the players connected
 * to it, and relays their positions to the other processes every tick as a binary publication
 * through a RedisEngine; every tab sees the players of all processes, those of other processes
 * one Redis hop later.
 */
import { fileURLToPath } from 'node:url';
import { MemoryEngine, RealtimeError, RealtimeServer, mountRealtime } from 'fullduplex/realtime';
import type { CreateDemo, Demo } from '../shared/demo.js';
import { buildBrowserBundle } from '../shared/browser-bundle.js';
import { servePublicFiles, upgradeAt } from '../shared/demo-endpoints.js';
import { openRedisEngine } from '../shared/open-redis-engine.js';
import { PublicFolder } from '../shared/public-folder.js';
import { encodeState, type PlayerState } from './game-frames.js';
import { inputSchema, type Input } from './input-schema.js';
import { ARENA, step } from './movement.js';
import { WorldRelay } from './world-relay.js';

/** The channel every tab subscribes to, carrying one STATE per tick. */
export const CHANNEL = 'arena';

export const LIMITS = {
  /** Largest fdx.v1 message a tab may send (an input is about 60 bytes): MESSAGE_TOO_LARGE past it. */
  maxMessageBytes: 256,
  /** Largest WebSocket frame a tab may send: close 1009 past it. */
  maxPayload: 2048,
  /** Inputs queued per player; the oldest are dropped past it (the page reconciles). */
  maxQueuedInputs: 8,
  /** Inputs applied per player and tick, so that a page whose timer runs fast catches up. */
  maxInputsPerTick: 2,
  /** Events per tab: a burst of 45, then 45 a second (30 inputs and a ping need fewer); 30 refusals in a row close with 4001. */
  rate: { publishBurst: 45, publishRatePerSecond: 45, floodLimit: 30 },
  /** Bytes waiting for a slow tab before the `latest` policy keeps only the newest state. */
  maxBackpressure: 16 * 1024,
  maxPlayers: 64,
} as const;

export interface Welcome {
  id: number;
  hue: number;
  tickHz: number;
  width: number;
  height: number;
  speed: number;
}

/** Client-to-server events: the typed map of this demo's wire. */
export type ArenaEvents = {
  input: (data: Input) => void;
  ping: (data: null) => { tick: number };
};

type Visitor = { id: number; hue: number };

interface Player extends PlayerState {
  /** The last input number received (applied or queued). */
  lastSeq: number;
  inputs: Input[];
}

export const createDemo: CreateDemo = async (context) => {
  const base = context.basePath;
  const here = fileURLToPath(new URL('.', import.meta.url));
  const bundle = await buildBrowserBundle({ entry: `${here}browser/main.js`, outDir: `${context.dataDir}/bundle`, fileName: 'app.js' });
  const files = new PublicFolder(`${here}public`, { 'app.js': bundle });

  const players = new Map<number, Player>();
  // A state is stale a tick later: history keeps the newest two, for a few seconds.
  const history = { historySize: 2, historyTtlMs: 5000 };
  // With --redis, the engine the processes share, for the relay of their players.
  const world = context.redisUrl ? await openRedisEngine(context.redisUrl, { keyPrefix: 'fdx-demo:game:', ...history }) : null;
  const relay = world
    ? await WorldRelay.open(world).catch(async (error: unknown) => {
        await world.close().catch(() => undefined);
        throw error;
      })
    : null;
  // The arena channel is this process's own: its tabs see its players and, through the relay,
  // the others'. So it stays in memory, a tick away from the tabs.
  const engine = new MemoryEngine(history);
  let nextId = 1;
  let tick = 0;

  const freeId = (): number => {
    for (let tries = 0; tries < 0x7fff; tries++) {
      const id = nextId;
      nextId = nextId >= 0x7fff ? 1 : nextId + 1; // 0x8000 and up name other processes' players
      if (!players.has(id)) return id;
    }
    return 0;
  };

  const realtime = new RealtimeServer<ArenaEvents, any, Visitor>({
    engine,
    maxMessageBytes: LIMITS.maxMessageBytes,
    ...LIMITS.rate,
    authenticate: () => {
      const id = players.size < LIMITS.maxPlayers ? freeId() : 0;
      if (id === 0) throw new RealtimeError('UNAUTHORIZED', `the arena is full (${LIMITS.maxPlayers} players)`);
      return { id, hue: (id * 137) % 360 };
    },
    authorize: (_connection, channel, action) => action === 'subscribe' && channel === CHANNEL,
    welcome: ({ data }): Welcome => ({ id: data.id, hue: data.hue, tickHz: ARENA.tickHz, width: ARENA.width, height: ARENA.height, speed: ARENA.speed }),
    onConnection: ({ data }) => {
      const player: Player = {
        id: data.id,
        hue: data.hue,
        x: ARENA.radius + Math.random() * (ARENA.width - 2 * ARENA.radius),
        y: ARENA.radius + Math.random() * (ARENA.height - 2 * ARENA.radius),
        ack: 0,
        lastSeq: 0,
        inputs: [],
      };
      Object.assign(player, step(player, 0)); // on the wire's grid
      players.set(data.id, player);
    },
    onDisconnect: ({ data }) => players.delete(data.id),
  });

  realtime.on(
    'input',
    (input, connection) => {
      const player = players.get(connection.data.id);
      if (!player) return;
      if (input.seq <= player.lastSeq) throw new RealtimeError('INVALID_PAYLOAD', `input numbers must rise (${input.seq} after ${player.lastSeq})`);
      player.lastSeq = input.seq;
      player.inputs.push(input);
      if (player.inputs.length > LIMITS.maxQueuedInputs) player.inputs.shift();
    },
    { schema: inputSchema },
  );
  realtime.on('ping', () => ({ tick }));

  const wss = mountRealtime(realtime, {
    noServer: true,
    maxPayload: LIMITS.maxPayload,
    maxBackpressure: LIMITS.maxBackpressure,
    backpressure: 'latest',
  });

  const timer = setInterval(() => {
    tick++;
    const own: PlayerState[] = [];
    for (const player of players.values()) {
      for (const input of player.inputs.splice(0, LIMITS.maxInputsPerTick)) {
        Object.assign(player, step(player, input.keys));
        player.ack = input.seq;
      }
      own.push({ id: player.id, hue: player.hue, x: player.x, y: player.y, ack: player.ack });
    }
    relay?.publish(own);
    if (players.size === 0) return;
    const all = relay ? [...own, ...relay.remotePlayers()] : own;
    // One binary publication for every tab; under backpressure a tab keeps only the newest.
    realtime.publish(CHANNEL, encodeState({ tick, players: all }), { latest: 'state' }).catch(() => undefined);
  }, 1000 / ARENA.tickHz);

  const demo: Demo = {
    name: 'game',
    title: 'Multiplayer arena',
    summary:
      'Every tab is a player in one arena (arrow keys, WASD or touch). The server is authoritative: it applies the numbered inputs 30 times a second and publishes the whole arena on one real-time channel as a small binary message, framed once for every tab. Your own player moves at once (prediction) and is corrected from the server\'s answer (reconciliation); the others glide between states (interpolation). Join mid-game from another tab; the corner shows the connection, the server tick and the round-trip time of a request to the server. A tab that loses its connection says so and comes back by itself.',
    handleRequest: servePublicFiles(files, base),
    handleUpgrade: upgradeAt(wss, `${base}rt`),
    async close() {
      clearInterval(timer);
      await realtime.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await engine.close();
      await relay?.close();
      await world?.close();
    },
  };
  return demo;
};
