/**
 * The real-time client's state machine, driven through a fake WebSocket and a fake clock:
 * backoff with full jitter, every close code's verdict, resubscription with positions and the
 * recovery result, the offline outbox (keys, bound, deadlines), request timeouts and retries,
 * heartbeats, drain, server requests, server-side joins, persistence of positions.
 */
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, type ClientOptions, type PositionStorage } from '../../../src/realtime/client/realtime-client.js';
import { FakeClock, settle } from '../../support/fake-clock.js';

class FakeSocket {
  static all: FakeSocket[] = [];
  protocol = '';
  sent: any[] = [];
  closedWith: number | null = null;
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string | string[],
  ) {
    FakeSocket.all.push(this);
  }
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(code = 1000): void {
    this.closedWith ??= code;
  }
  /** The server accepts the upgrade with this subprotocol. */
  open(protocol = 'fdx.v1'): void {
    this.protocol = protocol;
    this.onopen?.({});
  }
  push(message: unknown): void {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }
  /** The server answers `connect`. */
  welcome(pingIntervalMs = 0, data?: unknown): void {
    const connect = this.sent.find((m) => m.type === 'connect');
    this.push({ type: 'reply', id: connect.id, result: { client: 'c1', pingIntervalMs, data } });
  }
  drop(code = 1006): void {
    this.onclose?.({ code, reason: '' });
  }
  take(): any[] {
    const out = this.sent;
    this.sent = [];
    return out;
  }
  /** Answers the last sent message of `type` with `result`. */
  reply(type: string, result: unknown): any {
    const m = [...this.sent].reverse().find((x) => x.type === type);
    this.push({ type: 'reply', id: m.id, result });
    return m;
  }
}

let clock: FakeClock;
let randoms: number[];

function make(options: ClientOptions = {}) {
  return createClient('ws://test/rt', {
    WebSocket: FakeSocket as never,
    clock,
    random: () => randoms.shift() ?? 0.5,
    minDelayMs: 100,
    maxDelayMs: 1000,
    ...options,
  });
}

function last(): FakeSocket {
  return FakeSocket.all[FakeSocket.all.length - 1]!;
}

/** Creates a client and takes it to `connected` on its first socket. */
async function connected(options: ClientOptions = {}) {
  const client = make(options);
  await settle();
  const socket = last();
  socket.open();
  socket.welcome();
  socket.take();
  return { client, socket };
}

/** Drops the socket, runs the backoff, and brings the next one to `connected`. */
async function reconnect(socket: FakeSocket, code = 1006): Promise<FakeSocket> {
  const before = FakeSocket.all.length;
  socket.drop(code);
  await clock.advance(2000);
  assert.equal(FakeSocket.all.length, before + 1, 'a new socket');
  const next = last();
  next.open();
  next.welcome();
  return next;
}

beforeEach(() => {
  FakeSocket.all = [];
  clock = new FakeClock();
  randoms = [];
});

