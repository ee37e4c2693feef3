/**
 * The arena's relay between processes (apps/game/world-relay.ts), two relays on one
 * MemoryEngine standing for two processes on one Redis: each sees the other's players under ids
 * of its own, never its own, ignores what is not a STATE from a process, and forgets a process
 * that stays silent.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MemoryEngine } from 'fullduplex/realtime';
import { RedisEngine } from 'fullduplex/redis';
import { deleteKeys } from '../../support/redis-keys.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
import { REMOTE_TIMEOUT_MS, WORLD_CHANNEL, WorldRelay } from '../../../apps/game/world-relay.js';
import { until } from '../../support/clients.js';

const ada = { id: 1, hue: 137, x: 100, y: 200, ack: 9 };
const bob = { id: 2, hue: 274, x: 300.5, y: 40.25, ack: 3 };

describe('world relay', () => {
  it('shows each process the other processes\' players under its own ids (0x8000 and up), and never its own', async () => {
    const engine = new MemoryEngine();
    after(() => engine.close());
    const [a, b] = await Promise.all([WorldRelay.open(engine), WorldRelay.open(engine)]);
    after(() => Promise.all([a.close(), b.close()]));
    a.publish([ada, bob]);
    await until(() => b.remotePlayers().length === 2, 'b to see a\'s players');
    const seen = b.remotePlayers();
    assert.deepEqual(
      seen.map(({ x, y, ack }) => ({ x, y, ack })),
      [
        { x: 100, y: 200, ack: 0 },
        { x: 300.5, y: 40.25, ack: 0 },
      ],
    );
    assert.ok(seen.every((player) => player.id >= 0x8000 && player.hue === (player.id * 137) % 360), JSON.stringify(seen));
    assert.deepEqual(a.remotePlayers(), [], 'a does not see itself');
    // The same remote player keeps its id; a player gone from the STATE is gone.
    a.publish([{ ...bob, x: 310 }]);
    await until(() => b.remotePlayers().length === 1, 'ada gone on b');
    assert.deepEqual(b.remotePlayers()[0], { ...seen[1]!, x: 310 });
  });

  it('ignores publications that are not a process id and a STATE, and forgets a silent process', async () => {
    const engine = new MemoryEngine();
    after(() => engine.close());
    const [a, b] = await Promise.all([WorldRelay.open(engine), WorldRelay.open(engine)]);
    after(() => Promise.all([a.close(), b.close()]));
    await engine.publish(WORLD_CHANNEL, new Uint8Array([1, 2, 3])); // shorter than a process id
    await engine.publish(WORLD_CHANNEL, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 0x82, 1])); // an id, then no STATE
    await engine.publish(WORLD_CHANNEL, { tick: 1, players: [ada] }, { origin: 'elsewhere' });
    assert.deepEqual(b.remotePlayers(), []);
    a.publish([ada]);
    await until(() => b.remotePlayers().length === 1, 'b to see ada');
    await new Promise((resolve) => setTimeout(resolve, REMOTE_TIMEOUT_MS + 100));
    assert.deepEqual(b.remotePlayers(), [], 'a silent process is forgotten');
  });
});

describe('world relay on Redis', () => {
  // Two RedisEngines stand for two processes: an engine hands a publication's `origin` only to
  // its own process's handlers, so the relay must name processes in what it publishes.
  it('shows each process the other process\'s players through a RedisEngine', async () => {
    const keyPrefix = `fdx-world-relay-${randomUUID()}:`;
    const engines = [new RedisEngine({ url: REDIS_URL, keyPrefix }), new RedisEngine({ url: REDIS_URL, keyPrefix })];
    after(async () => {
      await Promise.all(engines.map((engine) => engine.close()));
      await deleteKeys(REDIS_URL, [keyPrefix]);
    });
    const [a, b] = await Promise.all(engines.map((engine) => WorldRelay.open(engine)));
    after(() => Promise.all([a!.close(), b!.close()]));
    await until(() => {
      a!.publish([ada]);
      return b!.remotePlayers().length === 1;
    }, 'b to see a\'s player across engines');
    b!.publish([bob]);
    await until(() => a!.remotePlayers().length === 1, 'a to see b\'s player');
    assert.deepEqual(
      [a!.remotePlayers()[0]!.x, b!.remotePlayers()[0]!.x],
      [bob.x, ada.x],
    );
  });
});
