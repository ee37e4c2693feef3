/**
 * A Redis that is reached but does not answer: a private redis-server this file starts and
 * stops with SIGSTOP (the kernel keeps its connections open, so clients see a healthy socket
 * that never replies), then resumes with SIGCONT. The engine, the broker and the presence store
 * fail each call with their UNAVAILABLE error once `commandTimeoutMs` passed, never hang, and
 * work again, live feeds included, once Redis answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerError, RedisBroker, RedisEngine, RedisPresenceStore } from '../../src/broker/redis.js';
import { RealtimeError } from '../../src/realtime/realtime-error.js';
import type { EnginePublication } from '../../src/realtime/engine.js';
import { until } from '../support/clients.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

// Long enough for a loaded test machine to answer in time when Redis runs.
const TIMEOUT_MS = 1500;
let server: RedisServer;
let stopped = false;

before(async () => {
  server = await startRedisServer();
});

after(async () => {
  if (stopped) process.kill(server.pid, 'SIGCONT');
  await server.kill();
});

function stop(): void {
  process.kill(server.pid, 'SIGSTOP');
  stopped = true;
}

function resume(): void {
  process.kill(server.pid, 'SIGCONT');
  stopped = false;
}

const isTimeout = (error: unknown): boolean => ((error as Error).cause as { code?: string } | undefined)?.code === 'COMMAND_TIMEOUT';

/**
 * Runs a call again, 100 ms later, while it fails with an error `again` accepts, up to 50 times.
 * `retried` is for calls that must succeed while Redis runs but that a loaded test machine may
 * let time out; `eventually` for calls made while the clients reconnect. Only for calls that
 * are safe to repeat (subscriptions, reads, writes of the same state, publishes with a key).
 */
async function eventually<T>(call: () => Promise<T>, again: (error: unknown) => boolean = () => true): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!again(error) || attempt === 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const retried = <T>(call: () => Promise<T>): Promise<T> => eventually(call, isTimeout);

/** The error a timed-out call gives: its layer's UNAVAILABLE code, the timeout as its cause. */
function timedOut(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof RealtimeError || error instanceof BrokerError, String(error));
    assert.equal((error as { code: string }).code, code);
    assert.equal(((error as Error).cause as { code?: string } | undefined)?.code, 'COMMAND_TIMEOUT');
    return true;
  };
}

