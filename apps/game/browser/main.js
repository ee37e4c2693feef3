// The arena page, on fullduplex/client (reconnect, backoff and resubscription are the client's):
// it connects to <base>rt, is welcomed as a player, and subscribes to the channel `arena`, whose
// publications are binary STATEs (apps/game/game-frames.ts). Inputs are sampled 30 times a
// second, sent as numbered `input` events and applied at once (prediction); each STATE resets
// this player to the server's position and replays the inputs the server has not applied yet
// (reconciliation); the others are drawn 100 ms in the past, between two states
// (interpolation). The round trip shown is a `ping` request's. While the client is not
// connected the page says so, sends nothing and draws no stale arena.
// Bundled by esbuild when the demo starts (apps/shared/browser-bundle.ts).
import { createClient } from 'fullduplex/client';
import { decodeState, KEY } from '../game-frames.ts';
import { ARENA, step } from '../movement.ts';

const INTERPOLATION_DELAY_MS = 100;
const PING_EVERY_MS = 1000;
const $ = (id) => document.getElementById(id);
const canvas = $('arena');
const context = canvas.getContext('2d');

const game = {
  me: null, // {id, hue}
  predicted: null, // {x, y}
  pending: [], // inputs sent and not yet applied by the server: {seq, keys}
  seq: 0,
  snapshots: [], // {at, tick, players: Map(id -> player)}
  tick: null, // the newest state's, null while not connected
  rttMs: null,
  corrections: 0,
};
const held = new Set();
let touchKeys = 0;

const url = new URL('rt', location.href);
url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
const client = createClient(url.href);
const STATUS = {
  connecting: ['connecting', 'connecting…'],
  connected: ['open', 'playing'],
  disconnected: ['closed', 'reconnecting…'],
  closed: ['closed', 'disconnected'],
};
function showState(state, text) {
  const [look, label] = STATUS[state];
  $('connection').dataset.state = look;
  $('connection').textContent = text ?? label;
}
client.on('state', (state) => showState(state));
client.on('error', (error) => {
  if (client.state !== 'closed') return;
  // The server refuses a tab (UNAUTHORIZED, close 4500) only when the arena is full.
  showState('closed', error.code === 'UNAUTHORIZED' ? 'refused: the arena is full' : `disconnected: ${error.message}`);
});
client.on('online', (welcome) => {
  game.me = { id: welcome.id, hue: welcome.hue };
  game.seq = 0;
  $('me').textContent = `you are #${welcome.id}`;
  $('me').style.color = `hsl(${welcome.hue}, 80%, 65%)`;
  ping();
});
client.on('offline', () => {
  game.me = null;
  game.predicted = null;
  game.pending = [];
  game.snapshots = [];
  game.rttMs = null;
  game.tick = null;
  $('me').textContent = '–';
  $('me').style.color = '';
});
// After a reconnect the client first hands over the states it missed (the channel's short
// history): stale by then, so only states that arrive once the subscription is live are drawn.
let live = false;
client.on('online', () => (live = false));
client.on('subscribed', (channel) => channel === 'arena' && (live = true));
client.subscribe('arena', (data) => {
  const state = data instanceof Uint8Array ? decodeState(data) : null;
  if (state && live && game.me) receive(state);
});
showState(client.state);

function receive(state) {
  game.tick = state.tick;
  const players = new Map(state.players.map((player) => [player.id, player]));
  game.snapshots.push({ at: performance.now(), tick: state.tick, players });
  if (game.snapshots.length > 30) game.snapshots.shift();
  reconcile(players.get(game.me.id));
}

/** The server's position for this player, plus the inputs it has not applied yet. */
function reconcile(mine) {
  if (!mine) return;
  game.pending = game.pending.filter((input) => input.seq > mine.ack);
  let position = { x: mine.x, y: mine.y };
  for (const input of game.pending) position = step(position, input.keys);
  if (game.predicted && (Math.abs(game.predicted.x - position.x) > 0.5 || Math.abs(game.predicted.y - position.y) > 0.5)) game.corrections++;
  game.predicted = position;
}

function currentKeys() {
  let keys = touchKeys;
  if (held.has('ArrowUp') || held.has('KeyW')) keys |= KEY.UP;
  if (held.has('ArrowDown') || held.has('KeyS')) keys |= KEY.DOWN;
  if (held.has('ArrowLeft') || held.has('KeyA')) keys |= KEY.LEFT;
  if (held.has('ArrowRight') || held.has('KeyD')) keys |= KEY.RIGHT;
  return keys;
}

function sampleInput() {
  const keys = currentKeys();
  if (keys === 0 || !game.me || !game.predicted) return;
  if (client.state !== 'connected') return;
  const input = { seq: ++game.seq, keys };
  client.emit('input', input);
  game.pending.push(input);
  game.predicted = step(game.predicted, keys); // prediction: move now, the server confirms later
}

/** The round trip of one request: sent now, timed when its reply arrives. */
async function ping() {
  if (client.state !== 'connected') return;
  const sentAt = performance.now();
  try {
    await client.request('ping', null, { timeoutMs: 5000 });
    if (client.state === 'connected') game.rttMs = performance.now() - sentAt;
  } catch {
    // Lost with the connection or late: the next one measures again.
  }
}

