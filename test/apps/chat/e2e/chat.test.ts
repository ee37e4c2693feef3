/**
 * The chat demo end to end, one process: the real server (apps/chat/server.ts, in-memory broker)
 * on 127.0.0.1, Debian's Chromium driven by playwright-core, several tabs chatting in rooms, and
 * fullduplex clients speaking the wire format directly, good input and bad.
 * Screenshots go to a fresh temp dir, removed afterwards unless FDX_KEEP_SCREENSHOTS=1
 * (the path is printed as a test diagnostic).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { LIMITS, ROOMS, startChat, type Chat } from '../../../../apps/chat/server.js';
import { ChatClient, WAIT_MS, type ChatEvent } from '../chat-client.js';
import { notices, openChat, say, shownMessages, waitForMessages, waitForMessageText, waitForOnline, waitForRoomCount, waitForText } from '../chat-page.js';
import { launchChromium, type Browser } from '../../../support/chromium.js';

let chat: Chat;
let screenshotDir = '';
let chromium: Browser | undefined;
/** Why the browser could not start; browser tests then fail with it (a missing browser never skips). */
let missing: Error | null = null;

before(async () => {
  chat = await startChat({ port: 0, host: '127.0.0.1' });
  screenshotDir = await mkdtemp(path.join(os.tmpdir(), 'fdx-chat-screens-'));
  try {
    chromium = await launchChromium();
  } catch (error) {
    missing = error as Error;
  }
});

after(async () => {
  await chromium?.close();
  if (screenshotDir && process.env.FDX_KEEP_SCREENSHOTS !== '1') await rm(screenshotDir, { recursive: true, force: true });
  await chat?.close();
});

function tab(name: string, room?: string): Promise<Page> {
  if (missing || !chromium) throw new Error(`Chromium could not start: ${missing?.message ?? 'unknown'}`);
  return openChat(chromium.context, chat.url, name, room);
}

