/**
 * The real-time server's state machines, driven through fake transports and a fake clock:
 * connect and authentication, channels, recovery, idempotency, limits, events both ways,
 * pushes and drain. Every reply and close code is the one docs/protocol.md specifies.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimeServer, type RealtimeServerOptions } from '../../../src/realtime/server/realtime-server.js';
import { MemoryEngine } from '../../../src/realtime/memory-engine.js';
import type { Position } from '../../../src/realtime/protocol.js';
import type { LiveHandler } from '../../../src/realtime/engine.js';
import { RealtimeError } from '../../../src/realtime/realtime-error.js';
import type { StandardSchemaV1 } from '../../../src/realtime/server/standard-schema.js';
import { FakeClock, settle } from '../../support/fake-clock.js';
import { FakeTransport } from './fakes.js';

function setup(options: RealtimeServerOptions<any> = {}) {
  const clock = new FakeClock();
  const engine = options.engine ?? new MemoryEngine({ clock, historySize: 5 });
  const server = new RealtimeServer<any, any, any>({ clock, ...options, engine });
  async function connect(token?: string): Promise<FakeTransport> {
    const t = new FakeTransport();
    server.accept(t, { url: '/' });
    t.receive({ type: 'connect', id: 0, token });
    await settle();
    const [reply] = t.take();
    assert.equal(reply.type, 'reply');
    assert.ok(reply.result, JSON.stringify(reply));
    return t;
  }
  async function request(t: FakeTransport, message: unknown): Promise<any[]> {
    t.receive(message);
    await settle();
    return t.take();
  }
  return { clock, engine, server, connect, request };
}

function codeOf(t: FakeTransport): number | undefined {
  return t.closed?.code;
}

/** An engine whose history reads wait until released, with publications made meanwhile. */
class SlowHistoryEngine extends MemoryEngine {
  release: (() => void) | null = null;
  override async history(channel: string, since?: Position) {
    await new Promise<void>((resolve) => (this.release = resolve));
    return super.history(channel, since);
  }
}

/** An engine whose history reads are taken at once but answered only when released. */
class LateReplyEngine extends MemoryEngine {
  release: (() => void) | null = null;
  override async history(channel: string, since?: Position) {
    const result = await super.history(channel, since);
    await new Promise<void>((resolve) => (this.release = resolve));
    return result;
  }
}

