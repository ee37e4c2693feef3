/**
 * The multiplayer arena demo: an authoritative server. Each tab that connects to `<base>ws`
 * is a player; it sends its inputs (arrow keys, WASD or touch) as numbered binary INPUT frames
 * and predicts its own movement at once; the server applies the inputs in order, 30 times a
 * second, and broadcasts the whole arena in one binary STATE frame (game-frames.ts has the
 * layout), framed once for all players and sent under the `latest` policy, so a slow tab gets
 * the newest state instead of a queue. Each record carries the last input applied for that
 * player, from which its tab reconciles its prediction; other players are drawn interpolated
 * between the two latest states. Tabs join and leave mid-game.
 *
 * Bad input closes the offender only: a text frame 1003, a malformed binary frame or an input
 * number that does not rise 4400, a frame over LIMITS.maxPayload bytes 1009, more than the
 * allowed inputs per second 1008.
 *
 * With --redis (world-relay.ts): each process stays authoritative for the players connected
 * to it, and relays their positions to the other processes every tick; every tab sees the
 * players of all processes, those of other processes one Redis hop later.
 */
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'fullduplex';
import type { CreateDemo, Demo } from '../shared/demo.js';
import { buildBrowserBundle } from '../shared/browser-bundle.js';
import { servePublicFiles, upgradeAt } from '../shared/demo-endpoints.js';
import { PublicFolder } from '../shared/public-folder.js';
import { RateLimiter } from '../shared/rate-limiter.js';
import { decodePageFrame, encodePong, encodeState, encodeWelcome, type PlayerState } from './game-frames.js';
import { ARENA, step } from './movement.js';
import { WorldRelay } from './world-relay.js';

export const LIMITS = {
  /** Largest frame a page may send (an INPUT is 6 bytes, a PING 9); bigger ones are closed with 1009. */
  maxPayload: 64,
  /** Inputs queued per player; the oldest are dropped past it (the page reconciles). */
  maxQueuedInputs: 8,
  /** Inputs applied per player and tick, so that a page whose timer runs fast catches up. */
  maxInputsPerTick: 2,
  /** Frames per page: a burst of 45, then 45 a second (30 inputs and a ping need fewer); 30 refusals close with 1008. */
  rate: { burst: 45, perSecond: 45, maxStrikes: 30 },
  /** Bytes waiting for a slow page before the `latest` policy keeps only the newest state. */
  maxBackpressure: 16 * 1024,
  maxPlayers: 64,
} as const;

export const CLOSE = { TEXT: 1003, MALFORMED: 4400, FLOOD: 1008, FULL: 4503 } as const;

interface Player extends PlayerState {
  ws: WebSocket;
  limiter: RateLimiter;
  /** The last input number received (applied or queued). */
  lastSeq: number;
  inputs: Array<{ seq: number; keys: number }>;
}

export const createDemo: CreateDemo = async (context) => {
  const base = context.basePath;
  const here = fileURLToPath(new URL('.', import.meta.url));
  const bundle = await buildBrowserBundle({ entry: `${here}browser/main.js`, outDir: `${context.dataDir}/bundle`, fileName: 'app.js' });
  const files = new PublicFolder(`${here}public`, { 'app.js': bundle });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: LIMITS.maxPayload,
    maxBackpressure: LIMITS.maxBackpressure,
    backpressurePolicy: 'latest',
  });
  const players = new Map<number, Player>();
  const relay = context.redisUrl ? await WorldRelay.open(context.redisUrl) : null;
  let nextId = 1;
  let tick = 0;

  const freeId = (): number => {
    for (let tries = 0; tries < 0xffff; tries++) {
      const id = nextId;
      nextId = nextId >= 0x7fff ? 1 : nextId + 1; // 0x8000 and up name other processes' players
      if (!players.has(id)) return id;
    }
    return 0;
  };

  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => {}); // the 'close' that follows says it all
    if (players.size >= LIMITS.maxPlayers) return ws.close(CLOSE.FULL, 'the arena is full');
    const id = freeId();
    const player: Player = {
      id,
      hue: (id * 137) % 360,
      x: ARENA.radius + Math.random() * (ARENA.width - 2 * ARENA.radius),
      y: ARENA.radius + Math.random() * (ARENA.height - 2 * ARENA.radius),
      ack: 0,
      ws,
      limiter: new RateLimiter(LIMITS.rate),
      lastSeq: 0,
      inputs: [],
    };
    Object.assign(player, step(player, 0)); // on the wire's grid
    players.set(id, player);
    ws.on('close', () => players.delete(id));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return ws.close(CLOSE.TEXT, 'frames are binary');
      const verdict = player.limiter.take();
      if (verdict === 'flooding') return ws.close(CLOSE.FLOOD, 'too many frames');
      if (verdict === 'refuse') return; // the input is lost; the page reconciles
      const frame = decodePageFrame(data as Buffer);
      if (frame === null) return ws.close(CLOSE.MALFORMED, 'malformed frame');
      if (frame.type === 'ping') {
        ws.send(encodePong(frame.time, tick), { binary: true, key: 'pong' });
        return;
      }
      if (frame.seq <= player.lastSeq) return ws.close(CLOSE.MALFORMED, 'input numbers must rise');
      player.lastSeq = frame.seq;
      player.inputs.push(frame);
      if (player.inputs.length > LIMITS.maxQueuedInputs) player.inputs.shift();
    });
    ws.send(encodeWelcome({ id, hue: player.hue, tickHz: ARENA.tickHz, width: ARENA.width, height: ARENA.height, speed: ARENA.speed }), { binary: true });
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
    const all = relay ? [...own, ...relay.remotePlayers()] : own;
    if (wss.clients.size === 0) return;
    // One STATE for everyone, framed once; 'latest' keeps only the newest for a slow page.
    const state = wss.prepare(encodeState({ tick, players: all }), { binary: true });
    for (const player of players.values()) player.ws.sendPrepared(state, { key: 'state' });
  }, 1000 / ARENA.tickHz);

  const demo: Demo = {
    name: 'game',
    title: 'Multiplayer arena',
    summary:
      'Every tab is a player in one arena (arrow keys, WASD or touch). The server is authoritative: it applies the numbered inputs 30 times a second and sends the whole arena to every tab in one small binary frame, framed once. Your own player moves at once (prediction) and is corrected from the server\'s answer (reconciliation); the others glide between states (interpolation). Join mid-game from another tab; the corner shows the server tick and the round-trip time.',
    handleRequest: servePublicFiles(files, base),
    handleUpgrade: upgradeAt(wss, `${base}ws`),
    async close() {
      clearInterval(timer);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await relay?.close();
    },
  };
  return demo;
};
