/**
 * The Broker contract (src/broker/broker.ts), one suite run against every broker.
 *
 * `a` and `b` are two broker instances that must behave like two processes sharing one broker.
 * Absence of a delivery is proved without timers: after the message that must not arrive, the
 * same publisher publishes a sentinel on a channel the receiver is subscribed to; the broker
 * delivers one publisher's messages in order, so once the sentinel is in, the other would be too.
 */
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerError, type Broker, type BrokerMessageHandler } from '../../src/broker/broker.js';

export interface BrokerPair {
  a: Broker;
  b: Broker;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** Tests this broker cannot pass, each group with the reason written down. */
  skip?: Array<{ reason: string; tests: string[] }>;
}

/** Longest wait for an expected delivery before the test fails (a bound, not a measurement). */
const DELIVERY_TIMEOUT_MS = 10_000;

/** Records what a handler receives and waits, bounded, for a number of messages. */
export class Inbox {
  readonly messages: Uint8Array[] = [];
  readonly #waiters: Array<{ count: number; resolve: () => void }> = [];
  readonly handler: BrokerMessageHandler = (data) => {
    this.messages.push(data);
    for (const waiter of [...this.#waiters]) {
      if (this.messages.length >= waiter.count) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };

  /** The messages received as UTF-8 strings. */
  get texts(): string[] {
    return this.messages.map((message) => Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString());
  }

  async waitFor(count: number, label = 'messages'): Promise<void> {
    if (this.messages.length >= count) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#waiters.push({ count, resolve });
        timer = setTimeout(
          () => reject(new Error(`expected ${count} ${label}, got ${this.messages.length} within ${DELIVERY_TIMEOUT_MS} ms`)),
          DELIVERY_TIMEOUT_MS,
        );
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

function isBrokerError(code: BrokerError['code']) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof BrokerError, `expected a BrokerError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

export function runBrokerContract(name: string, makeBrokers: () => Promise<BrokerPair>, options: ContractOptions = {}): void {
  const skipped = new Map<string, string>();
  for (const { reason, tests } of options.skip ?? []) {
    assert.ok(reason.trim().length > 0, 'every skip needs a reason');
    for (const title of tests) skipped.set(title, reason);
  }

  describe(`Broker contract: ${name}`, () => {
    let pair: BrokerPair | null = null;
    let channelCount = 0;
    /** A channel name no other test uses, so that tests cannot see each other's messages. */
    const channel = (label: string): string => `${label}-${process.pid}-${++channelCount}`;

    const brokers = async (): Promise<BrokerPair> => {
      pair = await makeBrokers();
      return pair;
    };

    afterEach(async () => {
      await pair?.cleanup();
      pair = null;
    });

    const contractTest = (title: string, body: () => Promise<void>): void => {
      const reason = skipped.get(title);
      if (reason !== undefined) test(title, { skip: reason }, body);
      else test(title, body);
    };

    contractTest('delivers a publication to a subscriber on another broker instance', async () => {
      const { a, b } = await brokers();
      const news = channel('news');
      const sentinel = channel('sentinel');
      const inbox = new Inbox();
      const marks = new Inbox();
      await b.subscribe(news, inbox.handler);
      await b.subscribe(sentinel, marks.handler);
      await a.publish(news, text('hello'));
      await a.publish(sentinel, text('end'));
      await marks.waitFor(1, 'sentinels');
      assert.deepEqual(inbox.texts, ['hello']);
    });

    contractTest('delivers a publication to a subscriber on the publishing instance itself', async () => {
      const { a } = await brokers();
      const news = channel('news');
      const sentinel = channel('sentinel');
      const inbox = new Inbox();
      const marks = new Inbox();
      await a.subscribe(news, inbox.handler);
      await a.subscribe(sentinel, marks.handler);
      await a.publish(news, text('to myself'));
      await a.publish(sentinel, text('end'));
      await marks.waitFor(1, 'sentinels');
      assert.deepEqual(inbox.texts, ['to myself']);
    });

    contractTest('delivers one publication to the subscribers of every instance', async () => {
      const { a, b } = await brokers();
      const news = channel('news');
      const atA = new Inbox();
      const atB = new Inbox();
      await a.subscribe(news, atA.handler);
      await b.subscribe(news, atB.handler);
      await b.publish(news, text('everyone'));
      await Promise.all([atA.waitFor(1), atB.waitFor(1)]);
      assert.deepEqual(atA.texts, ['everyone']);
      assert.deepEqual(atB.texts, ['everyone']);
    });

    contractTest('keeps binary payloads intact: every byte value, and the empty payload', async () => {
      const { a, b } = await brokers();
      const bytes = channel('bytes');
      const inbox = new Inbox();
      await b.subscribe(bytes, inbox.handler);
      const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
      const reversed = everyByte.slice().reverse();
      // A view into a larger buffer: only the viewed bytes travel.
      const backing = Uint8Array.from([0xaa, 0x00, 0xff, 0x0d, 0x0a, 0xbb]);
      const view = backing.subarray(1, 5);
      const payloads = [everyByte, new Uint8Array(0), reversed, view, Uint8Array.from([0x80, 0xc0, 0xfe])];
      for (const payload of payloads) await a.publish(bytes, payload);
      await inbox.waitFor(payloads.length);
      assert.deepEqual(inbox.messages.map(hexOf), payloads.map(hexOf));
      for (const message of inbox.messages) assert.ok(message instanceof Uint8Array);
    });

    contractTest('delivers what was published even if the publisher reuses its buffer afterwards', async () => {
      const { a, b } = await brokers();
      const reuse = channel('reuse');
      const inbox = new Inbox();
      await b.subscribe(reuse, inbox.handler);
      const buffer = text('first');
      const published = a.publish(reuse, buffer);
      buffer.fill(0x21);
      await published;
      await inbox.waitFor(1);
      assert.deepEqual(inbox.texts, ['first']);
    });

    contractTest('delivers 1,000 messages from one publisher in publication order', async () => {
      const { a, b } = await brokers();
      const ordered = channel('ordered');
      const inbox = new Inbox();
      await b.subscribe(ordered, inbox.handler);
      const expected = Array.from({ length: 1000 }, (_, i) => `message ${i}`);
      // Not awaited one by one: order must hold for publications in flight together.
      await Promise.all(expected.map((message) => a.publish(ordered, text(message))));
      await inbox.waitFor(expected.length);
      assert.deepEqual(inbox.texts, expected);
    });

    contractTest('stops delivery after unsubscribe', async () => {
      const { a, b } = await brokers();
      const news = channel('news');
      const sentinel = channel('sentinel');
      const inbox = new Inbox();
      const marks = new Inbox();
      await b.subscribe(news, inbox.handler);
      await b.subscribe(sentinel, marks.handler);
      await a.publish(news, text('before'));
      await inbox.waitFor(1);
      await b.unsubscribe(news);
      await a.publish(news, text('after'));
      await a.publish(sentinel, text('end'));
      await marks.waitFor(1, 'sentinels');
      assert.deepEqual(inbox.texts, ['before']);
    });

    contractTest('unsubscribing one instance leaves the other instance subscribed', async () => {
      const { a, b } = await brokers();
      const news = channel('news');
      const atA = new Inbox();
      const atB = new Inbox();
      await a.subscribe(news, atA.handler);
      await b.subscribe(news, atB.handler);
      await a.unsubscribe(news);
      await a.publish(news, text('still here'));
      await atB.waitFor(1);
      assert.deepEqual(atB.texts, ['still here']);
    });

    contractTest('accepts unsubscribe from a channel that was never subscribed', async () => {
      const { a } = await brokers();
      await a.unsubscribe(channel('never'));
    });

    contractTest('delivers again after unsubscribing and subscribing anew', async () => {
      const { a, b } = await brokers();
      const news = channel('news');
      const first = new Inbox();
      const second = new Inbox();
      await b.subscribe(news, first.handler);
      await b.unsubscribe(news);
      await b.subscribe(news, second.handler);
      await a.publish(news, text('again'));
      await second.waitFor(1);
      assert.deepEqual(second.texts, ['again']);
      assert.deepEqual(first.texts, []);
    });

    contractTest('keeps channels isolated', async () => {
      const { a, b } = await brokers();
      const red = channel('red');
      const blue = channel('blue');
      const atRed = new Inbox();
      const atBlue = new Inbox();
      await b.subscribe(red, atRed.handler);
      await b.subscribe(blue, atBlue.handler);
      await a.publish(red, text('for red'));
      await a.publish(channel('nobody'), text('for nobody'));
      await a.publish(blue, text('for blue'));
      await a.publish(red, text('end'));
      await Promise.all([atRed.waitFor(2), atBlue.waitFor(1)]);
      assert.deepEqual(atRed.texts, ['for red', 'end']);
      assert.deepEqual(atBlue.texts, ['for blue']);
    });

    contractTest('replaces the handler when the same instance subscribes to a channel again', async () => {
      const { a, b } = await brokers();
      const news = channel('news');
      const sentinel = channel('sentinel');
      const replaced = new Inbox();
      const current = new Inbox();
      const marks = new Inbox();
      await b.subscribe(news, replaced.handler);
      await b.subscribe(news, current.handler);
      await b.subscribe(sentinel, marks.handler);
      await a.publish(news, text('once'));
      await a.publish(sentinel, text('end'));
      await marks.waitFor(1, 'sentinels');
      assert.deepEqual(current.texts, ['once']);
      assert.deepEqual(replaced.texts, []);
    });

    contractTest('resolves a publication that no one is subscribed to', async () => {
      const { a } = await brokers();
      await a.publish(channel('empty'), text('into the void'));
    });

    contractTest('rejects publish, subscribe and unsubscribe with BROKER_CLOSED after close', async () => {
      const { a } = await brokers();
      const news = channel('news');
      await a.subscribe(news, () => {});
      await a.close();
      await assert.rejects(a.publish(news, text('too late')), isBrokerError('BROKER_CLOSED'));
      await assert.rejects(a.subscribe(news, () => {}), isBrokerError('BROKER_CLOSED'));
      await assert.rejects(a.unsubscribe(news), isBrokerError('BROKER_CLOSED'));
    });

    contractTest('closes idempotently', async () => {
      const { a } = await brokers();
      await a.close();
      await a.close();
      await assert.rejects(a.publish(channel('news'), text('x')), isBrokerError('BROKER_CLOSED'));
    });

    contractTest('stops delivering to a closed instance while the others keep working', async () => {
      const { a, b } = await brokers();
      const news = channel('news');
      const atA = new Inbox();
      const atB = new Inbox();
      await a.subscribe(news, atA.handler);
      await b.subscribe(news, atB.handler);
      await b.close();
      await a.publish(news, text('after close'));
      await atA.waitFor(1);
      // b closed before the publication was made: nothing may reach its handler.
      assert.deepEqual(atA.texts, ['after close']);
      assert.deepEqual(atB.texts, []);
    });
  });
}
