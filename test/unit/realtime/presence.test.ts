/**
 * Presence in the real-time server, through fake transports and a fake clock: batching per tick
 * (a join storm costs each subscriber one message per tick), one snapshot then diffs, a user with
 * several connections as one member, metadata updates, count-only channels, set-presence errors,
 * and two servers sharing one store as two processes would (merge, and expiry of a dead one).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeServer, type RealtimeServerOptions } from '../../../src/realtime/server/realtime-server.js';
import { MemoryPresenceStore } from '../../../src/realtime/memory-presence-store.js';
import { parseMessage } from '../../../src/realtime/protocol.js';
import { FakeClock, settle } from '../../support/fake-clock.js';
import { FakeTransport } from './fakes.js';

const TICK_MS = 100;

function setup(options: RealtimeServerOptions<any> = {}, clock = new FakeClock()) {
  const server = new RealtimeServer<any, any, any>({
    clock,
    presenceTickMs: TICK_MS,
    authenticate: ({ token }) => ({ user: token }),
    presence: (channel) => (channel.startsWith('count:') ? { countOnly: true } : channel.startsWith('room:')),
    ...options,
  });
  let ids = 0;
  async function connect(user: string): Promise<FakeTransport> {
    const t = new FakeTransport();
    server.accept(t);
    t.receive({ type: 'connect', id: 0, token: user });
    await settle();
    t.take();
    return t;
  }
  async function subscribe(t: FakeTransport, channel: string): Promise<void> {
    const id = ++ids;
    t.receive({ type: 'subscribe', id, channel });
    await settle();
    const reply = t.take().find((m) => m.id === id);
    assert.ok(reply?.result, JSON.stringify(reply));
  }
  return { clock, server, connect, subscribe };
}

/** The presence messages a transport got since the last take, each checked by the parser. */
function presence(t: FakeTransport): any[] {
  const out = t.take().filter((m) => m.type === 'presence');
  for (const m of out) assert.ok(parseMessage(JSON.stringify(m)).ok, JSON.stringify(m));
  return out;
}

