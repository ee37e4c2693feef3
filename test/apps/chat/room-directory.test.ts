/**
 * The chat's room directory (apps/chat/room-directory.ts): directories on one MemoryHub behave
 * like chat processes sharing one broker. A fake process is played by publishing raw events.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBroker, MemoryHub } from '../../../src/index.js';
import { RoomDirectory, type ChatLine, type DirectoryRepair, type RoomDirectoryOptions } from '../../../apps/chat/room-directory.js';

const ROOMS = ['general', 'random'];
const CHANNEL = 'directory';
/** Longest wait for something asynchronous (a bound, not a measurement). */
const WAIT_MS = 10_000;

let hub: MemoryHub;
const open: RoomDirectory[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((directory) => directory.close()));
});

async function directory(options: Partial<RoomDirectoryOptions> = {}): Promise<{ dir: RoomDirectory; repairs: DirectoryRepair[] }> {
  hub ??= new MemoryHub();
  const repairs: DirectoryRepair[] = [];
  const dir = new RoomDirectory({ bus: new MemoryBroker(hub), rooms: ROOMS, maxHistory: 3, onRepair: (r) => repairs.push(r), ...options });
  await dir.start();
  open.push(dir);
  await settle();
  return { dir, repairs };
}

/** Lets queued deliveries run (MemoryBroker delivers in microtasks). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Publishes a raw event on the channel, as another process (or garbage) would. */
async function inject(event: unknown): Promise<void> {
  const bus = new MemoryBroker(hub);
  await bus.publish(CHANNEL, new TextEncoder().encode(typeof event === 'string' ? event : JSON.stringify(event)));
  await bus.close();
  await settle();
}

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < WAIT_MS / 10 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(check(), what);
}

const line = (id: string, text: string, ts: number): ChatLine => ({ id, name: 'Ada', text, ts });
const count = (dir: RoomDirectory, room: string): number => dir.counts().find((entry) => entry.name === room)!.online;

describe('RoomDirectory', () => {
  test('members and counts of one process are seen by another', async () => {
    hub = new MemoryHub();
    const { dir: a } = await directory();
    const { dir: b } = await directory();
    a.set('a1', 'Ada', null);
    a.set('a2', 'Bob', 'general');
    b.set('b1', 'Cy', 'general');
    await settle();
    for (const dir of [a, b]) {
      assert.deepEqual(dir.counts(), [
        { name: 'general', online: 2 },
        { name: 'random', online: 0 },
      ]);
      assert.equal(dir.online, 3);
      assert.deepEqual(dir.members('general'), ['Bob', 'Cy']);
      assert.deepEqual([...dir.names()].sort(), ['Ada', 'Bob', 'Cy']);
    }
    a.set('a2', 'Bob', 'random');
    a.remove('a1');
    await settle();
    assert.equal(count(b, 'general'), 1);
    assert.equal(count(b, 'random'), 1);
    assert.equal(b.online, 2);
  });

  test('a process that starts later learns the members and the history of the others, without duplicates', async () => {
    hub = new MemoryHub();
    const { dir: a } = await directory();
    const { dir: b } = await directory();
    a.set('a1', 'Ada', 'general');
    a.said('general', line('x.1', 'one', 1));
    b.said('general', line('y.1', 'two', 2));
    await settle();
    const { dir: c } = await directory();
    await settle();
    assert.deepEqual(c.members('general'), ['Ada']);
    // a and b both answered the hello with the same two lines: each is kept once.
    assert.deepEqual(c.history('general').map((l) => l.text), ['one', 'two']);
    assert.deepEqual(c.history('random'), []);
  });

  test('keeps at most maxHistory lines per room, the newest, oldest first', async () => {
    hub = new MemoryHub();
    const { dir: a } = await directory();
    for (let i = 0; i < 5; i++) a.said('general', line(`a.${i}`, `line ${i}`, i));
    assert.deepEqual(a.history('general').map((l) => l.text), ['line 2', 'line 3', 'line 4']);
  });

  test('a process that says bye is forgotten at once, with a leave repair for each member in a room', async () => {
    hub = new MemoryHub();
    const { dir: a, repairs } = await directory();
    const { dir: b } = await directory();
    b.set('b1', 'Bea', 'random');
    b.set('b2', 'Cal', null);
    await settle();
    assert.equal(a.online, 2);
    await b.close();
    await settle();
    assert.equal(a.online, 0);
    assert.deepEqual(repairs, [{ type: 'leave', room: 'random', name: 'Bea' }]);
  });

  test('a process silent for three heartbeats is forgotten', async () => {
    hub = new MemoryHub();
    const { dir: a, repairs } = await directory({ heartbeatMs: 20 });
    await inject({ type: 'member', from: 'ghost', id: 'g1', name: 'Ghost', room: 'general' });
    assert.equal(count(a, 'general'), 1);
    await waitUntil(() => a.online === 0, 'the silent process was forgotten');
    assert.deepEqual(repairs, [{ type: 'leave', room: 'general', name: 'Ghost' }]);
  });

  test('a heartbeat that disagrees with the books repairs them', async () => {
    hub = new MemoryHub();
    const { dir: a, repairs } = await directory();
    await inject({ type: 'sync', from: 'other', members: [['o1', 'Oz', 'general']] });
    assert.deepEqual(repairs.splice(0), [{ type: 'join', room: 'general', name: 'Oz' }]);
    await inject({ type: 'sync', from: 'other', members: [['o1', 'Oz', 'random']] });
    assert.deepEqual(repairs.splice(0), [
      { type: 'leave', room: 'general', name: 'Oz' },
      { type: 'join', room: 'random', name: 'Oz' },
    ]);
    await inject({ type: 'sync', from: 'other', members: [] });
    assert.deepEqual(repairs.splice(0), [{ type: 'leave', room: 'random', name: 'Oz' }]);
    assert.equal(a.online, 0);
  });

  test('ignores malformed events and rooms that do not exist', async () => {
    hub = new MemoryHub();
    const { dir: a } = await directory();
    for (const garbage of [
      'not json',
      'null',
      '[1,2]',
      { type: 'member', from: 'x' },
      { type: 'member', from: 'x', id: 'i', name: 'N'.repeat(1000), room: 'general' },
      { type: 'sync', from: 'x', members: 'all' },
      { type: 'said', from: 'x', room: 'general', line: { text: 'no id' } },
      { type: 'said', from: 'x', room: 'nowhere', line: line('x.1', 'lost', 1) },
      { type: 'unknown', from: 'x' },
    ]) {
      await inject(garbage);
    }
    await inject({ type: 'member', from: 'x', id: 'x1', name: 'Xena', room: 'nowhere' });
    assert.equal(a.online, 1, 'only the well-formed member counts');
    assert.deepEqual(a.counts().map((entry) => entry.online), [0, 0], 'in no room: "nowhere" does not exist');
    assert.deepEqual(a.history('general'), []);
  });
});