describe('RealtimeServer: connect', () => {
  it('closes with 4501 when the subprotocol is not fdx.v1', () => {
    const { server } = setup();
    const t = new FakeTransport();
    t.protocol = '';
    server.accept(t);
    assert.deepEqual(codeOf(t), 4501);
  });

  it('closes with 4501 when the first message is not connect', async () => {
    const { server } = setup();
    const t = new FakeTransport();
    server.accept(t);
    t.receive({ type: 'subscribe', id: 1, channel: 'a' });
    assert.equal(codeOf(t), 4501);
  });

  it('closes with 4000 when no connect arrives within connectTimeoutMs', async () => {
    const { server, clock } = setup({ connectTimeoutMs: 1000 });
    const t = new FakeTransport();
    server.accept(t);
    await clock.advance(999);
    assert.equal(t.closed, null);
    await clock.advance(1);
    assert.equal(codeOf(t), 4000);
  });

  it('answers connect with the client id and heartbeat interval, and keeps the authenticated data', async () => {
    let seen: unknown;
    const { server } = setup({
      pingIntervalMs: 1234,
      authenticate: (info) => {
        seen = info;
        return { user: info.token };
      },
    });
    const t = new FakeTransport();
    const connection = server.accept(t, { url: '/rt' });
    t.receive({ type: 'connect', id: 'a', token: 'tok', data: { tab: 1 } });
    await settle();
    assert.deepEqual(t.take(), [{ type: 'reply', id: 'a', result: { client: connection.id, pingIntervalMs: 1234 } }]);
    assert.deepEqual(seen, { token: 'tok', data: { tab: 1 }, request: { url: '/rt' } });
    assert.deepEqual(connection.data, { user: 'tok' });
    assert.equal(server.connections.get(connection.id), connection);
  });

  it('adds the data of the welcome hook to the connect reply', async () => {
    const { server } = setup({ authenticate: () => ({ name: 'ada' }), welcome: (connection) => ({ hello: connection.data.name }) });
    const t = new FakeTransport();
    const connection = server.accept(t);
    t.receive({ type: 'connect', id: 1 });
    await settle();
    assert.deepEqual(t.take(), [{ type: 'reply', id: 1, result: { client: connection.id, pingIntervalMs: 25_000, data: { hello: 'ada' } } }]);
  });

  it('refuses bad credentials with UNAUTHORIZED and close 4500', async () => {
    const { server } = setup({
      authenticate: ({ token }) => {
        if (token !== 'good') throw new RealtimeError('UNAUTHORIZED', 'bad token');
        return {};
      },
    });
    const t = new FakeTransport();
    server.accept(t);
    t.receive({ type: 'connect', id: 1, token: 'bad' });
    await settle();
    assert.deepEqual(t.take(), [{ type: 'reply', id: 1, error: { code: 'UNAUTHORIZED', message: 'bad token' } }]);
    assert.equal(codeOf(t), 4500);
    assert.equal(server.connections.size, 0);
  });

  it('processes messages sent right behind connect, in order, once authenticated', async () => {
    let release!: () => void;
    const { server } = setup({ authenticate: () => new Promise((resolve) => (release = () => resolve({}))) });
    const t = new FakeTransport();
    server.accept(t);
    t.receive({ type: 'connect', id: 1 });
    t.receive({ type: 'subscribe', id: 2, channel: 'a' });
    t.receive({ type: 'publish', id: 3, channel: 'a', data: 'x' });
    await settle();
    assert.deepEqual(t.take(), []);
    release();
    await settle();
    const out = t.take().map((m) => `${m.type} ${m.id ?? m.offset}`);
    // Replies may come in any order; the publication follows the subscription's reply.
    assert.deepEqual([...out].sort(), ['pub 1', 'reply 1', 'reply 2', 'reply 3']);
    assert.equal(out[0], "reply 1", out.join());
    assert.ok(out.indexOf("pub 1") > out.indexOf("reply 2"), out.join());
  });

  it('closes with 4001 when too many messages queue behind connect', async () => {
    const { server } = setup({ authenticate: () => new Promise(() => {}), maxQueuedBeforeConnect: 2 });
    const t = new FakeTransport();
    server.accept(t);
    t.receive({ type: 'connect', id: 1 });
    for (let i = 0; i < 3; i++) t.receive({ type: 'ping' });
    assert.equal(codeOf(t), 4001);
  });

  it('answers a second connect with ALREADY_CONNECTED', async () => {
    const { connect, request } = setup();
    const t = await connect();
    assert.deepEqual(await request(t, { type: 'connect', id: 5 }), [{ type: 'reply', id: 5, error: { code: 'ALREADY_CONNECTED', message: 'connect was already received' } }]);
  });
});

describe('RealtimeServer: bad input', () => {
  it('answers malformed messages with stable codes and keeps the connection', async () => {
    const { connect, request } = setup({ maxMessageBytes: 100 });
    const t = await connect();
    assert.equal((await request(t, '{"type":'))[0].code, 'BAD_JSON');
    assert.equal((await request(t, '[]'))[0].code, 'BAD_MESSAGE');
    assert.equal((await request(t, new Uint8Array([1])))[0].code, 'BAD_MESSAGE');
    assert.equal((await request(t, { type: 'pub', channel: 'a', offset: '1', epoch: 'e' }))[0].code, 'BAD_MESSAGE');
    assert.equal((await request(t, 'x'.repeat(101)))[0].code, 'MESSAGE_TOO_LARGE');
    const big = await request(t, { type: 'publish', id: 7, channel: 'a', data: 'x'.repeat(100) });
    assert.deepEqual([big[0].type, big[0].id, big[0].error.code], ['reply', 7, 'MESSAGE_TOO_LARGE']);
    // 40 characters, 120 bytes of UTF-8: too large; 33 three-byte characters plus the quotes: 101.
    assert.equal((await request(t, `"${'€'.repeat(40)}"`))[0].code, 'MESSAGE_TOO_LARGE');
    assert.equal((await request(t, `"${'€'.repeat(33)}"`))[0].code, 'MESSAGE_TOO_LARGE');
    assert.equal((await request(t, `"${'€'.repeat(32)}"`))[0].code, 'BAD_MESSAGE');
    assert.equal((await request(t, `"${'😀'.repeat(24)}"`))[0].code, 'BAD_MESSAGE'); // 98 bytes
    const withId = await request(t, { type: 'subscribe', id: 4, channel: 'no spaces' });
    assert.deepEqual([withId[0].type, withId[0].id, withId[0].error.code], ['reply', 4, 'CHANNEL_INVALID']);
    assert.deepEqual(await request(t, { type: 'ping' }), [{ type: 'pong' }]);
    assert.equal(t.closed, null);
  });
});

