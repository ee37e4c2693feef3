/**
 * RedisBroker behaviour beyond the shared contract (test/contract/): key prefixes, the wire
 * format other Redis clients see, connections passed in, and an unreachable Redis. Runs on a
 * private redis-server child, never on the machine's shared Redis.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { RedisBroker, BrokerError } from '../../../src/broker/redis.js';
import { startRedisServer, freePort, type RedisServer } from '../../support/redis-server.js';
import { Inbox } from '../../contract/broker.contract.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

const brokerError = (code: BrokerError['code']) => (error: unknown): boolean => {
  assert.ok(error instanceof BrokerError, `expected a BrokerError, got ${String(error)}`);
  assert.equal(error.code, code);
  return true;
};

describe('RedisBroker', () => {
  let server: RedisServer;
  const cleanups: Array<() => Promise<unknown>> = [];

  function rawClient() {
    const client = createClient({ url: server.url });
    client.on('error', () => {});
    cleanups.push(() => (client.isOpen ? client.close() : Promise.resolve()));
    return client;
  }

  function broker(options: ConstructorParameters<typeof RedisBroker>[0] = {}): RedisBroker {
    const made = new RedisBroker({ url: server.url, ...options });
    cleanups.push(() => made.close());
    return made;
  }

  before(async () => {
    server = await startRedisServer();
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await server?.kill();
  });

  test('publishes the exact bytes on the prefixed channel, for any Redis client to read', async () => {
    const subscriber = rawClient();
    await subscriber.connect();
    const received: Buffer[] = [];
    let resolveReceived: () => void = () => {};
    const gotOne = new Promise<void>((resolve) => (resolveReceived = resolve));
    await subscriber.subscribe(
      'app1:news',
      (message) => {
        received.push(message);
        resolveReceived();
      },
      true,
    );
    const payload = Uint8Array.from([0x00, 0xff, 0x0d, 0x0a, 0x24]);
    await broker({ keyPrefix: 'app1:' }).publish('news', payload);
    await gotOne;
    assert.equal(received[0]!.toString('hex'), '00ff0d0a24');
  });

  test('delivers to a handler what another Redis client publishes on the prefixed channel', async () => {
    const inbox = new Inbox();
    await broker({ keyPrefix: 'app2:' }).subscribe('news', inbox.handler);
    const publisher = rawClient();
    await publisher.connect();
    await publisher.publish('app2:news', Buffer.from('from outside'));
    await inbox.waitFor(1);
    assert.deepEqual(inbox.texts, ['from outside']);
  });

  test('keeps brokers with different key prefixes apart', async () => {
    const one = broker({ keyPrefix: 'one:' });
    const two = broker({ keyPrefix: 'two:' });
    const atOne = new Inbox();
    const atTwo = new Inbox();
    await one.subscribe('news', atOne.handler);
    await two.subscribe('news', atTwo.handler);
    await one.publish('news', text('for prefix one'));
    await atOne.waitFor(1);
    // One connection publishes on both prefixes; Redis delivers its messages in order, so
    // once two has the second one, it would have had the first if it listened there.
    const outsider = rawClient();
    await outsider.connect();
    await outsider.publish('one:news', 'not for two');
    await outsider.publish('two:news', 'for two');
    await Promise.all([atTwo.waitFor(1), atOne.waitFor(2)]);
    assert.deepEqual(atTwo.texts, ['for two']);
    assert.deepEqual(atOne.texts, ['for prefix one', 'not for two']);
  });

  test('works with connections passed in, and leaves them open at close', async () => {
    const client = rawClient();
    const subscriber = rawClient();
    const shared = new RedisBroker({ client, subscriber, keyPrefix: 'own:' });
    const inbox = new Inbox();
    await shared.subscribe('news', inbox.handler);
    await shared.publish('news', text('through my clients'));
    await inbox.waitFor(1);
    await shared.close();
    assert.equal(client.isOpen, true);
    assert.equal(subscriber.isOpen, true);
    // The broker's subscription was removed from the subscriber connection it did not own.
    const counts = await client.pubSubNumSub('own:news');
    assert.equal(Number(counts['own:news']), 0);
  });

  test('refuses a single connection for both publishing and subscribing', () => {
    const client = rawClient();
    assert.throws(() => new RedisBroker({ client, subscriber: client }), TypeError);
  });

  test('rejects with BROKER_UNAVAILABLE when Redis was never reachable', async () => {
    const port = await freePort();
    const nowhere = new RedisBroker({ url: `redis://127.0.0.1:${port}`, maxReconnectDelayMs: 100 });
    cleanups.push(() => nowhere.close());
    await assert.rejects(nowhere.publish('news', text('nowhere')), brokerError('BROKER_UNAVAILABLE'));
    await assert.rejects(nowhere.subscribe('news', () => {}), brokerError('BROKER_UNAVAILABLE'));
    await nowhere.close();
    await assert.rejects(nowhere.publish('news', text('closed')), brokerError('BROKER_CLOSED'));
  });
});
