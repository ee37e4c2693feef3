/**
 * The arena's server (apps/game/server.ts) mounted on a plain HTTP server, driven by players in
 * Node on fullduplex/client and by hand-written fdx.v1: the welcome, binary STATEs at 30 Hz on
 * `arena`, authoritative movement with the input acknowledged, joining mid-game, the round trip
 * as a request, and bad input answered by the layer while the others play on.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'fullduplex';
import { CHANNEL, createDemo, LIMITS } from '../../../apps/game/server.js';
import { decodeState, KEY } from '../../../apps/game/game-frames.js';
import { ARENA } from '../../../apps/game/movement.js';
import { hostDemo, type DemoHost } from '../support/demo-host.js';
import { GameClient, RawPlayer } from './game-client.js';

let host: DemoHost;
let url: string;

before(async () => {
  host = await hostDemo('game', createDemo);
  url = `${host.wsBase}rt`;
});
after(() => host.close());

/** A calm player's move of 3 inputs, acknowledged: proof that it still plays. */
async function stillPlays(calm: GameClient): Promise<void> {
  const direction = calm.position()!.x < ARENA.width / 2 ? KEY.RIGHT : KEY.LEFT;
  const last = await calm.move(direction, 3);
  await calm.until(() => calm.position()?.ack === last, 'the calm player to move');
  assert.equal(calm.client.state, 'connected');
}

