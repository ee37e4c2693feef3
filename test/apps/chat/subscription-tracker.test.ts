/**
 * The chat's SubscriptionTracker (apps/chat/subscription-tracker.ts): whenSubscribed() follows
 * the subscription the inner broker is making, on a broker whose answers the test controls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Broker } from '../../../src/index.js';
import { SubscriptionTracker } from '../../../apps/chat/subscription-tracker.js';

/** A broker whose subscribe() answers when the test says so. */
function controlledBroker(): { broker: Broker; answer: (error?: Error) => void; calls: string[] } {
  const calls: string[] = [];
  let settle: ((error?: Error) => void) | null = null;
  const broker: Broker = {
    publish: async () => {},
    subscribe: (channel) => {
      calls.push(`subscribe ${channel}`);
      return new Promise((resolve, reject) => {
        settle = (error) => (error ? reject(error) : resolve());
      });
    },
    unsubscribe: async (channel) => {
      calls.push(`unsubscribe ${channel}`);
    },
    close: async () => {},
  };
  return { broker, calls, answer: (error) => settle!(error) };
}

const state = async (promise: Promise<void>): Promise<string> => {
  const pending = Symbol('pending');
  const result = await Promise.race([promise.then(() => 'resolved', () => 'rejected'), new Promise((resolve) => setImmediate(() => resolve(pending)))]);
  return result === pending ? 'pending' : (result as string);
};

test('whenSubscribed waits for the inner broker, and resolves at once for a channel with no subscription', async () => {
  const { broker, answer, calls } = controlledBroker();
  const tracker = new SubscriptionTracker(broker);
  assert.equal(await state(tracker.whenSubscribed('room:a')), 'resolved');
  const subscribed = tracker.subscribe('room:a', () => {});
  const waiting = tracker.whenSubscribed('room:a');
  assert.equal(await state(waiting), 'pending');
  answer();
  assert.equal(await state(waiting), 'resolved');
  await subscribed;
  await tracker.unsubscribe('room:a');
  assert.deepEqual(calls, ['subscribe room:a', 'unsubscribe room:a'], 'everything passes through');
});

test('a failed subscription rejects those waiting for it, then is forgotten', async () => {
  const { broker, answer } = controlledBroker();
  const tracker = new SubscriptionTracker(broker);
  const subscribed = tracker.subscribe('room:b', () => {});
  const waiting = tracker.whenSubscribed('room:b');
  answer(new Error('Redis is unavailable'));
  await assert.rejects(subscribed, /unavailable/);
  await assert.rejects(waiting, /unavailable/);
  assert.equal(await state(tracker.whenSubscribed('room:b')), 'resolved');
});
