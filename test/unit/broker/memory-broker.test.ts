/**
 * MemoryBroker behaviour beyond the shared contract (test/contract/): hubs, and asynchronous
 * delivery that mimics a real broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBroker, MemoryHub } from '../../../src/broker/memory-broker.js';
import { Inbox } from '../../contract/broker.contract.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

test('does not call a handler inside publish(): delivery is asynchronous', async () => {
  const broker = new MemoryBroker();
  const inbox = new Inbox();
  await broker.subscribe('news', inbox.handler);
  const published = broker.publish('news', text('later'));
  assert.equal(inbox.messages.length, 0);
  await published;
  await inbox.waitFor(1);
  assert.deepEqual(inbox.texts, ['later']);
  await broker.close();
});

test('keeps brokers on different hubs apart', async () => {
  const first = new MemoryHub();
  const second = new MemoryHub();
  const publisher = new MemoryBroker(first);
  const sameHub = new MemoryBroker(first);
  const otherHub = new MemoryBroker(second);
  const atSame = new Inbox();
  const atOther = new Inbox();
  await sameHub.subscribe('news', atSame.handler);
  await otherHub.subscribe('news', atOther.handler);
  await publisher.publish('news', text('hub one'));
  await atSame.waitFor(1);
  // Each delivery is a microtask queued at publication; once one ran, the others ran too.
  assert.deepEqual(atOther.texts, []);
  await Promise.all([publisher.close(), sameHub.close(), otherHub.close()]);
});

test('gives a broker built without a hub a private one', async () => {
  const a = new MemoryBroker();
  const b = new MemoryBroker();
  const atA = new Inbox();
  const atB = new Inbox();
  await a.subscribe('news', atA.handler);
  await b.subscribe('news', atB.handler);
  await a.publish('news', text('mine'));
  await atA.waitFor(1);
  assert.deepEqual(atB.texts, []);
  await Promise.all([a.close(), b.close()]);
});

test('drops a message still in flight when its channel is unsubscribed', async () => {
  const broker = new MemoryBroker();
  const inbox = new Inbox();
  await broker.subscribe('news', inbox.handler);
  void broker.publish('news', text('in flight'));
  await broker.unsubscribe('news');
  const marks = new Inbox();
  await broker.subscribe('sentinel', marks.handler);
  await broker.publish('sentinel', text('end'));
  await marks.waitFor(1);
  assert.deepEqual(inbox.texts, []);
  await broker.close();
});

test('gives each subscriber its own copy of the bytes', async () => {
  const hub = new MemoryHub();
  const a = new MemoryBroker(hub);
  const b = new MemoryBroker(hub);
  const atA = new Inbox();
  const atB = new Inbox();
  await a.subscribe('news', atA.handler);
  await b.subscribe('news', atB.handler);
  await a.publish('news', text('shared'));
  await Promise.all([atA.waitFor(1), atB.waitFor(1)]);
  atA.messages[0]!.fill(0x2a);
  assert.deepEqual(atB.texts, ['shared']);
  await Promise.all([a.close(), b.close()]);
});