describe('game server', () => {
  it('serves the page and its bundled script (with the real-time client), and refuses other paths', async () => {
    const page = await fetch(host.pageUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<canvas id="arena"/);
    const script = await fetch(`${host.pageUrl}app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type')!, /javascript/);
    assert.match(await script.text(), /fdx\.v1/);
    assert.equal((await fetch(`${host.pageUrl}../../etc/passwd`)).status, 404);
  });

  it('welcomes a player with its id and the arena, and publishes about 30 binary states a second on arena', async () => {
    const player = await GameClient.join(url);
    after(() => player.close());
    assert.deepEqual({ ...player.welcome, id: 0, hue: 0 }, { id: 0, hue: 0, tickHz: 30, width: ARENA.width, height: ARENA.height, speed: ARENA.speed });
    const first = player.states.length;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const perSecond = (player.states.length - first) / 2;
    // 30 nominal; a loaded machine delays timers, so the bound below is loose.
    assert.ok(perSecond >= 15 && perSecond <= 33, `${perSecond} states a second`);
    assert.deepEqual(player.strays, [], 'every publication is a binary STATE');
    const ticks = player.states.map((state) => state.tick);
    assert.ok(ticks.every((tick, i) => i === 0 || tick > ticks[i - 1]!), 'ticks rise');
  });

  it('sends each state as one binary frame: a pub header for arena, then the STATE bytes as they are', async () => {
    const raw = await RawPlayer.connect(url);
    after(() => raw.close());
    raw.send({ type: 'subscribe', id: 1, channel: CHANNEL });
    await raw.until(() => raw.frames.length >= 2, 'two frames');
    assert.equal(raw.received.filter((message) => message.type === 'pub').length, 0, 'no state as text');
    for (const frame of raw.frames) {
      const length = (frame[0]! << 8) | frame[1]!;
      const header = JSON.parse(Buffer.from(frame.subarray(2, 2 + length)).toString());
      assert.equal(header.type, 'pub');
      assert.equal(header.channel, CHANNEL);
      const state = decodeState(frame.subarray(2 + length));
      assert.ok(state !== null && state.players.some((player) => player.id === raw.reply(0)!.result.data.id), 'a STATE with this player');
    }
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
    assert.notEqual(bob.id, ada.id);
    assert.deepEqual(bob.position(ada.id), moved);
    await ada.move(KEY.DOWN, 5);
    await bob.until(() => bob.position(ada.id)!.y > moved.y, 'bob to see ada move down');
  });

  it('answers a ping request with the server tick (the round trip the corner shows)', async () => {
    const player = await GameClient.join(url);
    after(() => player.close());
    const { tick } = await player.client.request('ping', null);
    assert.ok(Number.isInteger(tick) && tick >= player.states[0]!.tick, `tick ${tick}`);
  });

  it('a player that leaves is gone from the next states', async () => {
    const stays = await GameClient.join(url);
    after(() => stays.close());
    const leaves = await GameClient.join(url);
    await stays.until(() => stays.position(leaves.id) !== undefined, 'the other player in the states');
    leaves.close();
    await stays.until(() => stays.position(leaves.id) === undefined, 'the player gone');
  });

  it('answers malformed messages and inputs with BAD_JSON, BAD_MESSAGE and INVALID_PAYLOAD, and the sender plays on', async () => {
    const calm = await GameClient.join(url);
    after(() => calm.close());
    const raw = await RawPlayer.connect(url);
    after(() => raw.close());
    raw.send('{"type":');
    raw.send({ type: 'event' }); // no event name
    raw.send(new Uint8Array([0x82, 0, 0])); // a binary frame that is not a publication
    raw.send({ type: 'event', id: 1, event: 'input', data: { seq: 1, keys: 16 } }); // reserved key bits
    raw.send({ type: 'event', id: 2, event: 'input', data: { seq: -1, keys: 1 } });
    raw.send({ type: 'event', id: 3, event: 'input', data: 'up' });
    raw.send({ type: 'event', event: 'input', data: { seq: 1.5, keys: 1 } }); // a push: its error is pushed
    raw.send({ type: 'event', id: 4, event: 'input', data: { seq: 5, keys: 1 } });
    raw.send({ type: 'event', id: 5, event: 'input', data: { seq: 5, keys: 1 } }); // the number does not rise
    raw.send({ type: 'event', id: 6, event: 'teleport', data: { x: 1, y: 1 } });
    await raw.until(() => raw.reply(6) !== undefined && raw.errorCodes.length >= 4, 'every answer');
    assert.deepEqual(raw.errorCodes.slice(0, 3).sort(), ['BAD_JSON', 'BAD_MESSAGE', 'BAD_MESSAGE']);
    assert.equal(raw.errorCodes[3], 'INVALID_PAYLOAD');
    for (const id of [1, 2, 3, 5]) assert.equal(raw.reply(id)!.error?.code, 'INVALID_PAYLOAD', `reply ${id}`);
    assert.match(raw.reply(1)!.error.message, /^keys: /);
    assert.match(raw.reply(5)!.error.message, /must rise/);
    assert.deepEqual(raw.reply(4), { type: 'reply', id: 4, result: null });
    assert.equal(raw.reply(6)!.error?.code, 'UNKNOWN_EVENT');
    assert.equal(raw.closed, null, 'answered, not closed');
    await stillPlays(calm);
  });

  it('a player cannot move another player, publish on arena or subscribe elsewhere', async () => {
    const victim = await GameClient.join(url);
    after(() => victim.close());
    const raw = await RawPlayer.connect(url);
    after(() => raw.close());
    const before = victim.position()!;
    raw.send({ type: 'event', id: 1, event: 'input', data: { seq: 1, keys: KEY.DOWN, id: victim.id } });
    raw.send({ type: 'event', id: 2, event: 'input', data: { seq: 2, keys: KEY.DOWN, player: victim.id } });
    raw.send({ type: 'publish', id: 3, channel: CHANNEL, data: { tick: 1, players: [] } });
    raw.send({ type: 'subscribe', id: 4, channel: 'arena:admin' });
    await raw.until(() => [1, 2, 3, 4].every((id) => raw.reply(id)), 'four replies');
    assert.equal(raw.reply(1)!.error?.code, 'INVALID_PAYLOAD');
    assert.match(raw.reply(1)!.error.message, /^id: /);
    assert.equal(raw.reply(2)!.error?.code, 'INVALID_PAYLOAD');
    assert.equal(raw.reply(3)!.error?.code, 'CHANNEL_FORBIDDEN');
    assert.equal(raw.reply(4)!.error?.code, 'CHANNEL_FORBIDDEN');
    const tick = victim.states.at(-1)!.tick;
    await victim.until(() => victim.states.at(-1)!.tick >= tick + 5, 'five more ticks');
    assert.deepEqual(victim.position(), before, 'the victim did not move');
    assert.deepEqual(victim.strays, []);
  });

  it(`answers a message over ${LIMITS.maxMessageBytes} bytes MESSAGE_TOO_LARGE, closes a frame over ${LIMITS.maxPayload} with 1009, and the others play on`, async () => {
    const calm = await GameClient.join(url);
    after(() => calm.close());
    const raw = await RawPlayer.connect(url);
    after(() => raw.close());
    raw.send({ type: 'event', id: 1, event: 'input', data: { seq: 1, keys: 1, pad: 'x'.repeat(LIMITS.maxMessageBytes) } });
    await raw.until(() => raw.reply(1) !== undefined, 'the reply');
    assert.equal(raw.reply(1)!.error?.code, 'MESSAGE_TOO_LARGE');
    assert.equal(raw.closed, null);
    raw.send('x'.repeat(LIMITS.maxPayload + 1));
    await raw.until(() => raw.closed !== null, 'the close');
    assert.equal(raw.closed!.code, 1009);
    await stillPlays(calm);
  });

  it('answers a flood RATE_LIMITED, then closes it with 4001, while another player plays undisturbed', async () => {
    const calm = await GameClient.join(url);
    after(() => calm.close());
    const raw = await RawPlayer.connect(url);
    after(() => raw.close());
    for (let seq = 1; seq <= 200; seq++) raw.send({ type: 'event', event: 'input', data: { seq, keys: KEY.UP } });
    await raw.until(() => raw.closed !== null, 'the close');
    assert.equal(raw.closed!.code, 4001);
    const limited = raw.errorCodes.filter((code) => code === 'RATE_LIMITED').length;
    assert.ok(limited >= LIMITS.rate.floodLimit - 1, `${limited} RATE_LIMITED answers before the close`);
    await stillPlays(calm);
  });

  it(`refuses player ${LIMITS.maxPlayers + 1} with UNAUTHORIZED and close 4500, and takes a player again once one leaves`, async () => {
    const seated: RawPlayer[] = [];
    after(() => seated.forEach((raw) => raw.close()));
    let refused: RawPlayer | null = null;
    while (refused === null && seated.length <= LIMITS.maxPlayers) {
      const raw = await RawPlayer.connect(url);
      if (raw.reply(0)!.error) refused = raw;
      else seated.push(raw);
    }
    assert.ok(refused !== null && seated.length <= LIMITS.maxPlayers, `${seated.length} seated`);
    assert.equal(refused.reply(0)!.error.code, 'UNAUTHORIZED');
    assert.match(refused.reply(0)!.error.message, /full/);
    await refused.until(() => refused.closed !== null, 'the close');
    assert.equal(refused.closed!.code, 4500);
    seated.pop()!.close();
    // The server learns of that close a moment later: ask again until it has (bounded).
    let seat: RawPlayer | null = null;
    for (let tries = 0; tries < 100 && seat === null; tries++) {
      const raw = await RawPlayer.connect(url);
      if (raw.reply(0)!.error) await new Promise((resolve) => setTimeout(resolve, 50));
      else seat = raw;
    }
    assert.ok(seat !== null, 'a seat once a player left');
    seated.push(seat);
  });

  it('refuses a connection without the fdx.v1 subprotocol with 4501', async () => {
    const ws = new WebSocket(url);
    ws.on('error', () => {});
    const code = await new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    assert.equal(code, 4501);
  });
});