describe('RealtimeServer: channels', () => {
  it('delivers a publication to every subscriber, the publisher included, with its position', async () => {
    const { connect, request } = setup();
    const a = await connect();
    const b = await connect();
    const sub = await request(a, { type: 'subscribe', id: 1, channel: 'room' });
    assert.deepEqual(sub[0].result.recovered, true);
    assert.equal(sub[0].result.position.offset, '0');
    await request(b, { type: 'subscribe', id: 1, channel: 'room' });
    const out = await request(a, { type: 'publish', id: 2, channel: 'room', data: { text: 'hi' } });
    const epoch = sub[0].result.position.epoch;
    assert.deepEqual(out, [
      { type: 'pub', channel: 'room', offset: '1', epoch, data: { text: 'hi' } },
      { type: 'reply', id: 2, result: { offset: '1', epoch } },
    ]);
    assert.deepEqual(b.take(), [{ type: 'pub', channel: 'room', offset: '1', epoch, data: { text: 'hi' } }]);
  });

  it('stops delivering after unsubscribe and after the connection closed', async () => {
    const { connect, request, server } = setup();
    const a = await connect();
    const b = await connect();
    await request(a, { type: 'subscribe', id: 1, channel: 'room' });
    await request(b, { type: 'subscribe', id: 1, channel: 'room' });
    assert.deepEqual(await request(a, { type: 'unsubscribe', id: 2, channel: 'room' }), [{ type: 'reply', id: 2, result: null }]);
    b.drop();
    await server.publish('room', 1);
    assert.deepEqual(a.take(), []);
    assert.deepEqual(b.take(), []);
  });

  it('asks the authorization hook per channel and action', async () => {
    const asked: string[] = [];
    const { connect, request } = setup({
      authorize: (_c, channel, action) => {
        asked.push(`${action} ${channel}`);
        return channel.startsWith('public:') || action === 'subscribe';
      },
    });
    const t = await connect();
    assert.equal((await request(t, { type: 'subscribe', id: 1, channel: 'secret' }))[0].result.recovered, true);
    const refused = await request(t, { type: 'publish', id: 2, channel: 'secret', data: 1 });
    assert.deepEqual(refused, [{ type: 'reply', id: 2, error: { code: 'CHANNEL_FORBIDDEN', message: 'publish on "secret" is not allowed' } }]);
    assert.deepEqual(asked, ['subscribe secret', 'publish secret']);
  });

  it('refuses more than maxChannelsPerConnection channels with TOO_MANY_CHANNELS', async () => {
    const { connect, request } = setup({ maxChannelsPerConnection: 2 });
    const t = await connect();
    await request(t, { type: 'subscribe', id: 1, channel: 'a' });
    await request(t, { type: 'subscribe', id: 2, channel: 'b' });
    assert.equal((await request(t, { type: 'subscribe', id: 3, channel: 'a' }))[0].result.recovered, true);
    assert.equal((await request(t, { type: 'subscribe', id: 4, channel: 'c' }))[0].error.code, 'TOO_MANY_CHANNELS');
  });

  it('answers UNAVAILABLE when the engine fails', async () => {
    const engine = new MemoryEngine();
    const { connect, request } = setup({ engine });
    const t = await connect();
    await engine.close();
    assert.equal((await request(t, { type: 'subscribe', id: 1, channel: 'a' }))[0].error.code, 'UNAVAILABLE');
    assert.equal((await request(t, { type: 'publish', id: 2, channel: 'a', data: 1 }))[0].error.code, 'UNAVAILABLE');
  });
});

