import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerError, type Broker, type BrokerMessageHandler } from '../../../src/broker/broker.js';
import { MemoryBroker, MemoryHub } from '../../../src/broker/memory-broker.js';
import { PubSub, type PubSubOptions, type SendResult } from '../../../src/pubsub/pubsub.js';

/** Subscribers are plain names here; a message records how it was prepared. */
interface Prepared {
  text: string;
  binary: boolean;
  compress: boolean;
}

function pubsub(options: Partial<PubSubOptions<string, Prepared>> = {}) {
  const inbox: Array<[string, string]> = [];
  const failures: Array<[string, string]> = [];
  let prepared = 0;
  const topics = new PubSub<string, Prepared>({
    prepare: (payload, binary, compress) => {
      prepared++;
      return { text: new TextDecoder().decode(payload), binary, compress };
    },
    deliver: (subscriber, message): SendResult => {
      inbox.push([subscriber, message.text]);
      return 'sent';
    },
    onBrokerError: (error, topic) => failures.push([(error as BrokerError).code, topic]),
    ...options,
  });
  return { topics, inbox, failures, prepared: () => prepared };
}

/** A broker that records channel operations and answers subscribe() when the test says so. */
function controlledBroker() {
  const calls: string[] = [];
  const handlers = new Map<string, BrokerMessageHandler>();
  const answers: Array<(error?: Error) => void> = [];
  const broker: Broker = {
    publish: async (channel) => {
      calls.push(`publish ${channel}`);
    },
    subscribe: (channel, handler) => {
      calls.push(`subscribe ${channel}`);
      handlers.set(channel, handler);
      return new Promise((resolve, reject) => answers.push((error) => (error ? reject(error) : resolve())));
    },
    unsubscribe: async (channel) => {
      calls.push(`unsubscribe ${channel}`);
    },
    close: async () => {},
  };
  return { broker, calls, handlers, answer: (error?: Error) => answers.shift()!(error) };
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function state(promise: Promise<unknown>): Promise<string> {
  const pending = Symbol('pending');
  const result = await Promise.race([promise.then(() => 'resolved', () => 'rejected'), tick().then(() => pending)]);
  return result === pending ? 'pending' : (result as string);
}

describe('PubSub membership', () => {
  it('delivers a publication to every subscriber but the sender, prepared once', () => {
    const { topics, inbox, prepared } = pubsub();
    assert.equal(topics.subscribe('a', 'news'), true);
    assert.equal(topics.subscribe('a', 'news'), false);
    topics.subscribe('b', 'news');
    topics.subscribe('c', 'news');
    topics.subscribe('c', 'sport');
    const result = topics.publish('news', text('headline'), {}, 'a');
    assert.deepEqual(result, { sent: 2, buffered: 0, dropped: 0 });
    assert.deepEqual(inbox, [['b', 'headline'], ['c', 'headline']]);
    assert.equal(prepared(), 1);
  });

  it('prepares nothing for a topic without local subscribers', () => {
    const { topics, prepared } = pubsub();
    assert.deepEqual(topics.publish('empty', text('x'), {}, null), { sent: 0, buffered: 0, dropped: 0 });
    assert.equal(prepared(), 0);
  });

  it('forgets every subscription of a closed subscriber, both ways, and unsubscribes the broker from emptied topics', async () => {
    const { broker, calls } = controlledBroker();
    const { topics } = pubsub({ broker });
    topics.subscribe('a', 'x');
    topics.subscribe('a', 'y');
    topics.subscribe('b', 'y');
    const before = topics.topicsOf('a');
    assert.deepEqual([...before], ['x', 'y']);
    topics.unsubscribeAll('a');
    assert.deepEqual([...topics.topicsOf('a')], []);
    assert.deepEqual([...before], ['x', 'y'], 'topicsOf is a copy taken when asked');
    assert.equal(topics.isSubscribed('a', 'y'), false);
    assert.equal(topics.subscriberCount('x'), 0);
    assert.equal(topics.subscriberCount('y'), 1);
    assert.deepEqual([...topics.topics()], ['y']);
    assert.deepEqual(calls, ['subscribe fdx:topic:x', 'subscribe fdx:topic:y', 'unsubscribe fdx:topic:x']);
    assert.equal(topics.unsubscribe('a', 'y'), false);
    assert.equal(topics.unsubscribe('b', 'y'), true);
    assert.deepEqual(calls.at(-1), 'unsubscribe fdx:topic:y');
  });
});

describe('PubSub broker channels', () => {
  it('names broker channels in their own namespace, fdx:topic: by default', async () => {
    const { broker, calls } = controlledBroker();
    const { topics } = pubsub({ broker });
    assert.equal(topics.channelOf('news'), 'fdx:topic:news');
    topics.subscribe('a', 'news');
    topics.publish('news', text('x'), {}, null);
    topics.unsubscribe('a', 'news');
    assert.deepEqual(calls, ['subscribe fdx:topic:news', 'publish fdx:topic:news', 'unsubscribe fdx:topic:news']);
  });

  it('takes another prefix from the channelPrefix option', () => {
    const { broker, calls } = controlledBroker();
    const { topics } = pubsub({ broker, channelPrefix: 'app1/' });
    topics.subscribe('a', 'news');
    assert.deepEqual(calls, ['subscribe app1/news']);
  });

  it("shares a broker with an application's own channels without collisions", async () => {
    const hub = new MemoryHub();
    const appBroker = new MemoryBroker(hub);
    const appInbox: string[] = [];
    await appBroker.subscribe('news', (data) => appInbox.push(new TextDecoder().decode(data)));
    const one = pubsub({ broker: new MemoryBroker(hub) });
    const two = pubsub({ broker: new MemoryBroker(hub) });
    await two.topics.subscribeAsync('b', 'news');
    one.topics.publish('news', text('from topics'), {}, null);
    await appBroker.publish('news', text('from the app'));
    await tick();
    assert.deepEqual(two.inbox, [['b', 'from topics']]);
    assert.deepEqual(appInbox, ['from the app']);
  });

  it('delivers publications of other processes once, and skips its own and foreign bytes', async () => {
    const hub = new MemoryHub();
    const one = pubsub({ broker: new MemoryBroker(hub) });
    const two = pubsub({ broker: new MemoryBroker(hub) });
    await one.topics.subscribeAsync('a', 't');
    await two.topics.subscribeAsync('b', 't');
    one.topics.publish('t', text('m1'), { binary: true }, null);
    await new MemoryBroker(hub).publish('fdx:topic:t', text('not an envelope'));
    await tick();
    assert.deepEqual(one.inbox, [['a', 'm1']]);
    assert.deepEqual(two.inbox, [['b', 'm1']]);
  });

  it('carries binary and compress across the broker', async () => {
    const hub = new MemoryHub();
    const seen: Prepared[] = [];
    const one = pubsub({ broker: new MemoryBroker(hub) });
    const two = pubsub({
      broker: new MemoryBroker(hub),
      deliver: (_s, message) => {
        seen.push(message);
        return 'sent';
      },
    });
    await two.topics.subscribeAsync('b', 't');
    one.topics.publish('t', text('x'), { binary: true, compress: false }, null);
    one.topics.publish('t', text('y'), {}, null);
    await tick();
    assert.deepEqual(seen, [
      { text: 'x', binary: true, compress: false },
      { text: 'y', binary: false, compress: true },
    ]);
  });
});

describe('PubSub awaitable subscribe', () => {
  it('resolves at once without a broker, with what subscribe() answers', async () => {
    const { topics } = pubsub();
    assert.equal(await topics.subscribeAsync('a', 't'), true);
    assert.equal(await topics.subscribeAsync('a', 't'), false);
  });

  it('resolves once the broker confirmed the channel, and at once when it is confirmed already', async () => {
    const { broker, answer } = controlledBroker();
    const { topics } = pubsub({ broker });
    const first = topics.subscribeAsync('a', 't');
    const second = topics.subscribeAsync('b', 't');
    assert.equal(await state(first), 'pending');
    assert.equal(await state(second), 'pending', 'a later subscriber waits for the same confirmation');
    answer();
    assert.equal(await first, true);
    assert.equal(await second, true);
    assert.equal(await state(topics.subscribeAsync('c', 't')), 'resolved');
    assert.equal(await topics.subscribeAsync('a', 't'), false);
  });

  it('resolves with a MemoryBroker once its subscription is in place', async () => {
    const hub = new MemoryHub();
    const { topics, inbox } = pubsub({ broker: new MemoryBroker(hub) });
    const other = pubsub({ broker: new MemoryBroker(hub) });
    await topics.subscribeAsync('a', 't');
    other.topics.publish('t', text('right after'), {}, null);
    await tick();
    assert.deepEqual(inbox, [['a', 'right after']]);
  });

  it('rejects with the BrokerError of a failed subscription, which then counts as told', async () => {
    const { broker, answer } = controlledBroker();
    const { topics, failures } = pubsub({ broker });
    const waiting = topics.subscribeAsync('a', 't');
    answer(new BrokerError('BROKER_UNAVAILABLE', 'Redis is unavailable'));
    await assert.rejects(waiting, { name: 'BrokerError', code: 'BROKER_UNAVAILABLE' });
    await tick();
    assert.deepEqual(failures, [], 'the awaiting caller was told');
    assert.equal(topics.isSubscribed('a', 't'), true, 'the membership stays');
    assert.equal(await state(topics.subscribeAsync('b', 't')), 'resolved', 'the failed subscription is forgotten');
  });

  it('reports a failed subscription nobody awaits to onBrokerError', async () => {
    const { broker, answer } = controlledBroker();
    const { topics, failures } = pubsub({ broker });
    topics.subscribe('a', 't');
    answer(new BrokerError('BROKER_UNAVAILABLE', 'Redis is unavailable'));
    await tick();
    assert.deepEqual(failures, [['BROKER_UNAVAILABLE', 't']]);
  });

  it('rejects on a closed broker', async () => {
    const broker = new MemoryBroker();
    await broker.close();
    const { topics } = pubsub({ broker });
    await assert.rejects(topics.subscribeAsync('a', 't'), { code: 'BROKER_CLOSED' });
  });
});

describe('PubSub publish outcome', () => {
  it('tells the callback whether the broker took the publication, and onBrokerError when there is no callback', async () => {
    const broker = new MemoryBroker();
    const { topics, failures } = pubsub({ broker });
    assert.equal(await new Promise((resolve) => topics.publish('t', text('x'), {}, null, resolve)), null);
    await broker.close();
    const error = await new Promise<Error | null>((resolve) => topics.publish('t', text('x'), {}, null, resolve));
    assert.equal((error as BrokerError).code, 'BROKER_CLOSED');
    topics.publish('lost', text('x'), {}, null);
    await tick();
    assert.deepEqual(failures, [['BROKER_CLOSED', 'lost']]);
  });

  it('calls back asynchronously with null without a broker', async () => {
    const { topics } = pubsub();
    let called: Error | null | undefined;
    topics.publish('t', text('x'), {}, null, (error) => (called = error));
    assert.equal(called, undefined);
    await tick();
    assert.equal(called, null);
  });
});
