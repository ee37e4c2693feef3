/**
 * Topics across processes through Redis: three server processes (child processes, each a plain
 * WebSocketServer with a RedisBroker from 'fullduplex/redis', test/support/redis-topic-server.ts)
 * and one Redis. Clients on different processes receive each other's publications, each exactly
 * once, and in publication order per topic from each publisher.
 *
 * Redis: REDIS_URL, default redis://127.0.0.1:6379 (CI starts it). The key prefix is unique to
 * this run, so parallel runs on one Redis never see each other.
 *
 * A process subscribes to Redis when its first client subscribes to a topic, and Redis confirms
 * that later; before publishing for real, every process publishes probes until each subscriber
 * heard probes from every other process (a bounded loop). Absence is proved without timers: a
 * publisher's messages arrive in order, so once its last message ("done") is in, anything it
 * published before would be too.
 * Every child is killed by PID in `after`, whatever happened.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import WebSocket from '../../src/index.js';
import { startChildServer, stopAllChildren, type ChildServer } from '../support/child-server.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEY_PREFIX = `fdx-three-${randomUUID()}:`;
/** Longest wait for an expected delivery (a bound, not a measurement). */
const WAIT_MS = 20_000;
/** Probe rounds before giving up on the subscriptions, and the pause between rounds. */
const PROBE_ROUNDS = 80;
const PROBE_PAUSE_MS = 250;
/** Messages each publisher sends on each topic. */
const PER_TOPIC = 150;

/** A publication as the test writes it: who sent it (a client's label), on which topic, its number. */
interface Publication {
  from: string;
  topic: string;
  seq?: number;
  probe?: number;
  done?: boolean;
}

class TopicClient {
  readonly label: string;
  /** Index of the server process it is connected to. */
  readonly server: number;
  readonly ws: WebSocket;
  readonly publications: Publication[] = [];
  readonly binaries: Buffer[] = [];
  readonly replies: Array<{ op: string; topic: string; code?: string }> = [];
  readonly #waiters = new Set<() => void>();

  constructor(label: string, server: number, port: number) {
    this.label = label;
    this.server = server;
    this.ws = new WebSocket(`ws://127.0.0.1:${port}`);
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.binaries.push(Buffer.from(data as Buffer));
      } else {
        const parsed = JSON.parse(String(data)) as Record<string, unknown>;
        if (typeof parsed.op === 'string') this.replies.push(parsed as TopicClient['replies'][number]);
        else this.publications.push(parsed as unknown as Publication);
      }
      for (const waiter of [...this.#waiters]) waiter();
    });
  }

  async open(): Promise<void> {
    await once(this.ws, 'open');
  }

  command(command: object): void {
    this.ws.send(JSON.stringify(command));
  }

  publish(publication: Publication, everyone = false): void {
    this.command({ op: 'publish', topic: publication.topic, data: JSON.stringify(publication), everyone });
  }

  async subscribe(topic: string): Promise<void> {
    this.command({ op: 'subscribe', topic });
    await this.until(() => this.replies.some((reply) => reply.op === 'subscribed' && reply.topic === topic), `subscribed to ${topic}`);
  }

  /** Publications received from `from` on `topic`, neither probes nor the final "done". */
  numbered(from: string, topic: string): number[] {
    return this.publications.filter((p) => p.from === from && p.topic === topic && p.seq !== undefined).map((p) => p.seq!);
  }

  has(match: (publication: Publication) => boolean): boolean {
    return this.publications.some(match);
  }

  until(check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        const failures = this.replies.filter((reply) => reply.op === 'publish-failed');
        reject(new Error(`${this.label}: no ${what} within ${ms} ms (${this.publications.length} publications received, failures ${JSON.stringify(failures)})`));
      }, ms);
      this.#waiters.add(waiter);
      waiter();
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = once(this.ws, 'close');
    this.ws.close();
    await closed;
  }
}

const servers: ChildServer[] = [];
const clients: TopicClient[] = [];

async function client(label: string, server: number): Promise<TopicClient> {
  const port = Number(servers[server]!.ready[1]);
  const topicClient = new TopicClient(label, server, port);
  clients.push(topicClient);
  await topicClient.open();
  return topicClient;
}

/**
 * Publishes probes from every publisher until each subscriber (with its topics) heard a probe on
 * each of its topics from every process other than its own: then every process's Redis
 * subscription is in place.
 */
async function probeUntilSubscribed(publishers: TopicClient[], subscribers: Array<[TopicClient, string[]]>): Promise<void> {
  const ready = (): boolean =>
    subscribers.every(([subscriber, topics]) =>
      topics.every((topic) =>
        publishers
          .filter((publisher) => publisher.server !== subscriber.server)
          .every((publisher) => subscriber.has((p) => p.probe !== undefined && p.from === publisher.label && p.topic === topic)),
      ),
    );
  const topics = [...new Set(subscribers.flatMap(([, subscribed]) => subscribed))];
  for (let round = 0; round < PROBE_ROUNDS && !ready(); round++) {
    for (const publisher of publishers) for (const topic of topics) publisher.publish({ from: publisher.label, topic, probe: round });
    await new Promise((resolve) => setTimeout(resolve, PROBE_PAUSE_MS));
  }
  assert.ok(ready(), `every process's subscriptions carried probes within ${PROBE_ROUNDS} rounds`);
}