describe('RealtimeServer: fan-out encoded once', () => {
  it('serializes a publication once and hands the same SharedText to every subscriber', async () => {
    const { connect, request, server } = setup();
    const subscribers = [await connect(), await connect(), await connect()];
    for (const t of subscribers) await request(t, { type: 'subscribe', id: 1, channel: 'room' });
    const stringify = JSON.stringify;
    let serialized = 0;
    JSON.stringify = ((...args: Parameters<typeof stringify>) => (serialized++, stringify(...args))) as typeof stringify;
    let result;
    try {
      result = await server.publish('room', { text: 'hi' });
    } finally {
      JSON.stringify = stringify;
    }
    assert.equal(serialized, 1);
    const [first] = subscribers[0]!.shared;
    assert.ok(first);
    for (const t of subscribers) {
      assert.equal(t.shared.length, 1);
      assert.equal(t.shared[0], first);
      assert.deepEqual(t.take(), [{ type: 'pub', channel: 'room', offset: result.offset, epoch: result.epoch, data: { text: 'hi' } }]);
    }
  });

  it('shares the serialized pub with a subscriber that buffered it while reading history', async () => {
    const engine = new LateReplyEngine({ historySize: 100 });
    const { connect, server } = setup({ engine });
    const live = await connect();
    live.receive({ type: 'subscribe', id: 1, channel: 'c' });
    await settle();
    engine.release!();
    await settle();
    const late = await connect();
    late.receive({ type: 'subscribe', id: 1, channel: 'c', since: { offset: '0', epoch: live.take()[0].result.position.epoch } });
    await settle();
    await server.publish('c', 'after the read'); // live: sent; late: buffered, past its history
    engine.release!();
    await settle();
    assert.equal(live.shared.length, 1);
    assert.equal(late.shared.length, 1);
    assert.equal(late.shared[0], live.shared[0]);
    assert.deepEqual(late.take().map((m) => [m.type, m.offset]), [['reply', undefined], ['pub', '1']]);
    assert.equal(late.sent.length, 0);
  });

  it('sends the same text through send() to a transport without sendShared, beside ones with it', async () => {
    const { server, request } = setup();
    async function connectWith(t: FakeTransport): Promise<FakeTransport> {
      server.accept(t);
      await request(t, { type: 'connect', id: 0 });
      await request(t, { type: 'subscribe', id: 1, channel: 'room' });
      return t;
    }
    const plain = await connectWith(new FakeTransport({ sendShared: false }));
    const sharing = await connectWith(new FakeTransport());
    assert.equal(plain.sendShared, undefined);
    await server.publish('room', 7);
    assert.equal(server.broadcast('news', 8), 2);
    assert.deepEqual(plain.sent, sharing.sent);
    assert.deepEqual(plain.shared, []);
    assert.equal(sharing.shared.length, 2);
    assert.deepEqual(plain.take().map((m) => m.type), ['pub', 'event']);
  });

  it('broadcasts one SharedText to every connection', async () => {
    const { connect, server } = setup();
    const [a, b] = [await connect(), await connect()];
    assert.equal(server.broadcast('news', 1), 2);
    assert.equal(a.shared.length, 1);
    assert.equal(a.shared[0], b.shared[0]);
    assert.deepEqual(JSON.parse(a.shared[0]!.data as string), { type: 'event', event: 'news', data: 1 });
  });
});