/** Where the other players were INTERPOLATION_DELAY_MS ago, between the two states around then. */
function interpolated() {
  const renderAt = performance.now() - INTERPOLATION_DELAY_MS;
  const snapshots = game.snapshots;
  if (snapshots.length === 0) return new Map();
  let older = snapshots[0];
  let newer = snapshots[snapshots.length - 1];
  for (let i = snapshots.length - 1; i > 0; i--) {
    if (snapshots[i - 1].at <= renderAt) {
      older = snapshots[i - 1];
      newer = snapshots[i];
      break;
    }
  }
  const span = newer.at - older.at;
  const t = span > 0 ? Math.min(1, Math.max(0, (renderAt - older.at) / span)) : 1;
  const result = new Map();
  for (const [id, to] of newer.players) {
    const from = older.players.get(id) ?? to;
    result.set(id, { ...to, x: from.x + (to.x - from.x) * t, y: from.y + (to.y - from.y) * t });
  }
  return result;
}

function draw() {
  const scale = canvas.width / ARENA.width;
  context.fillStyle = '#0b1020';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.strokeStyle = '#1c2541';
  for (let x = 0; x <= ARENA.width; x += 60) line(x * scale, 0, x * scale, canvas.height);
  for (let y = 0; y <= ARENA.height; y += 60) line(0, y * scale, canvas.width, y * scale);
  const shown = interpolated();
  if (game.me && game.predicted) {
    const mine = shown.get(game.me.id);
    shown.set(game.me.id, { ...(mine ?? { id: game.me.id, hue: game.me.hue }), ...game.predicted });
  }
  for (const player of shown.values()) {
    const isMe = player.id === game.me?.id;
    context.beginPath();
    context.arc(player.x * scale, player.y * scale, ARENA.radius * scale, 0, Math.PI * 2);
    context.fillStyle = `hsl(${player.hue}, 80%, ${isMe ? 65 : 50}%)`;
    context.fill();
    if (isMe) {
      context.lineWidth = 3;
      context.strokeStyle = '#fff';
      context.stroke();
      context.lineWidth = 1;
    }
    context.fillStyle = '#fff';
    context.font = `${12 * Math.max(scale, 0.7)}px system-ui`;
    context.textAlign = 'center';
    context.fillText(`#${player.id}`, player.x * scale, (player.y - ARENA.radius - 4) * scale);
  }
  showHud(shown);
  requestAnimationFrame(draw);
}

function line(x1, y1, x2, y2) {
  context.beginPath();
  context.moveTo(x1, y1);
  context.lineTo(x2, y2);
  context.stroke();
}

let lastList = '';
function showHud(shown) {
  $('tick').textContent = game.tick === null ? '–' : String(game.tick);
  $('rtt').textContent = game.rttMs === null ? '–' : `${game.rttMs.toFixed(0)} ms`;
  $('players').textContent = String(shown.size);
  $('pending').textContent = String(game.pending.length);
  $('corrections').textContent = String(game.corrections);
  const rows = [...shown.values()].sort((a, b) => a.id - b.id).map((p) => `${p.id}:${Math.round(p.x)}:${Math.round(p.y)}:${p.hue}`);
  const list = rows.join('|');
  if (list === lastList) return;
  lastList = list;
  $('roster').replaceChildren(
    ...rows.map((row) => {
      const [id, x, y, hue] = row.split(':');
      const item = document.createElement('li');
      item.dataset.id = id;
      item.dataset.x = x;
      item.dataset.y = y;
      item.style.color = `hsl(${hue}, 80%, 65%)`;
      item.textContent = `#${id}${Number(id) === game.me?.id ? ' (you)' : ''} at ${x}, ${y}`;
      return item;
    }),
  );
}

function resize() {
  const width = Math.min(canvas.parentElement.clientWidth, ARENA.width);
  canvas.width = width;
  canvas.height = Math.round((width * ARENA.height) / ARENA.width);
}

/** Touch: move towards the finger, relative to this player's position on the canvas. */
function touch(event) {
  event.preventDefault();
  const point = event.touches[0];
  if (!point || !game.predicted) return (touchKeys = 0);
  const rect = canvas.getBoundingClientRect();
  const scale = canvas.width / ARENA.width;
  const dx = (point.clientX - rect.left) / scale - game.predicted.x;
  const dy = (point.clientY - rect.top) / scale - game.predicted.y;
  const dead = ARENA.radius;
  touchKeys = (dx > dead ? KEY.RIGHT : 0) | (dx < -dead ? KEY.LEFT : 0) | (dy > dead ? KEY.DOWN : 0) | (dy < -dead ? KEY.UP : 0);
}

const GAME_KEYS = new Set(['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'KeyW', 'KeyA', 'KeyS', 'KeyD']);
addEventListener('keydown', (event) => {
  if (!GAME_KEYS.has(event.code)) return;
  event.preventDefault();
  held.add(event.code);
});
addEventListener('keyup', (event) => held.delete(event.code));
addEventListener('blur', () => held.clear());
addEventListener('resize', resize);
canvas.addEventListener('touchstart', touch, { passive: false });
canvas.addEventListener('touchmove', touch, { passive: false });
canvas.addEventListener('touchend', () => (touchKeys = 0));

resize();
setInterval(sampleInput, 1000 / ARENA.tickHz);
setInterval(ping, PING_EVERY_MS);
requestAnimationFrame(draw);