describe('presence: batching', () => {
  it('gives a new subscriber one snapshot at the next tick, itself included', async () => {
    const { clock, connect, subscribe } = setup();
    const ada = await connect('ada');
    await subscribe(ada, 'room:1');
    assert.deepEqual(presence(ada), [], 'nothing before the tick');
    await clock.advance(TICK_MS);
    assert.deepEqual(presence(ada), [{ type: 'presence', channel: 'room:1', count: 1, members: { ada: { meta: null, connections: 1 } } }]);
  });

  it('sends each subscriber one diff per tick however many join during it', async () => {
    const { clock, connect, subscribe } = setup();
    const first = await connect('u0');
    await subscribe(first, 'room:storm');
    await clock.advance(TICK_MS);
    presence(first);
    const joiners = [];
    for (let i = 1; i <= 200; i++) {
      const t = await connect(`u${i}`);
      await subscribe(t, 'room:storm');
      joiners.push(t);
    }
    await clock.advance(TICK_MS);
    const got = presence(first);
    assert.equal(got.length, 1, 'one message for 200 joins');
    assert.equal(got[0].count, 201);
    assert.equal(Object.keys(got[0].join).length, 200);
    for (const t of joiners) {
      const [snapshot, ...rest] = presence(t);
      assert.equal(rest.length, 0);
      assert.equal(Object.keys(snapshot.members).length, 201, 'each joiner gets the whole channel once');
    }
    // The snapshot of one tick is one text shared by all its newcomers.
    const texts = new Set(joiners.map((t) => t.shared.at(-1)));
    assert.equal(texts.size, 1);
  });

  it('nets changes within a tick: a join and a leave in the same tick send nothing', async () => {
    const { clock, connect, subscribe } = setup();
    const ada = await connect('ada');
    await subscribe(ada, 'room:1');
    await clock.advance(TICK_MS);
    presence(ada);
    const bob = await connect('bob');
    await subscribe(bob, 'room:1');
    bob.drop();
    await clock.advance(TICK_MS * 5);
    assert.deepEqual(presence(ada), []);
  });

  it('counts a user with two connections as one member, leaving with its last', async () => {
    const { clock, connect, subscribe } = setup();
    const ada = await connect('ada');
    await subscribe(ada, 'room:1');
    const tab1 = await connect('bob');
    const tab2 = await connect('bob');
    await subscribe(tab1, 'room:1');
    await clock.advance(TICK_MS);
    presence(ada);
    await subscribe(tab2, 'room:1');
    await clock.advance(TICK_MS);
    assert.deepEqual(presence(ada), [{ type: 'presence', channel: 'room:1', count: 2, update: { bob: { meta: null, connections: 2 } } }]);
    tab1.drop();
    await clock.advance(TICK_MS);
    assert.deepEqual(presence(ada), [{ type: 'presence', channel: 'room:1', count: 2, update: { bob: { meta: null, connections: 1 } } }]);
    tab2.receive({ type: 'unsubscribe', id: 99, channel: 'room:1' });
    await clock.advance(TICK_MS);
    assert.deepEqual(presence(ada), [{ type: 'presence', channel: 'room:1', count: 1, leave: ['bob'] }]);
  });

  it('sends metadata set by set-presence as an update, and by the presenceMeta hook on join', async () => {
    const { clock, connect, subscribe } = setup({ presenceMeta: (connection) => ({ name: connection.data.user.toUpperCase() }) });
    const ada = await connect('ada');
    await subscribe(ada, 'room:1');
    await clock.advance(TICK_MS);
    assert.deepEqual(presence(ada)[0].members, { ada: { meta: { name: 'ADA' }, connections: 1 } });
    ada.receive({ type: 'set-presence', id: 5, channel: 'room:1', meta: { typing: true } });
    await settle();
    assert.deepEqual(ada.take(), [{ type: 'reply', id: 5, result: null }]);
    await clock.advance(TICK_MS);
    assert.deepEqual(presence(ada), [{ type: 'presence', channel: 'room:1', count: 1, update: { ada: { meta: { typing: true }, connections: 1 } } }]);
  });

  it('sends count-only channels the count alone, when it changed', async () => {
    const { clock, connect, subscribe } = setup();
    const ada = await connect('ada');
    await subscribe(ada, 'count:big');
    await clock.advance(TICK_MS);
    assert.deepEqual(presence(ada), [{ type: 'presence', channel: 'count:big', count: 1 }]);
    for (const user of ['b', 'c', 'd']) await subscribe(await connect(user), 'count:big');
    await clock.advance(TICK_MS);
    assert.deepEqual(presence(ada), [{ type: 'presence', channel: 'count:big', count: 4 }]);
    await clock.advance(TICK_MS * 3);
    assert.deepEqual(presence(ada), []);
  });

  it('honours a channel tick of its own', async () => {
    const { clock, connect, subscribe } = setup({ presence: () => ({ tickMs: 1000 }) });
    const ada = await connect('ada');
    await subscribe(ada, 'slow');
    await clock.advance(999);
    assert.deepEqual(presence(ada), []);
    await clock.advance(1);
    assert.equal(presence(ada).length, 1);
  });

  it('sends nothing on channels without presence, and answers set-presence there with PRESENCE_DISABLED', async () => {
    const { clock, connect, subscribe } = setup();
    const ada = await connect('ada');
    await subscribe(ada, 'news');
    await clock.advance(TICK_MS * 3);
    assert.deepEqual(presence(ada), []);
    ada.receive({ type: 'set-presence', id: 7, channel: 'news', meta: 1 });
    await settle();
    assert.equal(ada.take()[0].error.code, 'PRESENCE_DISABLED');
  });

  it('answers set-presence with NOT_SUBSCRIBED, MESSAGE_TOO_LARGE and CHANNEL_INVALID as the spec says', async () => {
    const { connect, subscribe } = setup({ maxPresenceMetaBytes: 20 });
    const ada = await connect('ada');
    ada.receive({ type: 'set-presence', id: 1, channel: 'room:9', meta: 1 });
    await settle();
    assert.equal(ada.take()[0].error.code, 'NOT_SUBSCRIBED');
    await subscribe(ada, 'room:9');
    ada.receive({ type: 'set-presence', id: 2, channel: 'room:9', meta: 'x'.repeat(40) });
    ada.receive({ type: 'set-presence', id: 3, channel: 'bad name', meta: 1 });
    await settle();
    const replies = ada.take().filter((m) => m.type === 'reply');
    assert.deepEqual(replies.map((m) => [m.id, m.error?.code]).sort(), [[2, 'MESSAGE_TOO_LARGE'], [3, 'CHANNEL_INVALID']]);
  });

  it('lists the members across servers with server.presence()', async () => {
    const { clock, server, connect, subscribe } = setup();
    await subscribe(await connect('ada'), 'room:1');
    await subscribe(await connect('ada'), 'room:1');
    await subscribe(await connect('bob'), 'room:1');
    await clock.advance(TICK_MS);
    assert.deepEqual(Object.fromEntries(await server.presence('room:1')), { ada: { meta: null, connections: 2 }, bob: { meta: null, connections: 1 } });
  });

  it('stops every presence timer once the last subscriber left', async () => {
    const { clock, connect, subscribe } = setup();
    const ada = await connect('ada');
    await subscribe(ada, 'room:1');
    await clock.advance(TICK_MS);
    ada.drop();
    await clock.advance(TICK_MS);
    assert.equal(clock.pending, 0, `timers left: ${clock.due}`);
  });
});