describe('RealtimeServer: history and recovery', () => {
  it('recovers exactly the missed publications, in order, then goes live', async () => {
    const { connect, request, server } = setup();
    const t = await connect();
    let position!: { offset: string; epoch: string };
    for (let i = 1; i <= 4; i++) position = await server.publish('c', i);
    const out = await request(t, { type: 'subscribe', id: 1, channel: 'c', since: { offset: '1', epoch: position.epoch } });
    assert.deepEqual(out, [
      {
        type: 'reply',
        id: 1,
        result: {
          recovered: true,
          position: { offset: '4', epoch: position.epoch },
          publications: [
            { offset: '2', data: 2 },
            { offset: '3', data: 3 },
            { offset: '4', data: 4 },
          ],
        },
      },
    ]);
    await server.publish('c', 5);
    assert.deepEqual(t.take().map((m) => m.offset), ['5']);
  });

  it('says recovered: false and sends none when the position left the window or the epoch changed', async () => {
    const { connect, request, server } = setup();
    const t = await connect();
    let epoch = '';
    for (let i = 1; i <= 8; i++) epoch = (await server.publish('c', i)).epoch;
    for (const since of [{ offset: '1', epoch }, { offset: '7', epoch: 'other' }]) {
      const [reply] = await request(t, { type: 'subscribe', id: 1, channel: 'c', since });
      assert.deepEqual(reply.result, { recovered: false, position: { offset: '8', epoch }, publications: [] });
    }
  });

  it('loses and duplicates nothing published while history is being read', async () => {
    const engine = new SlowHistoryEngine({ historySize: 100 });
    const { connect, server } = setup({ engine });
    const t = await connect();
    let epoch = '';
    for (let i = 1; i <= 3; i++) epoch = (await server.publish('c', i)).epoch;
    t.receive({ type: 'subscribe', id: 1, channel: 'c', since: { offset: '1', epoch } });
    await settle();
    // Published after the live subscription, before the history read: in both, sent once.
    await server.publish('c', 4);
    engine.release!();
    await settle();
    // Published after the history read, before the reply went out: buffered, then sent.
    await server.publish('c', 5);
    const out = t.take();
    assert.equal(out[0].type, 'reply');
    const offsets = [...out[0].result.publications.map((p: any) => p.offset), ...out.slice(1).map((m) => m.offset)];
    assert.deepEqual(offsets, ['2', '3', '4', '5']);
  });

  it('delivers publications buffered during the history read that are past its position', async () => {
    const engine = new SlowHistoryEngine({ historySize: 100 });
    const { connect, server } = setup({ engine });
    const t = await connect();
    t.receive({ type: 'subscribe', id: 1, channel: 'c' });
    await settle();
    engine.release!(); // releases the subscription's read, which sees offset 0
    await settle();
    await server.publish('c', 'a');
    const out = t.take();
    assert.deepEqual(out.map((m) => m.type), ['reply', 'pub']);
    assert.equal(out[0].result.position.offset, '0');
    assert.equal(out[1].offset, '1');
  });

  it('tells a subscriber recovered: false when the live feed moves to a new epoch', async () => {
    const engine = new MemoryEngine();
    let live!: LiveHandler;
    const subscribe = engine.subscribe.bind(engine);
    engine.subscribe = async (channel, handler) => {
      live = handler;
      return subscribe(channel, handler);
    };
    const { connect, request, server } = setup({ engine });
    const t = await connect();
    await request(t, { type: 'subscribe', id: 1, channel: 'c' });
    const first = await server.publish('c', 'a');
    t.take();
    // The engine lost the channel (e.g. its store restarted empty): offsets restart, new epoch.
    live({ channel: 'c', offset: '1', epoch: 'fresh', data: 'b' });
    live({ channel: 'c', offset: '2', epoch: 'fresh', data: 'c' });
    assert.notEqual(first.epoch, 'fresh');
    assert.deepEqual(t.take(), [
      { type: 'join', channel: 'c', position: { offset: '0', epoch: 'fresh' }, recovered: false },
      { type: 'pub', channel: 'c', offset: '1', epoch: 'fresh', data: 'b' },
      { type: 'pub', channel: 'c', offset: '2', epoch: 'fresh', data: 'c' },
    ]);
  });

  it('does not store or deliver twice a publication whose key was seen', async () => {
    const { connect, request } = setup();
    const t = await connect();
    await request(t, { type: 'subscribe', id: 1, channel: 'c' });
    const first = await request(t, { type: 'publish', id: 2, channel: 'c', data: 'x', key: 'k-1' });
    const again = await request(t, { type: 'publish', id: 3, channel: 'c', data: 'x', key: 'k-1' });
    assert.deepEqual(first.map((m: any) => m.type), ['pub', 'reply']);
    assert.deepEqual(again.length, 1);
    assert.deepEqual(again[0].result.duplicate, true);
    assert.equal(again[0].result.offset, first[1].result.offset);
  });
});