describe('a Redis that does not answer', () => {
  it('fails publish, subscribe and history with UNAVAILABLE after commandTimeoutMs, and resumes once Redis answers', { timeout: 60_000 }, async () => {
    const options = { url: server.url, keyPrefix: 'hung-engine:', commandTimeoutMs: TIMEOUT_MS, partitions: 4 };
    const engine = new RedisEngine(options);
    const other = new RedisEngine(options);
    try {
      await Promise.all([retried(() => engine.ready()), retried(() => other.ready())]);
      const seen: EnginePublication[] = [];
      await retried(() => other.subscribe('room', (p) => seen.push(p)));
      await retried(() => engine.publish('room', 'before', { key: 'before' }));
      stop();
      await Promise.all([
        assert.rejects(engine.publish('room', 'during'), timedOut('UNAVAILABLE')),
        assert.rejects(engine.history('room'), timedOut('UNAVAILABLE')),
        assert.rejects(engine.subscribe('elsewhere', () => {}), timedOut('UNAVAILABLE')),
      ]);
      assert.equal(engine.channelCount, 0, 'the failed subscription keeps no feed');
      resume();
      const after = await retried(() => engine.publish('room', 'after', { key: 'after' }));
      // The publish that timed out was still run by Redis once it woke up: it was not lost, it
      // came late, and live handlers see it in its place.
      assert.equal(after.offset, '3');
      await until(() => seen.length === 3, 'the live publications');
      assert.deepEqual(seen.map((p) => [p.offset, p.data]), [['1', 'before'], ['2', 'during'], ['3', 'after']]);
      const got: unknown[] = [];
      await retried(() => engine.subscribe('elsewhere', (p) => got.push(p.data)));
      await retried(() => other.publish('elsewhere', 'x', { key: 'x' }));
      await until(() => got.length === 1, 'a subscription made after the hang');
    } finally {
      if (stopped) resume();
      await Promise.all([engine.close(), other.close()]);
    }
  });

  it('fails a broker publish with BROKER_UNAVAILABLE after commandTimeoutMs, and delivers again once Redis answers', { timeout: 60_000 }, async () => {
    const a = new RedisBroker({ url: server.url, keyPrefix: 'hung-broker:', commandTimeoutMs: TIMEOUT_MS });
    const b = new RedisBroker({ url: server.url, keyPrefix: 'hung-broker:', commandTimeoutMs: TIMEOUT_MS });
    try {
      const got: string[] = [];
      await retried(() => b.subscribe('t', (data) => got.push(Buffer.from(data).toString())));
      stop();
      await Promise.all([
        assert.rejects(a.publish('t', Buffer.from('during')), timedOut('BROKER_UNAVAILABLE')),
        assert.rejects(b.subscribe('u', () => {}), timedOut('BROKER_UNAVAILABLE')),
      ]);
      resume();
      await retried(() => a.publish('t', Buffer.from('after')));
      await until(() => got.includes('after'), 'the publication after the hang');
    } finally {
      if (stopped) resume();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('fails presence reads, writes and subscriptions with UNAVAILABLE after commandTimeoutMs, and works again once Redis answers', { timeout: 60_000 }, async () => {
    const store = new RedisPresenceStore({ url: server.url, keyPrefix: 'hung-presence:', commandTimeoutMs: TIMEOUT_MS });
    const entry = { node: 'A', user: 'ada', connections: 1, meta: null, at: 1 };
    try {
      await retried(() => store.write('r', { node: 'A', set: [entry], remove: [] }));
      stop();
      await Promise.all([
        assert.rejects(store.write('r', { node: 'A', set: [], remove: ['ada'] }), timedOut('UNAVAILABLE')),
        assert.rejects(store.subscribe('s', () => {}), timedOut('UNAVAILABLE')),
      ]);
      await assert.rejects(store.read('r'), timedOut('UNAVAILABLE'));
      resume();
      // The timed-out removal ran late, once Redis woke up.
      assert.deepEqual(await retried(() => store.read('r')), []);
      const changes: unknown[] = [];
      await retried(() => store.subscribe('s', (change) => changes.push(change)));
      await retried(() => store.write('s', { node: 'A', set: [entry], remove: [] }));
      await until(() => changes.length === 1, 'the change after the hang');
    } finally {
      if (stopped) resume();
      await store.close();
    }
  });

  it('closes the engine, the broker and the presence store without waiting for a Redis that does not answer', { timeout: 60_000 }, async () => {
    const engine = new RedisEngine({ url: server.url, keyPrefix: 'hung-close:', commandTimeoutMs: TIMEOUT_MS });
    const broker = new RedisBroker({ url: server.url, keyPrefix: 'hung-close:', commandTimeoutMs: TIMEOUT_MS });
    const store = new RedisPresenceStore({ url: server.url, keyPrefix: 'hung-close:', commandTimeoutMs: TIMEOUT_MS });
    try {
      await retried(() => engine.ready());
      await retried(() => engine.subscribe('room', () => {}));
      await retried(() => store.read('r'));
      await retried(() => broker.publish('t', Buffer.from('before')));
      stop();
      const publish = assert.rejects(engine.publish('room', 'during'), (error: unknown) => error instanceof RealtimeError && error.code === 'UNAVAILABLE');
      const brokerPublish = assert.rejects(broker.publish('t', Buffer.from('during')), (error: unknown) => error instanceof BrokerError);
      await Promise.all([engine.close(), broker.close(), store.close()]);
      await Promise.all([publish, brokerPublish]);
    } finally {
      if (stopped) resume();
    }
  });

  it('fails the first calls with UNAVAILABLE when Redis does not answer from the start, and works once it answers', { timeout: 60_000 }, async () => {
    stop();
    const options = { url: server.url, keyPrefix: 'hung-start:', commandTimeoutMs: TIMEOUT_MS };
    const engine = new RedisEngine(options);
    const broker = new RedisBroker(options);
    const store = new RedisPresenceStore(options);
    try {
      await Promise.all([
        assert.rejects(engine.ready(), (error: unknown) => error instanceof RealtimeError && error.code === 'UNAVAILABLE'),
        assert.rejects(engine.publish('room', 'x'), (error: unknown) => error instanceof RealtimeError && error.code === 'UNAVAILABLE'),
        assert.rejects(broker.publish('t', Buffer.from('x')), (error: unknown) => error instanceof BrokerError && error.code === 'BROKER_UNAVAILABLE'),
        assert.rejects(store.read('r'), (error: unknown) => error instanceof RealtimeError && error.code === 'UNAVAILABLE'),
      ]);
      resume();
      const published = await eventually(() => engine.publish('room', 'y', { key: 'y' }));
      assert.equal(published.epoch.length > 0, true);
      await eventually(() => broker.publish('t', Buffer.from('y')));
      assert.deepEqual(await eventually(() => store.read('r')), []);
    } finally {
      if (stopped) resume();
      await Promise.all([engine.close(), broker.close(), store.close()]);
    }
  });

  it('refuses a commandTimeoutMs that is not a positive number', () => {
    assert.throws(() => new RedisEngine({ commandTimeoutMs: 0 }), RangeError);
    assert.throws(() => new RedisBroker({ commandTimeoutMs: -1 }), RangeError);
    assert.throws(() => new RedisPresenceStore({ commandTimeoutMs: Number.NaN }), RangeError);
  });
});