describe('client: connecting', () => {
  it('offers fdx.v1, sends connect with the token and data, and reports its states', async () => {
    const states: string[] = [];
    const online: unknown[] = [];
    const client = make({ token: 't0k', data: { tab: 1 } });
    client.on('state', (s) => states.push(s));
    client.on('online', (data) => online.push(data));
    await settle();
    const socket = last();
    assert.deepEqual([socket.url, socket.protocols], ['ws://test/rt', 'fdx.v1']);
    socket.open();
    assert.deepEqual(socket.sent, [{ type: 'connect', id: 0, token: 't0k', data: { tab: 1 } }]);
    socket.welcome(0, { hello: 'ada' });
    assert.deepEqual([client.state, client.id, online], ['connected', 'c1', [{ hello: 'ada' }]]);
    socket.drop();
    assert.deepEqual(states, ['connected', 'disconnected']);
  });

  it('asks a token function before every connection', async () => {
    let n = 0;
    const { socket } = await connected({ token: () => `t${++n}` });
    const next = await reconnect(socket);
    assert.equal(next.sent.find((m) => m.type === 'connect').token, 't2');
  });

  it('waits a full-jitter exponential backoff between attempts, capped, reset once connected', async () => {
    randoms = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    const client = make();
    await settle();
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = FakeSocket.all.length;
      const start = clock.now();
      last().drop();
      let waited = 0;
      while (FakeSocket.all.length === before) {
        await clock.advance(1);
        waited++;
      }
      waits.push(clock.now() - start);
    }
    // 0.5 × min(1000, 100 × 2^n): 50, 100, 200, 400, then the cap.
    assert.deepEqual(waits, [50, 100, 200, 400, 500, 500]);
    last().open();
    last().welcome();
    randoms = [0.5];
    const start = clock.now();
    last().drop();
    while (client.state !== 'connecting') await clock.advance(1);
    assert.equal(clock.now() - start, 50);
  });

  it('reconnects at once (under a second) after a drain close, 1012', async () => {
    const { socket } = await connected();
    randoms = [0.3];
    socket.drop(1012);
    await clock.advance(299);
    assert.equal(FakeSocket.all.length, 1);
    await clock.advance(1);
    assert.equal(FakeSocket.all.length, 2);
  });

  for (const [code, error] of [
    [4500, 'UNAUTHORIZED'],
    [4501, 'CLOSED'],
    [4502, 'CLOSED'],
  ] as const) {
    it(`stops for good after close ${code}, with error ${error}`, async () => {
      const { client, socket } = await connected();
      const errors: string[] = [];
      client.on('error', (e) => errors.push(e.code));
      socket.drop(code);
      await clock.advance(60_000);
      assert.equal(client.state, 'closed');
      assert.equal(FakeSocket.all.length, 1);
      assert.deepEqual(errors, [error]);
    });
  }

  for (const code of [1000, 1001, 1006, 1008, 1009, 4000, 4001]) {
    it(`reconnects after close ${code}`, async () => {
      const { socket } = await connected();
      await reconnect(socket, code);
    });
  }

  it('stops when the server does not pick fdx.v1', async () => {
    const client = make();
    await settle();
    last().open('');
    assert.equal(last().closedWith, 1000);
    last().drop(1000);
    await clock.advance(60_000);
    assert.equal(client.state, 'closed');
    assert.equal(FakeSocket.all.length, 1);
  });

  it('throws a clear TypeError when there is no WebSocket to use', () => {
    assert.throws(() => createClient('ws://test/rt', { WebSocket: undefined, clock }), TypeError);
  });

  it('gives up on a connection that is not welcomed within timeoutMs, and tries again', async () => {
    const client = make({ timeoutMs: 3000 });
    await settle();
    last().open();
    await clock.advance(2999);
    assert.equal(last().closedWith, null);
    await clock.advance(1);
    assert.equal(FakeSocket.all[0]!.closedWith, 1000);
    assert.equal(client.state, 'disconnected');
    await clock.advance(1000);
    assert.equal(FakeSocket.all.length, 2);
  });

  it('keeps trying while the server is unreachable', async () => {
    const client = make();
    await settle();
    for (let i = 0; i < 5; i++) {
      last().drop(1006);
      await clock.advance(1000);
    }
    assert.equal(FakeSocket.all.length, 6);
    assert.equal(client.state, 'connecting');
  });

  it('reconnect() skips the backoff wait', async () => {
    randoms = [0.99];
    const { client, socket } = await connected();
    socket.drop();
    assert.equal(client.state, 'disconnected');
    client.reconnect();
    await settle();
    assert.equal(FakeSocket.all.length, 2);
  });

  it('ignores malformed messages from the server', async () => {
    const { client, socket } = await connected();
    socket.push('not json');
    socket.push({ type: 'pub' });
    socket.push({ type: 'reply', id: 999, result: 1 });
    assert.equal(client.state, 'connected');
  });
});