describe('RealtimeServer: limits', () => {
  it('rate-limits publishes and events with RATE_LIMITED, refilling over time', async () => {
    const { connect, request, clock, server } = setup({ publishRatePerSecond: 10, publishBurst: 2 });
    server.on('e', () => 1);
    const t = await connect();
    await request(t, { type: 'publish', id: 1, channel: 'c', data: 1 });
    await request(t, { type: 'event', id: 2, event: 'e' });
    assert.equal((await request(t, { type: 'publish', id: 3, channel: 'c', data: 1 }))[0].error.code, 'RATE_LIMITED');
    assert.equal((await request(t, { type: 'event', event: 'e' }))[0].code, 'RATE_LIMITED');
    await clock.advance(100);
    assert.deepEqual((await request(t, { type: 'event', id: 4, event: 'e' }))[0], { type: 'reply', id: 4, result: 1 });
  });

  it('closes with 4001 a connection that keeps flooding', async () => {
    const { connect, request } = setup({ publishRatePerSecond: 1, publishBurst: 1, floodLimit: 3 });
    const t = await connect();
    for (let i = 0; i < 4; i++) await request(t, { type: 'publish', id: i, channel: 'c', data: i });
    assert.equal(codeOf(t), 4001);
  });

  it('refuses requests past maxPendingRequests with TOO_MANY_PENDING', async () => {
    const { connect, request, server } = setup({ maxPendingRequests: 2 });
    server.on('slow', () => new Promise(() => {}));
    const t = await connect();
    await request(t, { type: 'event', id: 1, event: 'slow' });
    await request(t, { type: 'event', id: 2, event: 'slow' });
    assert.equal((await request(t, { type: 'event', id: 3, event: 'slow' }))[0].error.code, 'TOO_MANY_PENDING');
  });
});