/** Waits (bounded) until the server has seen every connection go. */
async function allGone(): Promise<void> {
  for (let i = 0; i < WAIT_MS / 50 && chat.wss.clients.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(chat.wss.clients.size, 0, 'every connection is gone from the server');
}

async function closeTabs(...pages: Page[]): Promise<void> {
  for (const page of pages) await page.close().catch(() => undefined);
  await allGone();
}

describe('chat page in Chromium', () => {
  test('a message typed in one tab appears in the other, and both count two in the room', async (t) => {
    const ada = await tab('Ada');
    const bob = await tab('Bob');
    try {
      await waitForText(ada, '#room-title', '# general');
      await waitForOnline(ada, 2);
      await waitForOnline(bob, 2);

      await say(ada, 'Hello Bob, <b>bold</b> & <script>alert(1)</script>');
      const seenByBob = await waitForMessages(bob, 1);
      assert.deepEqual(seenByBob, [{ name: 'Ada', text: 'Hello Bob, <b>bold</b> & <script>alert(1)</script>', mine: false }]);
      // The text went in as text: no markup from the message reached the DOM.
      assert.equal(await bob.$$eval('#messages b, #messages script', (found) => found.length), 0);

      await say(bob, 'Hi Ada!');
      assert.deepEqual(await waitForMessages(ada, 2), [
        { name: 'Ada', text: 'Hello Bob, <b>bold</b> & <script>alert(1)</script>', mine: true },
        { name: 'Bob', text: 'Hi Ada!', mine: false },
      ]);
      assert.ok((await notices(ada)).includes('Bob joined #general'), 'Ada saw Bob join');

      const file = path.join(screenshotDir, 'chat-two-tabs.png');
      await ada.screenshot({ path: file });
      const png = await readFile(file);
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG was written');
      t.diagnostic(`screenshot: ${file}`);
    } finally {
      await closeTabs(ada, bob);
    }
  });

  test('join and leave notices and the counts follow tabs opening and closing', async () => {
    const ada = await tab('Ada');
    try {
      await waitForOnline(ada, 1);
      const carol = await tab('Carol');
      await waitForOnline(ada, 2);
      await waitForText(ada, '#messages .notice', 'Carol joined #general');
      await carol.close();
      await waitForOnline(ada, 1);
      await waitForText(ada, '#messages .notice', 'Carol left #general');
    } finally {
      await closeTabs(ada);
    }
  });

  test('switching rooms moves the counts, keeps each room its own history, and leave empties the room', async (t) => {
    const ada = await tab('Ada', 'general');
    const bob = await tab('Bob', 'general');
    const texts = async (page: Page): Promise<string[]> => (await shownMessages(page)).map((message) => message.text);
    try {
      await say(bob, 'said in general');
      await waitForMessageText(ada, 'said in general');

      await ada.click('.room-button[data-room="random"]');
      await waitForText(ada, '#room-title', '# random');
      await waitForText(bob, '#messages .notice', 'Ada left #general');
      for (const page of [ada, bob]) {
        await waitForRoomCount(page, 'general', 1);
        await waitForRoomCount(page, 'random', 1);
      }
      assert.equal(await ada.getAttribute('.room-button[data-room="random"]', 'aria-current'), 'true');
      assert.ok(!(await texts(ada)).includes('said in general'), "#random does not show #general's history");
      await say(ada, 'said in random');
      await waitForMessageText(ada, 'said in random');
      await say(bob, 'general only');
      await waitForMessageText(bob, 'general only');
      assert.ok(!(await texts(ada)).includes('general only'), 'nothing said in #general reached #random');

      await ada.click('.room-button[data-room="general"]');
      await waitForText(ada, '#room-title', '# general');
      await waitForMessageText(ada, 'general only');
      const history = await texts(ada);
      assert.deepEqual(history.slice(-2), ['said in general', 'general only'], 'the history of #general, oldest first');
      assert.ok(!history.includes('said in random'));
      await waitForOnline(ada, 2);

      await bob.click('#leave');
      await waitForText(bob, '#room-title', 'no room');
      assert.equal(await bob.isDisabled('#text'), true, 'no typing outside a room');
      await waitForOnline(ada, 1);
      await waitForText(ada, '#messages .notice', 'Bob left #general');
      const file = path.join(screenshotDir, 'chat-rooms.png');
      await ada.screenshot({ path: file });
      t.diagnostic(`screenshot: ${file}`);
    } finally {
      await closeTabs(ada, bob);
    }
  });

  test('without a name in the URL the page asks for a nickname and joins with it', async (t) => {
    if (missing || !chromium) throw new Error(`Chromium could not start: ${missing?.message ?? 'unknown'}`);
    const page = await chromium.context.newPage();
    try {
      await page.goto(chat.url, { timeout: WAIT_MS });
      await page.waitForSelector('#nickname[open]', { timeout: WAIT_MS });
      await page.screenshot({ path: path.join(screenshotDir, 'chat-nickname.png') });
      t.diagnostic(`screenshot: ${path.join(screenshotDir, 'chat-nickname.png')}`);
      await page.fill('#nickname-input', 'Zed');
      await page.click('#join');
      await waitForText(page, '#me', 'Zed');
      await waitForText(page, '#room-title', `# ${ROOMS[0]}`);
      assert.equal(await page.isVisible('#nickname'), false);
    } finally {
      await closeTabs(page);
    }
  });

  test('an empty nickname gets a generated one and a taken one gets a suffix', async () => {
    const first = await tab('Ada');
    if (!chromium) throw new Error('Chromium could not start');
    const page = await chromium.context.newPage();
    try {
      await page.goto(`${chat.url}?name=Ada`, { timeout: WAIT_MS });
      await waitForText(page, '#me', 'Ada 2');
      await page.goto(`${chat.url}?name=`, { timeout: WAIT_MS });
      await page.waitForSelector('#me:not(:empty)', { timeout: WAIT_MS });
      assert.match((await page.textContent('#me')) ?? '', /^[A-Z][a-z]+ [A-Z][a-z]+$/);
    } finally {
      await closeTabs(first, page);
    }
  });
});

describe('chat server', () => {
  const clients: ChatClient[] = [];
  const connect = async (name: string): Promise<ChatClient> => {
    const client = await ChatClient.connect(chat.url, name);
    clients.push(client);
    return client;
  };
  const closeAll = async (): Promise<void> => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await allGone();
  };
  const error = (client: ChatClient, what: string): Promise<ChatEvent> => client.until((event) => event.type === 'error', what);

  test('welcomes with the name and every room, answers a join with members and history, and publishes {type, room, name, text, ts}', async () => {
    try {
      const eve = await connect('Eve');
      const welcome = eve.received[0]!;
      assert.equal(welcome.name, 'Eve');
      assert.equal(welcome.online, 1);
      assert.deepEqual(welcome.rooms, ROOMS.map((name) => ({ name, online: 0 })));

      const joined = await eve.join('tech');
      assert.deepEqual(joined.members, ['Eve']);
      assert.deepEqual(joined.history, []);
      await eve.countsReach({ tech: 1 });

      const finn = await connect('Finn');
      await finn.join('tech');
      const notice = await eve.until((event) => event.type === 'join', 'Finn joining');
      assert.equal(notice.name, 'Finn');
      assert.equal(notice.room, 'tech');

      eve.send({ type: 'message', text: '  hi there \u0007 ' });
      for (const client of [eve, finn]) {
        const message = await client.until((event) => event.type === 'message', 'the message');
        assert.equal(message.room, 'tech');
        assert.equal(message.name, 'Eve');
        assert.equal(message.text, 'hi there', 'trimmed, control characters removed');
        assert.equal(typeof message.ts, 'number');
      }
    } finally {
      await closeAll();
    }
  });

  test('each room is a topic: its subscriber count follows joins, switches, leaves and disconnections', async () => {
    try {
      const a = await connect('Gus');
      const b = await connect('Hal');
      await a.join('games');
      await b.join('games');
      assert.equal(chat.wss.subscriberCount('room:games'), 2);
      await b.join('random');
      assert.equal(chat.wss.subscriberCount('room:games'), 1);
      assert.equal(chat.wss.subscriberCount('room:random'), 1);
      b.send({ type: 'leave' });
      await b.until((event) => event.type === 'left', 'left');
      assert.equal(chat.wss.subscriberCount('room:random'), 0);
      await a.close();
      await b.countsReach({ games: 0 });
      assert.equal(chat.wss.subscriberCount('room:games'), 0);
    } finally {
      await closeAll();
    }
  });

  test('a newcomer to a room gets its recent history, oldest first, and no other room\'s', async () => {
    try {
      const ivy = await connect('Ivy');
      await ivy.join('games');
      for (const text of ['one', 'two', 'three']) ivy.send({ type: 'message', text });
      await ivy.until((event) => event.type === 'message' && event.text === 'three', 'the third message');
      const jay = await connect('Jay');
      const joined = await jay.join('games');
      assert.deepEqual((joined.history as ChatEvent[]).slice(-3).map((line) => [line.name, line.text]), [
        ['Ivy', 'one'],
        ['Ivy', 'two'],
        ['Ivy', 'three'],
      ]);
      assert.deepEqual(joined.members, ['Ivy', 'Jay']);
      const elsewhere = await jay.join('random');
      assert.ok(!(elsewhere.history as ChatEvent[]).some((line) => line.name === 'Ivy'), 'no #games lines in #random');
    } finally {
      await closeAll();
    }
  });

  test('refuses malformed, binary, misplaced and over-long input with a coded error and keeps the connection', async () => {
    try {
      const mallory = await connect('Mallory');
      const refused: Array<[string | Buffer, string]> = [
        ['not json', 'bad-json'],
        [JSON.stringify(['message', 'hi']), 'bad-json'],
        [JSON.stringify({ type: 'shout', text: 'hi' }), 'bad-type'],
        [JSON.stringify({ text: 'hi' }), 'bad-type'],
        [JSON.stringify({ type: 'message', text: 'before joining' }), 'not-in-room'],
        [JSON.stringify({ type: 'leave' }), 'not-in-room'],
        [JSON.stringify({ type: 'join', room: 'x'.repeat(5000) }), 'unknown-room'],
        [JSON.stringify({ type: 'join', room: '__proto__' }), 'unknown-room'],
        [JSON.stringify({ type: 'join' }), 'unknown-room'],
        [Buffer.from('{"type":"join","room":"general"}'), 'binary'],
      ];
      for (const [input, code] of refused) {
        mallory.ws.send(input, { binary: Buffer.isBuffer(input) });
        const answer = await error(mallory, String(input).slice(0, 40));
        assert.equal(answer.code, code, `refused: ${String(input).slice(0, 40)}`);
        assert.ok(typeof answer.text === 'string' && answer.text.length < 300, 'a short sentence, not an echo of the input');
      }
      mallory.send({ type: 'join', room: 'general' });
      await mallory.until((event) => event.type === 'joined', 'joined after the refusals');
      // Another connection, so that the rate limit does not count the inputs above.
      const trudy = await connect('Trudy');
      await trudy.join('general');
      for (const [input, code] of [
        [JSON.stringify({ type: 'message', text: 42 }), 'bad-json'],
        [JSON.stringify({ type: 'message', text: '   \u0001 ' }), 'empty'],
        [JSON.stringify({ type: 'message', text: 'x'.repeat(LIMITS.maxTextLength + 1) }), 'too-long'],
        [JSON.stringify({ type: 'join', room: 'general' }), 'already-in-room'],
      ] as const) {
        trudy.send(input);
        assert.equal((await error(trudy, input.slice(0, 40))).code, code);
      }
      trudy.send({ type: 'message', text: 'x'.repeat(LIMITS.maxTextLength) });
      const accepted = await trudy.until((event) => event.type === 'message', 'the longest message');
      assert.equal(accepted.text, 'x'.repeat(LIMITS.maxTextLength));
    } finally {
      await closeAll();
    }
  });

  test('shortens a huge name and says so, and strips control characters from names', async () => {
    try {
      const long = await connect('N'.repeat(4000));
      assert.equal(long.name, 'N'.repeat(LIMITS.maxNameLength));
      assert.match(long.received[0]!.text as string, new RegExp(`at most ${LIMITS.maxNameLength} characters`));
      const odd = await connect('  Ze\u0000\u001bd \n ');
      assert.equal(odd.name, 'Zed');
    } finally {
      await closeAll();
    }
  });

  test('answers a flood with rate-limited errors, then closes it with 1008, and keeps serving the others', async () => {
    try {
      const flood = await connect('Flood');
      const calm = await connect('Calm');
      await flood.join('random');
      await calm.join('random');
      const closed = flood.closed();
      for (let i = 0; i < 200; i++) flood.send({ type: 'message', text: `spam ${i}` });
      assert.equal(await closed, 1008);
      assert.ok(flood.received.some((event) => event.type === 'error' && event.code === 'rate-limited'), 'refusals came before the close');
      const spam = calm.received.filter((event) => event.type === 'message').length;
      assert.ok(spam < 100, `far fewer than were sent got through (${spam} of 200)`);
      calm.send({ type: 'message', text: 'still here' });
      await calm.until((event) => event.type === 'message' && event.text === 'still here', 'the calm message');
    } finally {
      await closeAll();
    }
  });

  test('closes with 1009 a frame over the chat maxPayload', async () => {
    try {
      const big = await connect('Big');
      const closed = big.closed();
      big.send('x'.repeat(LIMITS.maxPayload + 1));
      assert.equal(await closed, 1009);
    } finally {
      await closeAll();
    }
  });

  test('serves the page, script and stylesheet, and nothing else', async () => {
    for (const [file, type] of [
      ['', 'text/html'],
      ['app.js', 'text/javascript'],
      ['style.css', 'text/css'],
    ] as const) {
      const res = await fetch(`${chat.url}${file}`);
      assert.equal(res.status, 200, file);
      assert.ok(res.headers.get('content-type')?.startsWith(type), file);
      assert.ok((await res.text()).length > 0);
    }
    for (const bad of ['server.ts', '../server.ts', '%2e%2e/server.ts', 'public/index.html', 'room-directory.ts']) {
      const res = await fetch(`${chat.url}${bad}`);
      assert.equal(res.status, 404, bad);
      await res.arrayBuffer();
    }
  });
});