describe('client: channels and recovery', () => {
  it('subscribes, delivers publications and keeps the last position', async () => {
    const { client, socket } = await connected();
    const got: unknown[] = [];
    client.subscribe('room', (data, info) => got.push([data, info.offset]));
    const sub = socket.take()[0];
    assert.deepEqual(sub, { type: 'subscribe', channel: 'room', id: sub.id });
    socket.push({ type: 'reply', id: sub.id, result: { recovered: true, position: { offset: '4', epoch: 'e' }, publications: [] } });
    socket.push({ type: 'pub', channel: 'room', offset: '5', epoch: 'e', data: 'x' });
    socket.push({ type: 'pub', channel: 'other', offset: '9', epoch: 'e', data: 'ignored' });
    assert.deepEqual(got, [['x', '5']]);
    assert.deepEqual(client.position('room'), { offset: '5', epoch: 'e' });
  });

  it('resubscribes from the last position after a reconnect and delivers the recovered publications first', async () => {
    const { client, socket } = await connected();
    const got: unknown[] = [];
    const recovery: [string, boolean][] = [];
    client.on('subscribed', (channel, recovered) => recovery.push([channel, recovered]));
    client.subscribe('room', (data) => got.push(data));
    socket.reply('subscribe', { recovered: true, position: { offset: '1', epoch: 'e' }, publications: [] });
    socket.push({ type: 'pub', channel: 'room', offset: '2', epoch: 'e', data: 'a' });
    const next = await reconnect(socket);
    const sub = next.take().find((m) => m.type === 'subscribe');
    assert.deepEqual(sub.since, { offset: '2', epoch: 'e' });
    next.push({ type: 'reply', id: sub.id, result: { recovered: true, position: { offset: '4', epoch: 'e' }, publications: [{ offset: '3', data: 'b' }, { offset: '4', data: 'c' }] } });
    next.push({ type: 'pub', channel: 'room', offset: '5', epoch: 'e', data: 'd' });
    assert.deepEqual(got, ['a', 'b', 'c', 'd']);
    assert.deepEqual(recovery, [['room', true], ['room', true]]);
    assert.deepEqual(client.position('room'), { offset: '5', epoch: 'e' });
  });

  it('subscribing again on a live connection neither loses nor repeats a publication', async () => {
    const { client, socket } = await connected();
    const got: unknown[] = [];
    client.subscribe('room', (d) => got.push(`a:${d}`));
    socket.reply('subscribe', { recovered: true, position: { offset: '1', epoch: 'e' }, publications: [] });
    socket.take();
    client.subscribe('room', (d) => got.push(`b:${d}`));
    const again = socket.take()[0];
    assert.deepEqual(again.since, { offset: '1', epoch: 'e' });
    // Still flowing on the earlier subscription until the server switches: also in the reply.
    socket.push({ type: 'pub', channel: 'room', offset: '2', epoch: 'e', data: 'x' });
    socket.push({ type: 'reply', id: again.id, result: { recovered: true, position: { offset: '2', epoch: 'e' }, publications: [{ offset: '2', data: 'x' }] } });
    socket.push({ type: 'pub', channel: 'room', offset: '3', epoch: 'e', data: 'y' });
    assert.deepEqual(got, ['b:x', 'b:y']);
  });

  it('tells the app recovered: false and moves to the new position', async () => {
    const { client, socket } = await connected();
    const recovery: boolean[] = [];
    client.on('subscribed', (_c, recovered) => recovery.push(recovered));
    client.subscribe('room', () => {});
    socket.reply('subscribe', { recovered: true, position: { offset: '1', epoch: 'e' }, publications: [] });
    const next = await reconnect(socket);
    next.reply('subscribe', { recovered: false, position: { offset: '1', epoch: 'f' }, publications: [] });
    assert.deepEqual(recovery, [true, false]);
    assert.deepEqual(client.position('room'), { offset: '1', epoch: 'f' });
  });

  it('stops delivering after unsubscribe, and tells the server', async () => {
    const { client, socket } = await connected();
    const got: unknown[] = [];
    const off = client.subscribe('room', (d) => got.push(d));
    socket.reply('subscribe', { recovered: true, position: { offset: '0', epoch: 'e' }, publications: [] });
    off();
    assert.equal(socket.take().pop().type, 'unsubscribe');
    socket.push({ type: 'pub', channel: 'room', offset: '1', epoch: 'e', data: 'x' });
    assert.deepEqual(got, []);
  });

  it('drops a subscription the server refuses and reports the error', async () => {
    const { client, socket } = await connected();
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));
    client.subscribe('secret', () => {});
    const sub = socket.take()[0];
    socket.push({ type: 'reply', id: sub.id, error: { code: 'CHANNEL_FORBIDDEN' } });
    assert.deepEqual(errors, ['CHANNEL_FORBIDDEN']);
    assert.equal(client.position('secret'), undefined);
  });

  it('keeps a subscription refused with UNAVAILABLE and asks again after minDelayMs, once per connection', async () => {
    const { client, socket } = await connected();
    const errors: string[] = [];
    const recovery: boolean[] = [];
    client.on('error', (e) => errors.push(e.code));
    client.on('subscribed', (_c, recovered) => recovery.push(recovered));
    client.subscribe('room', () => {});
    socket.reply('subscribe', { recovered: true, position: { offset: '2', epoch: 'e' }, publications: [] });
    const next = await reconnect(socket);
    const refused = next.take().find((m) => m.type === 'subscribe');
    next.push({ type: 'reply', id: refused.id, error: { code: 'UNAVAILABLE' } });
    await clock.advance(99);
    assert.deepEqual(next.take(), [], 'not before minDelayMs');
    await clock.advance(1);
    const again = next.take().find((m) => m.type === 'subscribe');
    assert.deepEqual(again.since, { offset: '2', epoch: 'e' });
    next.push({ type: 'reply', id: again.id, error: { code: 'UNAVAILABLE' } });
    // A new connection before the delay runs out subscribes by itself; the old timer stays quiet.
    const third = await reconnect(next);
    assert.equal(third.take().filter((m) => m.type === 'subscribe').length, 1);
    await clock.advance(1000);
    assert.deepEqual(third.take().filter((m) => m.type === 'subscribe'), []);
    assert.deepEqual([errors, recovery], [[], [true]]);
    assert.deepEqual(client.position('room'), { offset: '2', epoch: 'e' });
  });

  it('follows server-side joins and leaves, and resubscribes joined channels', async () => {
    const { client, socket } = await connected();
    const pubs: unknown[] = [];
    client.on('publication', (data, info) => pubs.push([info.channel, data]));
    socket.push({ type: 'join', channel: 'user:1', position: { offset: '3', epoch: 'e' } });
    socket.push({ type: 'pub', channel: 'user:1', offset: '4', epoch: 'e', data: 'hi' });
    assert.deepEqual(pubs, [['user:1', 'hi']]);
    const next = await reconnect(socket);
    assert.deepEqual(next.take().find((m) => m.type === 'subscribe').since, { offset: '4', epoch: 'e' });
    next.push({ type: 'leave', channel: 'user:1' });
    next.push({ type: 'pub', channel: 'user:1', offset: '5', epoch: 'e', data: 'gone' });
    assert.equal(pubs.length, 1);
  });

  it('reports recovered: false when the server says the channel lost its history', async () => {
    const { client, socket } = await connected();
    const recovery: boolean[] = [];
    const got: unknown[] = [];
    client.on('subscribed', (_c, recovered) => recovery.push(recovered));
    client.subscribe('room', (d) => got.push(d));
    socket.reply('subscribe', { recovered: true, position: { offset: '5', epoch: 'e' }, publications: [] });
    socket.push({ type: 'join', channel: 'room', position: { offset: '0', epoch: 'f' }, recovered: false });
    socket.push({ type: 'pub', channel: 'room', offset: '1', epoch: 'f', data: 'x' });
    assert.deepEqual(recovery, [true, false]);
    assert.deepEqual(got, ['x']);
    assert.deepEqual(client.position('room'), { offset: '1', epoch: 'f' });
  });

  it('keeps positions in storage so that a new client resumes from them', async () => {
    const items = new Map<string, string>();
    const storage: PositionStorage = { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v) };
    const a = await connected({ persist: storage });
    a.client.subscribe('room', () => {});
    a.socket.reply('subscribe', { recovered: true, position: { offset: '7', epoch: 'e' }, publications: [] });
    a.socket.push({ type: 'pub', channel: 'room', offset: '8', epoch: 'e', data: 1 });
    a.client.close();
    const b = await connected({ persist: storage });
    b.client.subscribe('room', () => {});
    assert.deepEqual(b.socket.take()[0].since, { offset: '8', epoch: 'e' });
    assert.deepEqual(JSON.parse(items.get('fdx:ws://test/rt')!), { room: { offset: '8', epoch: 'e' } });
  });

  it('survives a broken storage', async () => {
    const storage: PositionStorage = {
      getItem: () => '{not json',
      setItem: () => {
        throw new Error('quota');
      },
    };
    const { client, socket } = await connected({ persist: storage });
    client.subscribe('room', () => {});
    socket.reply('subscribe', { recovered: true, position: { offset: '1', epoch: 'e' }, publications: [] });
    assert.deepEqual(client.position('room'), { offset: '1', epoch: 'e' });
  });
});