describe('RealtimeServer: events and requests', () => {
  const schema: StandardSchemaV1<unknown, { text: string }> = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value: any) =>
        typeof value?.text === 'string' ? { value: { text: value.text.trim() } } : { issues: [{ message: 'expected a string', path: ['text'] }] },
    },
  };

  it('replies with the handler result, after schema validation (and its transform)', async () => {
    const { connect, request, server } = setup();
    server.on('say', (data: any, connection, meta) => ({ echo: data.text, from: connection.id.length > 0, key: meta.key }), { schema });
    const t = await connect();
    assert.deepEqual(await request(t, { type: 'event', id: 1, event: 'say', data: { text: ' hi ' }, key: 'k1' }), [
      { type: 'reply', id: 1, result: { echo: 'hi', from: true, key: 'k1' } },
    ]);
    assert.deepEqual(await request(t, { type: 'event', id: 2, event: 'say', data: { text: 3 } }), [
      { type: 'reply', id: 2, error: { code: 'INVALID_PAYLOAD', message: 'text: expected a string' } },
    ]);
  });

  it('answers UNKNOWN_EVENT, HANDLER_ERROR, a RealtimeError code, and TIMEOUT', async () => {
    const { connect, request, server, clock } = setup({ requestTimeoutMs: 500 });
    server.on('boom', () => {
      throw new Error('secret detail');
    });
    server.on('coded', () => Promise.reject(new RealtimeError('NOT_SUBSCRIBED', 'join first')));
    server.on('never', () => new Promise(() => {}));
    const t = await connect();
    assert.equal((await request(t, { type: 'event', id: 1, event: 'nope' }))[0].error.code, 'UNKNOWN_EVENT');
    assert.deepEqual((await request(t, { type: 'event', id: 2, event: 'boom' }))[0].error, { code: 'HANDLER_ERROR', message: 'the handler failed' });
    assert.deepEqual((await request(t, { type: 'event', id: 3, event: 'coded' }))[0].error, { code: 'NOT_SUBSCRIBED', message: 'join first' });
    await request(t, { type: 'event', id: 4, event: 'never' });
    await clock.advance(500);
    assert.equal(t.take()[0].error.code, 'TIMEOUT');
  });

  it('runs push events without a reply, and reports their errors as error messages', async () => {
    const { connect, request, server } = setup();
    const got: unknown[] = [];
    server.on('note', (data) => void got.push(data));
    const t = await connect();
    assert.deepEqual(await request(t, { type: 'event', event: 'note', data: 1 }), []);
    assert.deepEqual(got, [1]);
    assert.equal((await request(t, { type: 'event', event: 'nope' }))[0].type, 'error');
  });

  it('requests the client and resolves with its reply, or rejects with a stable code', async () => {
    const { connect, server, clock } = setup({ requestTimeoutMs: 1000, maxPendingRequests: 2 });
    const t = await connect();
    const connection = [...server.connections.values()][0]!;
    const answered = connection.request('confirm', { q: 1 });
    const [asked] = t.take();
    assert.deepEqual({ ...asked, id: 0 }, { type: 'event', id: 0, event: 'confirm', data: { q: 1 } });
    t.receive({ type: 'reply', id: asked.id, result: 'yes' });
    assert.equal(await answered, 'yes');

    const refused = connection.request('confirm', 2);
    t.receive({ type: 'reply', id: t.take()[0].id, error: { code: 'NOPE', message: 'no' } });
    await assert.rejects(refused, { code: 'NOPE', message: 'no' });

    const late = connection.request('confirm', 3);
    const lateId = t.take()[0].id;
    const lateDone = assert.rejects(late, { code: 'TIMEOUT' });
    const secondDone = assert.rejects(connection.request('confirm', 4), { code: 'TIMEOUT' });
    await assert.rejects(connection.request('confirm', 5), { code: 'TOO_MANY_PENDING' });
    await clock.advance(1000);
    await lateDone;
    await secondDone;
    t.receive({ type: 'reply', id: lateId, result: 'too late' }); // ignored, no throw

    const cut = connection.request('confirm', 6);
    t.drop();
    await assert.rejects(cut, { code: 'DISCONNECTED' });
  });
});

describe('RealtimeServer: pushes', () => {
  it('broadcasts to everyone, to everyone but one, and emits to one connection', async () => {
    const { connect, server } = setup();
    const [a, b, c] = [await connect(), await connect(), await connect()];
    const [ca, cb] = [...server.connections.values()];
    assert.equal(server.broadcast('news', 1), 3);
    assert.equal(server.broadcast('news', 2, { except: ca }), 2);
    cb!.emit('direct', 3);
    const events = (t: FakeTransport) => t.take().map((m) => `${m.event}:${m.data}`);
    assert.deepEqual(events(a), ['news:1']);
    assert.deepEqual(events(b), ['news:1', 'news:2', 'direct:3']);
    assert.deepEqual(events(c), ['news:1', 'news:2']);
  });

  it('publishes to a channel except one connection', async () => {
    const { connect, request, server } = setup();
    const a = await connect();
    const b = await connect();
    await request(a, { type: 'subscribe', id: 1, channel: 'c' });
    await request(b, { type: 'subscribe', id: 1, channel: 'c' });
    const [ca] = [...server.connections.values()];
    await server.publish('c', 'x', { except: ca });
    await server.publish('c', 'y');
    assert.deepEqual(a.take().map((m) => m.data), ['y']);
    assert.deepEqual(b.take().map((m) => m.data), ['x', 'y']);
  });

  it('joins and removes a connection from the server side', async () => {
    const { connect, server } = setup();
    const t = await connect();
    const [connection] = [...server.connections.values()];
    await server.join(connection!, 'user:1');
    const [join] = t.take();
    assert.equal(join.type, 'join');
    assert.equal(join.position.offset, '0');
    await server.publish('user:1', 'hello');
    assert.equal(t.take()[0].data, 'hello');
    server.leave(connection!, 'user:1', 'bye');
    assert.deepEqual(t.take(), [{ type: 'leave', channel: 'user:1', reason: 'bye' }]);
    await server.publish('user:1', 'gone');
    assert.deepEqual(t.take(), []);
  });

  it('joins connections from onConnection and reports disconnections', async () => {
    const gone: number[] = [];
    let server!: RealtimeServer<any, any, any>;
    ({ server } = setup({
      onConnection: (connection) => void server.join(connection, `user:${connection.id}`),
      onDisconnect: (_connection, code) => void gone.push(code),
    }));
    const t = new FakeTransport();
    const connection = server.accept(t);
    t.receive({ type: 'connect', id: 1 });
    await settle();
    assert.deepEqual(t.take().map((m) => m.type), ['reply', 'join']);
    assert.deepEqual([...connection.channels], [`user:${connection.id}`]);
    t.drop();
    assert.deepEqual(gone, [1006]);
  });
});

