/**
 * The arena's server (apps/game/server.ts) mounted on a plain HTTP server, driven by players in
 * Node speaking the binary frames: joining mid-game, authoritative movement with the input
 * acknowledged, the 30 Hz broadcast, and bad input closing the offender only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'fullduplex';
import { CLOSE, createDemo, LIMITS } from '../../../apps/game/server.js';
import { encodeInput, encodePing, KEY } from '../../../apps/game/game-frames.js';
import { ARENA } from '../../../apps/game/movement.js';
import { hostDemo, type DemoHost } from '../support/demo-host.js';
import { GameClient } from './game-client.js';

let host: DemoHost;
let url: string;

before(async () => {
  host = await hostDemo('game', createDemo);
  url = `${host.wsBase}ws`;
});
after(() => host.close());

/** Opens a raw connection that sends `frames` once open and reports how it was closed. */
async function closedBy(...frames: Array<string | Uint8Array>): Promise<number> {
  const ws = new WebSocket(url);
  ws.on('error', () => {});
  await new Promise((resolve) => ws.once('open', resolve));
  for (const frame of frames) ws.send(frame);
  const [code] = await new Promise<[number]>((resolve) => ws.once('close', (code) => resolve([code])));
  return code;
}

describe('game server', () => {
  it('serves the page and its bundled script, and refuses other paths', async () => {
    const page = await fetch(host.pageUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<canvas id="arena"/);
    const script = await fetch(`${host.pageUrl}app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type')!, /javascript/);
    assert.equal((await fetch(`${host.pageUrl}../../etc/passwd`)).status, 404);
  });

  it('welcomes a player with its id and the arena, and broadcasts about 30 states a second', async () => {
    const player = await GameClient.join(url);
    after(() => player.close());
    assert.deepEqual({ ...player.welcome, id: 0, hue: 0 }, { type: 'welcome', id: 0, hue: 0, tickHz: 30, width: ARENA.width, height: ARENA.height, speed: ARENA.speed });
    const first = player.states.length;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const perSecond = (player.states.length - first) / 2;
    // 30 nominal; a loaded machine delays timers, so the bound below is loose.
    assert.ok(perSecond >= 15 && perSecond <= 33, `${perSecond} states a second`);
    const ticks = player.states.map((state) => state.tick);
    assert.ok(ticks.every((tick, i) => i === 0 || tick > ticks[i - 1]!), 'ticks rise');
  });

  it('moves a player by its inputs, acknowledges the last one applied, and a player joining later sees it', async () => {
    const ada = await GameClient.join(url);
    after(() => ada.close());
    const start = ada.position()!;
    const direction = start.x < ARENA.width / 2 ? KEY.RIGHT : KEY.LEFT;
    const last = await ada.move(direction, 10);
    await ada.until(() => ada.position()?.ack === last, 'the last input acknowledged');
    const moved = ada.position()!;
    const expected = (10 * ARENA.speed) / ARENA.tickHz;
    assert.ok(Math.abs(Math.abs(moved.x - start.x) - expected) < 0.5, `moved ${moved.x - start.x}, expected ${expected}`);
    assert.equal(moved.y, start.y);

    const bob = await GameClient.join(url); // mid-game
    after(() => bob.close());
    assert.deepEqual(bob.position(ada.id), moved);
    await ada.move(KEY.DOWN, 5);
    await bob.until(() => bob.position(ada.id)!.y > moved.y, 'bob to see ada move down');
  });

  it('answers a ping with a pong echoing its clock', async () => {
    const player = await GameClient.join(url);
    after(() => player.close());
    player.ws.send(encodePing(4242.5));
    await player.until(() => player.pongs.length > 0, 'a pong');
    assert.equal(player.pongs[0]!.time, 4242.5);
  });

  it('closes a text frame with 1003, a malformed frame or a falling input number with 4400, an oversize frame with 1009, and the others play on', async () => {
    const calm = await GameClient.join(url);
    after(() => calm.close());
    assert.equal(await closedBy('{"up":true}'), CLOSE.TEXT);
    assert.equal(await closedBy(new Uint8Array([0x07, 1, 2])), CLOSE.MALFORMED);
    assert.equal(await closedBy(new Uint8Array([0x01, 1, 0, 0, 0, 0x30])), CLOSE.MALFORMED, 'reserved key bits');
    assert.equal(await closedBy(encodeInput({ seq: 5, keys: 1 }), encodeInput({ seq: 5, keys: 1 })), CLOSE.MALFORMED);
    assert.equal(await closedBy(new Uint8Array(LIMITS.maxPayload + 1)), 1009);
    const direction = calm.position()!.y < ARENA.height / 2 ? KEY.DOWN : KEY.UP;
    const last = await calm.move(direction, 3);
    await calm.until(() => calm.position()?.ack === last, 'the calm player to move');
    assert.equal(calm.closed, null);
  });

  it('closes a flooding player with 1008 while another keeps playing undisturbed', async () => {
    const calm = await GameClient.join(url);
    after(() => calm.close());
    const flood = Array.from({ length: 200 }, (_, i) => encodeInput({ seq: i + 1, keys: KEY.UP }));
    const code = await closedBy(...flood);
    assert.equal(code, CLOSE.FLOOD);
    const before = calm.position()!;
    const direction = before.x < ARENA.width / 2 ? KEY.RIGHT : KEY.LEFT;
    const last = await calm.move(direction, 3);
    await calm.until(() => calm.position()?.ack === last, 'the calm player to move');
    assert.equal(calm.closed, null);
  });
});