describe('client: outbox, acks and timeouts', () => {
  it('queues publications while offline and sends each once, with its key, after connecting', async () => {
    const client = make();
    await settle();
    const done = [client.publish('c', 1), client.publish('c', 2)];
    const socket = last();
    socket.open();
    socket.welcome();
    const sent = socket.take().filter((m) => m.type === 'publish');
    assert.deepEqual(sent.map((m) => m.data), [1, 2]);
    assert.ok(sent.every((m) => typeof m.key === 'string' && m.key.length >= 16));
    assert.notEqual(sent[0].key, sent[1].key);
    for (const m of sent) socket.push({ type: 'reply', id: m.id, result: { offset: String(m.data), epoch: 'e' } });
    assert.deepEqual((await Promise.all(done)).map((r) => r.offset), ['1', '2']);
  });

  it('sends a publication again with the same key when the connection dropped before its reply', async () => {
    const { client, socket } = await connected();
    const done = client.publish('c', 'x');
    const first = socket.take()[0];
    const next = await reconnect(socket);
    const again = next.take().find((m) => m.type === 'publish');
    assert.equal(again.key, first.key);
    next.push({ type: 'reply', id: again.id, result: { offset: '1', epoch: 'e', duplicate: true } });
    assert.equal((await done).offset, '1');
  });

  it('refuses with OUTBOX_FULL past maxOutbox, and with DEADLINE_EXCEEDED once the deadline passed offline', async () => {
    const client = make({ maxOutbox: 2, deadlineMs: 5000 });
    await settle();
    const a = client.publish('c', 1);
    const b = client.request('e', 2);
    await assert.rejects(client.publish('c', 3), { code: 'OUTBOX_FULL' });
    const aDone = assert.rejects(a, { code: 'DEADLINE_EXCEEDED' });
    const bDone = assert.rejects(b, { code: 'DEADLINE_EXCEEDED' });
    await clock.advance(5000);
    await aDone;
    await bDone;
  });

  it('fails a request with TIMEOUT when no reply comes', async () => {
    const { client, socket } = await connected({ timeoutMs: 1000 });
    const done = assert.rejects(client.request('slow', 1), { code: 'TIMEOUT' });
    await clock.advance(1000);
    await done;
    socket.reply('event', 'late'); // ignored
  });

  it('retries a timed-out request with the same key and a new id', async () => {
    const { client, socket } = await connected({ timeoutMs: 1000 });
    const done = client.request('slow', 1, { retries: 1 });
    const first = socket.take()[0];
    await clock.advance(1000);
    const second = socket.take()[0];
    assert.equal(second.key, first.key);
    assert.notEqual(second.id, first.id);
    socket.push({ type: 'reply', id: second.id, result: 'ok' });
    assert.equal(await done, 'ok');
  });

  it('rejects an unanswered request with DISCONNECTED on a drop, or resends it with retries', async () => {
    const { client, socket } = await connected();
    const lost = assert.rejects(client.request('a', 1), { code: 'DISCONNECTED' });
    const kept = client.request('b', 2, { retries: 1 });
    const next = await reconnect(socket);
    await lost;
    const again = next.take().find((m) => m.type === 'event');
    assert.equal(again.event, 'b');
    next.push({ type: 'reply', id: again.id, result: 'ok' });
    assert.equal(await kept, 'ok');
  });

  it('rejects with the error code of the reply', async () => {
    const { client, socket } = await connected();
    const done = client.publish('c', 1);
    const m = socket.take()[0];
    socket.push({ type: 'reply', id: m.id, error: { code: 'RATE_LIMITED', message: 'slow down' } });
    await assert.rejects(done, { code: 'RATE_LIMITED', message: 'slow down' });
  });

  it('keeps at most maxInflight requests awaiting replies, sending the rest as replies come', async () => {
    const { client, socket } = await connected({ maxInflight: 2 });
    const done = [1, 2, 3, 4].map((n) => client.publish('c', n));
    let sent = socket.take();
    assert.deepEqual(sent.map((m) => m.data), [1, 2]);
    socket.push({ type: 'reply', id: sent[0].id, result: { offset: '1', epoch: 'e' } });
    sent = [...sent.slice(1), ...socket.take()];
    assert.deepEqual(sent.map((m) => m.data), [2, 3]);
    for (const m of sent) socket.push({ type: 'reply', id: m.id, result: { offset: String(m.data), epoch: 'e' } });
    const last4 = socket.take();
    assert.deepEqual(last4.map((m) => m.data), [4]);
    socket.push({ type: 'reply', id: last4[0].id, result: { offset: '4', epoch: 'e' } });
    assert.deepEqual((await Promise.all(done)).map((r) => r.offset), ['1', '2', '3', '4']);
  });

  it('sends again on the next connection what a draining server refused with SHUTTING_DOWN', async () => {
    const { client, socket } = await connected();
    const done = client.request('e', 1);
    const m = socket.take()[0];
    socket.push({ type: 'drain' });
    socket.push({ type: 'reply', id: m.id, error: { code: 'SHUTTING_DOWN' } });
    assert.deepEqual(socket.take(), []);
    const next = await reconnect(socket, 1012);
    const again = next.take().find((x) => x.type === 'event');
    assert.equal(again.key, m.key);
    next.push({ type: 'reply', id: again.id, result: 'done' });
    assert.equal(await done, 'done');
  });

  it('emits pushes without an id', async () => {
    const { client, socket } = await connected();
    client.emit('typing', { on: true });
    assert.deepEqual(socket.take(), [{ type: 'event', event: 'typing', data: { on: true } }]);
  });

  it('closes: rejects what waits with CLOSED and stops reconnecting', async () => {
    const client = make();
    await settle();
    const done = assert.rejects(client.publish('c', 1), { code: 'CLOSED' });
    client.close();
    await done;
    await assert.rejects(client.publish('c', 2), { code: 'CLOSED' });
    await clock.advance(60_000);
    assert.equal(client.state, 'closed');
    assert.equal(FakeSocket.all.length, 1);
  });

  it('leaves no timer behind once closed, whatever was in flight', async () => {
    const client = make({ timeoutMs: 1000 });
    await settle();
    const socket = last();
    socket.open();
    socket.welcome(500); // heartbeats on
    client.subscribe('c', () => {});
    const waiting = [client.publish('c', 1), client.request('e', 2, { retries: 3 })].map((p) => p.catch(() => {}));
    client.close();
    await Promise.all(waiting);
    assert.deepEqual(clock.due, []);
  });
});