describe('RealtimeServer: application hooks that fail', () => {
  it('closes with 1011 a connection whose onConnection hook throws, and survives a throwing onDisconnect', async () => {
    const { server } = setup({
      onConnection: () => {
        throw new Error('bug');
      },
      onDisconnect: () => {
        throw new Error('bug');
      },
    });
    const t = new FakeTransport();
    server.accept(t);
    t.receive({ type: 'connect', id: 1 });
    await settle();
    assert.equal(codeOf(t), 1011);
    assert.equal(server.connections.size, 0);
  });

  it('refuses a channel when the authorization hook throws', async () => {
    const { connect, request } = setup({
      authorize: () => {
        throw new Error('bug');
      },
    });
    const t = await connect();
    assert.equal((await request(t, { type: 'subscribe', id: 1, channel: 'a' }))[0].error.code, 'CHANNEL_FORBIDDEN');
  });
});

describe('RealtimeServer: drain', () => {
  it('spreads drains over the period, lets running handlers reply, then closes with 1012', async () => {
    const { connect, request, server, clock } = setup();
    let finish!: (v: string) => void;
    server.on('work', () => new Promise<string>((resolve) => (finish = resolve)));
    const ts = [await connect(), await connect(), await connect(), await connect()];
    await request(ts[0]!, { type: 'event', id: 1, event: 'work' });
    const drained = server.drain(4000);
    await settle();
    assert.deepEqual(ts[0]!.take(), [{ type: 'drain' }]);
    assert.equal(ts[0]!.closed, null, 'waits for the running handler');
    assert.equal((await request(ts[0]!, { type: 'event', id: 2, event: 'work' }))[0].error.code, 'SHUTTING_DOWN');
    assert.deepEqual(ts[1]!.take(), []);
    finish('done');
    await settle();
    assert.deepEqual(ts[0]!.take(), [{ type: 'reply', id: 1, result: 'done' }]);
    assert.equal(codeOf(ts[0]!), 1012);
    await clock.advance(1000);
    assert.equal(codeOf(ts[1]!), 1012);
    assert.equal(ts[2]!.closed, null);
    await clock.advance(2000);
    await drained;
    assert.ok(ts.every((t) => codeOf(t) === 1012));

    const late = new FakeTransport();
    server.accept(late);
    late.receive({ type: 'connect', id: 1 });
    await settle();
    assert.equal(late.take()[0].error.code, 'SHUTTING_DOWN');
    assert.equal(codeOf(late), 1012);
  });

  it('close() closes every connection with 1001 and leaves no timer behind', async () => {
    const { connect, server, clock, request } = setup();
    server.on('never', () => new Promise(() => {}));
    const t = await connect();
    await request(t, { type: 'event', id: 1, event: 'never' });
    const connection = [...server.connections.values()][0]!;
    void connection.request('ask', 1).catch(() => {});
    await server.close();
    assert.equal(codeOf(t), 1001);
    assert.equal(clock.pending, 0);
  });
});

