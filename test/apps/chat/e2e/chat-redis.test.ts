/**
 * The chat demo as several processes sharing one Redis, as `npm start -- --redis URL --port N`
 * runs it: two chat processes (child processes of this test, through the real command line) on
 * two ports, with fullduplex clients and Chromium tabs on each. Rooms, counts, history and names
 * must be one chat across the processes; a process that stops or dies takes its members along.
 *
 * Redis: REDIS_URL, default redis://127.0.0.1:6379 (CI starts it). Every channel of this run
 * carries a prefix unique to it, so parallel runs on one Redis never see each other. The outage
 * test kills and restarts a private redis-server of its own instead.
 * Every child is killed by PID in `after`, whatever happened.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startChat } from '../../../../apps/chat/server.js';
import { ChatClient, WAIT_MS, type ChatEvent } from '../chat-client.js';
import { openChat, say, shownMessages, waitForMessageText, waitForOnline } from '../chat-page.js';
import { startChildServer, stopAllChildren, type ChildServer } from '../../../support/child-server.js';
import { launchChromium, type Browser } from '../../../support/chromium.js';
import { startRedisServer } from '../../../support/redis-server.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `fdx-chat-test-${randomUUID()}:`;
/** Short enough that a killed process is forgotten within the tests' waits, long enough for a busy machine. */
const HEARTBEAT_MS = 1000;

interface ChatProcess {
  child: ChildServer;
  /** http://127.0.0.1:port/ of the page. */
  url: string;
}

/** Starts `npm start`'s program with --redis on a free port; resolves once it listens. */
async function startChatProcess(): Promise<ChatProcess> {
  const args = ['--port', '0', '--host', '127.0.0.1', '--redis', REDIS_URL, '--redis-prefix', PREFIX, '--heartbeat-ms', String(HEARTBEAT_MS)];
  const child = await startChildServer('apps/chat/server.ts', args, /chat listening on (http:\/\/\S+\/)/);
  return { child, url: child.ready[1]! };
}

let a: ChatProcess;
let b: ChatProcess;
let chromium: Browser | undefined;
let missing: Error | null = null;
const clients: ChatClient[] = [];

async function connect(chat: ChatProcess, name: string): Promise<ChatClient> {
  const client = await ChatClient.connect(chat.url, name);
  clients.push(client);
  return client;
}

const said = (client: ChatClient, text: string): Promise<ChatEvent> =>
  client.until((event) => event.type === 'message' && event.text === text, `the message ${JSON.stringify(text)}`);
const notice = (client: ChatClient, type: 'join' | 'leave', name: string, room: string): Promise<ChatEvent> =>
  client.until((event) => event.type === type && event.name === name && event.room === room, `${name} ${type} #${room}`);

before(async () => {
  [a, b] = await Promise.all([startChatProcess(), startChatProcess()]);
  try {
    chromium = await launchChromium();
  } catch (error) {
    missing = error as Error;
  }
});

after(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
  await chromium?.close();
  await stopAllChildren();
});

describe('two chat processes sharing Redis', () => {
  test('clients on either process see each other\'s joins, messages, switches and room counts, and share history and names', async () => {
    const ada = await connect(a, 'Ada');
    const bob = await connect(b, 'Bob');
    await ada.join('general');
    await bob.join('general');
    const joinedNotice = await notice(ada, 'join', 'Bob', 'general');
    assert.equal(joinedNotice.text, 'Bob joined #general');
    await ada.countsReach({ general: 2 });
    await bob.countsReach({ general: 2 });

    bob.send({ type: 'message', text: 'hello from B' });
    const fromB = await said(ada, 'hello from B');
    assert.equal(fromB.name, 'Bob');
    assert.equal(fromB.room, 'general');
    ada.send({ type: 'message', text: 'hello from A' });
    assert.equal((await said(bob, 'hello from A')).name, 'Ada');
    // The sender sees its own message too, through the same topic.
    await said(ada, 'hello from A');

    // A newcomer on B gets the room's history, written on both processes, oldest first.
    const carol = await connect(b, 'Carol');
    const joined = await carol.join('general');
    assert.deepEqual(
      (joined.history as ChatEvent[]).map((line) => [line.name, line.text]),
      [
        ['Bob', 'hello from B'],
        ['Ada', 'hello from A'],
      ],
    );
    assert.deepEqual(joined.members, ['Ada', 'Bob', 'Carol']);
    await notice(ada, 'join', 'Carol', 'general');
    await ada.countsReach({ general: 3 });

    // Bob switches rooms on B; Ada on A sees him leave and the counts move.
    await bob.join('tech');
    const left = await notice(ada, 'leave', 'Bob', 'general');
    assert.equal(left.text, 'Bob left #general');
    await ada.countsReach({ general: 2, tech: 1 });
    bob.send({ type: 'message', text: 'only in tech' });
    await said(bob, 'only in tech');
    carol.send({ type: 'message', text: 'still in general' });
    await said(ada, 'still in general');
    assert.ok(!ada.received.some((event) => event.text === 'only in tech'), '#tech did not reach #general');

    // Names are unique over both processes.
    const ada2 = await connect(b, 'Ada');
    assert.equal(ada2.name, 'Ada 2');
  });

  test('a process that stops or dies takes its members along, on the other process too', async () => {
    const eve = await connect(a, 'Eve');
    await eve.join('random');
    for (const [name, signal] of [
      ['Dora', 'SIGTERM'],
      ['Finn', 'SIGKILL'],
    ] as const) {
      const c = await startChatProcess();
      const member = await connect(c, name);
      await member.join('random');
      await notice(eve, 'join', name, 'random');
      await eve.countsReach({ random: 2 });
      // SIGTERM: the process says goodbye; SIGKILL: it falls silent and misses its heartbeats.
      await c.child.stop(signal);
      const gone = await notice(eve, 'leave', name, 'random');
      assert.equal(gone.text, `${name} left #random`);
      await eve.countsReach({ random: 1 });
    }
  });
});