describe('client: heartbeats, drain and server requests', () => {
  it('pings every interval and reconnects after two silent intervals', async () => {
    const client = make();
    await settle();
    const socket = last();
    socket.open();
    socket.welcome(1000);
    socket.take();
    await clock.advance(1000);
    assert.deepEqual(socket.take(), [{ type: 'ping' }]);
    socket.push({ type: 'pong' });
    await clock.advance(1000);
    assert.deepEqual(socket.take(), [{ type: 'ping' }]);
    await clock.advance(1000);
    assert.equal(socket.closedWith, 4000);
    assert.equal(client.state, 'disconnected');
    await clock.advance(2000);
    assert.equal(FakeSocket.all.length, 2);
  });

  it('answers the server ping', async () => {
    const { socket } = await connected();
    socket.push({ type: 'ping' });
    assert.deepEqual(socket.take(), [{ type: 'pong' }]);
  });

  it('holds new requests during a drain and sends them on the next connection', async () => {
    const { client, socket } = await connected();
    let drains = 0;
    client.on('drain', () => drains++);
    socket.push({ type: 'drain' });
    const done = client.publish('c', 'held');
    assert.deepEqual(socket.take(), []);
    randoms = [0.1];
    socket.drop(1012);
    await clock.advance(100);
    const next = last();
    next.open();
    next.welcome();
    const m = next.take().find((x) => x.type === 'publish');
    next.push({ type: 'reply', id: m.id, result: { offset: '1', epoch: 'e' } });
    assert.equal((await done).offset, '1');
    assert.equal(drains, 1);
  });

  it('answers server requests with the handler result, its error code, or UNKNOWN_EVENT', async () => {
    const { client, socket } = await connected();
    client.handle('confirm', (q) => q === 'yes?');
    client.handle('fail', () => {
      throw Object.assign(new Error('no way'), { code: 'NOPE' });
    });
    socket.push({ type: 'event', id: 1, event: 'confirm', data: 'yes?' });
    socket.push({ type: 'event', id: 2, event: 'fail', data: null });
    socket.push({ type: 'event', id: 3, event: 'missing', data: null });
    socket.push({ type: 'event', event: 'confirm', data: 'push: no reply' });
    await settle();
    const replies = socket.take().sort((a, b) => a.id - b.id);
    assert.deepEqual(replies, [
      { type: 'reply', id: 1, result: true },
      { type: 'reply', id: 2, error: { code: 'NOPE', message: 'no way' } },
      { type: 'reply', id: 3, error: { code: 'UNKNOWN_EVENT', message: 'missing' } },
    ]);
  });

  it('reports server error pushes', async () => {
    const { client, socket } = await connected();
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));
    socket.push({ type: 'error', code: 'BAD_JSON', message: 'x' });
    assert.deepEqual(errors, ['BAD_JSON']);
  });
});

