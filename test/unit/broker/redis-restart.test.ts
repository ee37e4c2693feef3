/**
 * RedisBroker across a Redis crash and restart, on a private redis-server child (never the
 * machine's shared Redis): publications fail loudly while Redis is down, and once it is back
 * both brokers reconnect and every subscription works again without anyone subscribing anew.
 * The steps run in order and share one server.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { RedisBroker, BrokerError } from '../../../src/broker/redis.js';
import { startRedisServer, type RedisServer } from '../../support/redis-server.js';
import { Inbox } from '../../contract/broker.contract.js';

/**
 * Bound on waiting for a rejection that must come at once (the broker checks readiness before
 * sending). Half of node-redis's 5 s command timeout, so that a publication queued offline and
 * timed out later cannot pass for a prompt rejection; the broker takes milliseconds.
 */
const SETTLE_TIMEOUT_MS = 2_500;
const RETRY_INTERVAL_MS = 100;
const MAX_ATTEMPTS = 200;

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects if `promise` has not settled within SETTLE_TIMEOUT_MS. */
async function settlesPromptly<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${SETTLE_TIMEOUT_MS} ms`)), SETTLE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `attempt` until it returns true, at most MAX_ATTEMPTS times, RETRY_INTERVAL_MS apart. */
async function eventually(what: string, attempt: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    if (await attempt()) return;
    await sleep(RETRY_INTERVAL_MS);
  }
  assert.fail(`${what}: still not true after ${MAX_ATTEMPTS} attempts`);
}

const unavailable = (error: unknown): boolean => {
  assert.ok(error instanceof BrokerError, `expected a BrokerError, got ${String(error)}`);
  assert.equal(error.code, 'BROKER_UNAVAILABLE');
  return true;
};

describe('RedisBroker across a Redis restart', () => {
  const keyPrefix = `fdx-restart-${randomUUID()}:`;
  let server: RedisServer;
  let a: RedisBroker;
  let b: RedisBroker;
  const news = new Inbox();
  const atA = new Inbox();
  const dropped = new Inbox();
  const late = new Inbox();

  /** Subscriber count of a channel, asked of Redis itself. */
  async function subscribersOf(channel: string): Promise<number> {
    const client = createClient({ url: server.url });
    client.on('error', () => {});
    await client.connect();
    try {
      const counts = await client.pubSubNumSub(keyPrefix + channel);
      return Number(counts[keyPrefix + channel] ?? 0);
    } finally {
      await client.close();
    }
  }

  before(async () => {
    server = await startRedisServer();
    a = new RedisBroker({ url: server.url, keyPrefix, maxReconnectDelayMs: 200 });
    b = new RedisBroker({ url: server.url, keyPrefix, maxReconnectDelayMs: 200 });
  });

  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await server?.kill();
  });

  test('delivers between two brokers before the outage', async () => {
    await b.subscribe('news', news.handler);
    await b.subscribe('dropped', dropped.handler);
    await a.subscribe('to-a', atA.handler);
    await a.publish('news', text('before'));
    await b.publish('to-a', text('before'));
    await Promise.all([news.waitFor(1), atA.waitFor(1)]);
    assert.deepEqual(news.texts, ['before']);
    assert.deepEqual(atA.texts, ['before']);
  });

  test('rejects publish with BROKER_UNAVAILABLE once redis-server is killed', async () => {
    await server.kill();
    await settlesPromptly(assert.rejects(a.publish('news', text('lost')), unavailable), 'the first publish after the kill');
    // Still refused, not queued, after the clients noticed the outage.
    await settlesPromptly(assert.rejects(a.publish('news', text('lost')), unavailable), 'a later publish');
    await settlesPromptly(assert.rejects(b.publish('to-a', text('lost')), unavailable), 'a publish from the other broker');
  });

  test('reports a subscription made during the outage as unavailable, and accepts an unsubscription', async () => {
    await settlesPromptly(assert.rejects(b.subscribe('late', late.handler), unavailable), 'subscribe during the outage');
    await settlesPromptly(b.unsubscribe('dropped'), 'unsubscribe during the outage');
  });

  test('reconnects after the restart and delivers on the old subscriptions without subscribing again', async () => {
    await server.restart();
    let sent = 0;
    await eventually('a publication from a reaches b', async () => {
      await a.publish('news', text(`after ${sent++}`)).catch(() => {});
      return news.messages.length > 1;
    });
    await eventually('a publication from b reaches a', async () => {
      await b.publish('to-a', text('after')).catch(() => {});
      return atA.messages.length > 1;
    });
    assert.match(news.texts[1]!, /^after \d+$/);
    assert.equal(news.texts.includes('lost'), false);
    // And order holds again once connected.
    const before = news.messages.length;
    for (const message of ['x', 'y', 'z']) await a.publish('news', text(message));
    await news.waitFor(before + 3);
    assert.deepEqual(news.texts.slice(-3), ['x', 'y', 'z']);
  });

  test('establishes the subscription attempted during the outage once Redis is back', async () => {
    await eventually('a publication on the late channel is delivered', async () => {
      await a.publish('late', text('welcome back')).catch(() => {});
      return late.messages.length > 0;
    });
    assert.equal(late.texts[0], 'welcome back');
  });

  test('finishes the unsubscription made during the outage once Redis is back', async () => {
    await eventually('Redis has no subscriber left on the dropped channel', async () => (await subscribersOf('dropped')) === 0);
    assert.equal(await subscribersOf('news'), 1);
    const received = news.messages.length;
    await a.publish('dropped', text('nobody listens'));
    await a.publish('news', text('sentinel'));
    await news.waitFor(received + 1);
    assert.deepEqual(dropped.texts, []);
  });
});