before(async () => {
  const started = await Promise.all(
    [0, 1, 2].map(() => startChildServer('test/support/redis-topic-server.ts', [REDIS_URL, KEY_PREFIX], /listening on (\d+)/)),
  );
  servers.push(...started);
});

after(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await stopAllChildren();
});

describe('three server processes sharing one Redis', () => {
  test('clients on different processes receive each other\'s publications once each, in order per topic and publisher', async () => {
    const p0 = await client('p0', 0);
    const p0b = await client('p0b', 0);
    const p1 = await client('p1', 1);
    const p2 = await client('p2', 2);
    const quiet = await client('quiet', 1);
    const topicsOf = new Map<TopicClient, string[]>([
      [p0, ['news']],
      [p0b, ['news']],
      [p1, ['news', 'scores']],
      [p2, ['scores', 'news']],
    ]);
    for (const [subscriber, topics] of topicsOf) for (const topic of topics) await subscriber.subscribe(topic);
    const publishers = [p0, p1, p2];
    await probeUntilSubscribed(publishers, [...topicsOf]);

    // Each publisher interleaves its two topics, then ends each with "done".
    for (const publisher of publishers) {
      for (let seq = 0; seq < PER_TOPIC; seq++) {
        for (const topic of ['news', 'scores']) publisher.publish({ from: publisher.label, topic, seq });
      }
      for (const topic of ['news', 'scores']) publisher.publish({ from: publisher.label, topic, done: true });
    }

    const expected = Array.from({ length: PER_TOPIC }, (_, i) => i);
    for (const [subscriber, topics] of topicsOf) {
      // ws.publish skips only the publishing connection: p0b hears p0 (same process) too.
      const others = publishers.filter((publisher) => publisher !== subscriber);
      for (const topic of topics) {
        for (const publisher of others) {
          await subscriber.until(
            () => subscriber.has((p) => p.done === true && p.from === publisher.label && p.topic === topic),
            `"done" from ${publisher.label} on ${topic}`,
          );
          assert.deepEqual(subscriber.numbered(publisher.label, topic), expected, `${subscriber.label} got ${publisher.label}'s ${topic} once each, in order`);
        }
      }
      for (const topic of ['news', 'scores'].filter((t) => !topics.includes(t))) {
        assert.ok(!subscriber.has((p) => p.topic === topic), `${subscriber.label} is not subscribed to ${topic} and got none of it`);
      }
      if (publishers.includes(subscriber)) {
        assert.ok(!subscriber.has((p) => p.from === subscriber.label), `${subscriber.label} did not get its own publications back`);
      }
    }
    // quiet shares p1's process; p1 has everything, so anything meant for quiet would be there.
    assert.equal(quiet.publications.length + quiet.binaries.length, 0, 'a client subscribed to nothing receives nothing');
  });

  test('wss.publish reaches every subscriber on every process, the publisher\'s own included, and binary bytes arrive intact', async () => {
    const subscribers = await Promise.all([client('s0', 0), client('s1', 1), client('s2', 2)]);
    for (const subscriber of subscribers) await subscriber.subscribe('bytes');
    await probeUntilSubscribed(subscribers, subscribers.map((s) => [s, ['bytes']]));

    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    subscribers[1]!.command({ op: 'publish', topic: 'bytes', data: payload.toString('base64'), binary: true, everyone: true });
    subscribers[1]!.publish({ from: 's1', topic: 'bytes', done: true }, true);
    for (const subscriber of subscribers) {
      await subscriber.until(() => subscriber.has((p) => p.done === true && p.from === 's1'), '"done" from s1');
      assert.equal(subscriber.binaries.length, 1, `${subscriber.label} got the binary message once`);
      assert.deepEqual(subscriber.binaries[0], payload);
    }
  });

  test('after an unsubscription a process delivers no more of that topic', async () => {
    const [listener, talker] = await Promise.all([client('listener', 2), client('talker', 0)]);
    await listener.subscribe('weather');
    await listener.subscribe('tides');
    await probeUntilSubscribed([talker], [[listener, ['weather', 'tides']]]);
    listener.command({ op: 'unsubscribe', topic: 'weather' });
    await listener.until(() => listener.replies.some((reply) => reply.op === 'unsubscribed'), 'unsubscribed');
    const before = listener.publications.filter((p) => p.topic === 'weather').length;
    talker.publish({ from: 'talker', topic: 'weather', seq: 0 });
    talker.publish({ from: 'talker', topic: 'tides', done: true });
    await listener.until(() => listener.has((p) => p.done === true && p.topic === 'tides'), '"done" on tides');
    assert.equal(listener.publications.filter((p) => p.topic === 'weather').length, before, 'nothing on weather after the unsubscription');
  });
});