describe('presence: two servers on one store', () => {
  it('merges the members of both, a user on both being one member', async () => {
    const clock = new FakeClock();
    const store = new MemoryPresenceStore({ clock, ttlMs: 3000 });
    const a = setup({ presenceStore: store }, clock);
    const b = setup({ presenceStore: store }, clock);
    const ada = await a.connect('ada');
    await a.subscribe(ada, 'room:1');
    const bob = await b.connect('bob');
    await b.subscribe(bob, 'room:1');
    const ada2 = await b.connect('ada');
    await b.subscribe(ada2, 'room:1');
    await clock.advance(TICK_MS * 2);
    const view = (messages: any[]) => {
      const members: Record<string, unknown> = {};
      for (const m of messages) {
        if (m.members) for (const k of Object.keys(members)) delete members[k];
        Object.assign(members, m.members, m.join, m.update);
        for (const user of m.leave ?? []) delete members[user];
      }
      return members;
    };
    const expected = { ada: { meta: null, connections: 2 }, bob: { meta: null, connections: 1 } };
    assert.deepEqual(view(presence(ada)), expected);
    assert.deepEqual(view(presence(bob)), expected);
  });

  it('keeps metadata set on one server when the same user joins on another', async () => {
    const clock = new FakeClock();
    const store = new MemoryPresenceStore({ clock, ttlMs: 3000 });
    const a = setup({ presenceStore: store }, clock);
    const b = setup({ presenceStore: store }, clock);
    const ada = await a.connect('ada');
    await a.subscribe(ada, 'room:1');
    ada.receive({ type: 'set-presence', id: 50, channel: 'room:1', meta: { typing: true } });
    await clock.advance(TICK_MS * 2);
    const tab = await b.connect('ada');
    await b.subscribe(tab, 'room:1');
    await clock.advance(TICK_MS * 2);
    assert.deepEqual(presence(tab).at(-1).members, { ada: { meta: { typing: true }, connections: 2 } });
    assert.deepEqual(Object.fromEntries(await a.server.presence('room:1')), { ada: { meta: { typing: true }, connections: 2 } });
  });

  it('drops the members of a server that stopped refreshing within ttl + ttl/3 + a tick', async () => {
    const clock = new FakeClock();
    const store = new MemoryPresenceStore({ clock, ttlMs: 3000 });
    const a = setup({ presenceStore: store }, clock);
    const deadClock = new FakeClock(clock.time); // the dead server's timers never fire again
    const b = setup({ presenceStore: store }, deadClock);
    const ada = await a.connect('ada');
    await a.subscribe(ada, 'room:1');
    const bob = await b.connect('bob');
    await b.subscribe(bob, 'room:1');
    await deadClock.advance(TICK_MS); // b writes bob once (at the store's time t0), then dies
    await clock.advance(TICK_MS);
    assert.deepEqual(Object.keys(presence(ada)[0].members).sort(), ['ada', 'bob']);
    await clock.advance(2800);
    assert.deepEqual(presence(ada), [], 'bob is still within his ttl');
    await clock.advance(4100 - 2900); // t0 + ttl + ttl/3 + a tick
    assert.deepEqual(presence(ada), [{ type: 'presence', channel: 'room:1', count: 1, leave: ['bob'] }]);
  });
});