describe('the chat page on two processes in Chromium', () => {
  test('tabs served by different processes chat in one room', async () => {
    if (missing || !chromium) throw new Error(`Chromium could not start: ${missing?.message ?? 'unknown'}`);
    const pia = await openChat(chromium.context, a.url, 'Pia', 'games');
    const quinn = await openChat(chromium.context, b.url, 'Quinn', 'games');
    try {
      await waitForOnline(pia, 2);
      await waitForOnline(quinn, 2);
      await say(pia, 'typed on the page from A');
      await waitForMessageText(quinn, 'typed on the page from A');
      await say(quinn, 'typed on the page from B');
      await waitForMessageText(pia, 'typed on the page from B');
      assert.deepEqual(await shownMessages(pia), [
        { name: 'Pia', text: 'typed on the page from A', mine: true },
        { name: 'Quinn', text: 'typed on the page from B', mine: false },
      ]);
    } finally {
      await pia.close();
      await quinn.close();
    }
  });
});

/** Sends numbered messages from `speaker` every 500 ms (bounded) until `listener` hears one. */
async function talkUntilHeard(speaker: ChatClient, listener: ChatClient, text: string): Promise<boolean> {
  const heard = (): boolean => listener.received.some((event) => event.type === 'message' && String(event.text).startsWith(text));
  for (let i = 0; i < WAIT_MS / 500 && !heard(); i++) {
    speaker.send({ type: 'message', text: `${text} ${i}` });
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return heard();
}

describe('a Redis outage under two chat servers', () => {
  test('the sender is told its message stayed on its server, nothing crashes, and rooms join up again once Redis is back', async () => {
    const redis = await startRedisServer();
    const options = { port: 0, host: '127.0.0.1', redisUrl: redis.url, redisPrefix: PREFIX, heartbeatMs: 200 };
    const chats = await Promise.all([startChat(options), startChat(options)]);
    const [ada, bob] = await Promise.all([ChatClient.connect(chats[0].url, 'Ada'), ChatClient.connect(chats[1].url, 'Bob')]);
    const warn = console.warn;
    console.warn = () => {}; // the servers' notes about the outage
    try {
      await ada.join('tech');
      await bob.join('tech');
      await notice(ada, 'join', 'Bob', 'tech');

      await redis.kill();
      ada.send({ type: 'message', text: 'during the outage' });
      await said(ada, 'during the outage');
      const refusal = await ada.until((event) => event.type === 'error', 'the broker refusal');
      assert.equal(refusal.code, 'broker-unavailable');
      // Entering a room no one on this server is in needs Redis: the room opens, with a warning.
      ada.send({ type: 'join', room: 'games' });
      await ada.until((event) => event.type === 'joined' && event.room === 'games', 'joined #games');
      assert.equal((await ada.until((event) => event.type === 'error', 'the warning')).code, 'broker-unavailable');
      await ada.join('tech');

      await redis.restart();
      // The brokers reconnect and resubscribe on their own (A's #tech subscription was made
      // while Redis was down); keep talking, within the rate limit, until messages cross again.
      assert.ok(await talkUntilHeard(ada, bob, 'from A after the outage'), 'a message crossed from A to B after Redis came back');
      assert.ok(await talkUntilHeard(bob, ada, 'from B after the outage'), 'a message crossed from B to A after Redis came back');
      assert.ok(!bob.received.some((event) => event.text === 'during the outage'), 'nothing published during the outage arrived later');
      await bob.countsReach({ tech: 2 });
    } finally {
      console.warn = warn;
      await Promise.all([ada.close(), bob.close()]);
      await Promise.all(chats.map((chat) => chat.close()));
      await redis.kill();
    }
  });
});