describe('client: presence', () => {
  const member = (meta: unknown, connections = 1) => ({ meta, connections });

  it('fills the view from a snapshot, applies diffs, and reports join, update, leave and sync', async () => {
    const { client, socket } = await connected();
    client.subscribe('room:1');
    socket.reply('subscribe', { recovered: true, position: { offset: '0', epoch: 'e' }, publications: [] });
    const view = client.presence('room:1');
    assert.equal(client.presence('room:1'), view, 'one view per channel');
    const events: unknown[] = [];
    for (const type of ['join', 'update', 'leave'] as const) view.on(type, (user, m) => events.push([type, user, m.meta]));
    view.on('sync', (count) => events.push(['sync', count]));
    socket.push({ type: 'presence', channel: 'room:1', count: 2, members: { ada: member('a'), bob: member(null) } });
    assert.deepEqual([...view.members.keys()], ['ada', 'bob']);
    socket.push({ type: 'presence', channel: 'room:1', count: 2, join: { cy: member(null) }, update: { ada: member('typing', 2) }, leave: ['bob'] });
    assert.deepEqual(Object.fromEntries(view.members), { ada: member('typing', 2), cy: member(null) });
    assert.equal(view.count, 2);
    assert.deepEqual(events, [
      ['join', 'ada', 'a'],
      ['join', 'bob', null],
      ['sync', 2],
      ['join', 'cy', null],
      ['update', 'ada', 'typing'],
      ['leave', 'bob', null],
      ['sync', 2],
    ]);
  });

  it('turns a snapshot after a reconnect into the differences only', async () => {
    const { client, socket } = await connected();
    client.subscribe('room:1');
    socket.reply('subscribe', { recovered: true, position: { offset: '0', epoch: 'e' }, publications: [] });
    const view = client.presence('room:1');
    socket.push({ type: 'presence', channel: 'room:1', count: 2, members: { ada: member(1), bob: member(2) } });
    const events: string[] = [];
    for (const type of ['join', 'update', 'leave'] as const) view.on(type, (user) => events.push(`${type} ${user}`));
    const next = await reconnect(socket);
    next.reply('subscribe', { recovered: true, position: { offset: '0', epoch: 'e' }, publications: [] });
    next.push({ type: 'presence', channel: 'room:1', count: 2, members: { ada: member(1), cy: member(3) } });
    assert.deepEqual(events, ['leave bob', 'join cy']);
  });

  it('sends set-presence once subscribed, and again after each resubscription', async () => {
    const { client, socket } = await connected();
    const view = client.presence('room:1');
    await view.set({ typing: true }); // not subscribed yet: kept, nothing sent
    assert.deepEqual(socket.take(), []);
    client.subscribe('room:1');
    socket.reply('subscribe', { recovered: true, position: { offset: '0', epoch: 'e' }, publications: [] });
    await settle();
    assert.deepEqual(socket.take().filter((m) => m.type === 'set-presence').map((m) => m.meta), [{ typing: true }]);
    const done = view.set({ typing: false });
    await settle();
    socket.reply('set-presence', null);
    assert.equal(await done, null);
    const next = await reconnect(socket);
    next.reply('subscribe', { recovered: true, position: { offset: '0', epoch: 'e' }, publications: [] });
    await settle();
    assert.deepEqual(next.take().filter((m) => m.type === 'set-presence').map((m) => m.meta), [{ typing: false }]);
  });

  it('keeps count-only channels as a count, and forgets the view when unsubscribed', async () => {
    const { client, socket } = await connected();
    const unsubscribe = client.subscribe('stadium');
    socket.reply('subscribe', { recovered: true, position: { offset: '0', epoch: 'e' }, publications: [] });
    const view = client.presence('stadium');
    socket.push({ type: 'presence', channel: 'stadium', count: 48210 });
    assert.deepEqual([view.count, view.members.size], [48210, 0]);
    unsubscribe();
    assert.equal(view.count, 0);
    socket.push({ type: 'presence', channel: 'stadium', count: 5 });
    assert.equal(view.count, 0, 'ignored once unsubscribed');
  });
});
