/**
 * The chat demo end to end, one process: the home server with the chat mounted at /chat/
 * (memory engine, history in a temporary data folder), Debian's Chromium with one context per
 * person, and fullduplex/client in Node for the wire: recovery after a cut, history after a
 * restart, and bad input of every kind. Screenshots go to test-artifacts/chat/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Browser, Page } from 'playwright-core';
import { WebSocket } from 'fullduplex';
import { LIMITS, ROOMS, colorOf } from '../../../../apps/chat/server.js';
import { ChatClient, WAIT_MS, waitUntil } from '../chat-client.js';
import { openChat, say, shownMessages, waitForMessageText, waitForPeople, waitForText, waitOnline } from '../chat-page.js';
import { startDemoHome, type DemoHome } from '../../demo-home.js';
import { launchBrowser, newPerson, screenshot } from '../../demo-browser.js';

let home: DemoHome;
let url: string;
let browser: Browser;

before(async () => {
  home = await startDemoHome(['chat']);
  url = home.demoUrl('chat');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await home?.stop();
});

async function person(name: string, room?: string, width?: number): Promise<Page> {
  return openChat(await newPerson(browser, width), url, name, room);
}

async function closeAll(...pages: Page[]): Promise<void> {
  for (const page of pages) await page.context().close().catch(() => undefined);
}

describe('chat page in Chromium', () => {
  test('two people chat: the message, who is here with their colours, who is typing; text stays text', async (t) => {
    const ada = await person('Ada', 'general');
    const bob = await person('Bob', 'general');
    try {
      await waitForPeople(ada, ['Ada (you)', 'Bob']);
      await waitForPeople(bob, ['Ada', 'Bob (you)']);
      assert.equal(await ada.textContent('#online'), '2 here');
      const bobColor = await ada.$eval('#people li:nth-child(2)', (item) => (globalThis as any).getComputedStyle(item).color as string);
      const adaColor = await ada.$eval('#people li:nth-child(1)', (item) => (globalThis as any).getComputedStyle(item).color as string);
      assert.notEqual(bobColor, adaColor, 'each person has a colour');

      await bob.fill('#text', 'Hel');
      await bob.type('#text', 'l');
      await waitForText(ada, '#typing', 'Bob is typing…');
      await bob.press('#text', 'Enter');
      await waitForMessageText(ada, 'Hell');
      await waitForText(ada, '#typing', '');
      // Typing that stops without a send ends by itself after LIMITS.typingMs.
      await bob.type('#text', 'x');
      await waitForText(ada, '#typing', 'Bob is typing…');
      const stoppedAt = Date.now();
      await waitForText(ada, '#typing', '');
      assert.ok(Date.now() - stoppedAt >= LIMITS.typingMs - 1000, `typing cleared after ${Date.now() - stoppedAt} ms`);
      assert.equal(await bob.inputValue('#text'), 'x');
      await bob.fill('#text', '');

      await say(ada, 'Hi <b>Bob</b> & <script>alert(1)</script>');
      await waitForMessageText(bob, 'Hi <b>Bob</b> & <script>alert(1)</script>');
      assert.deepEqual(await shownMessages(bob), [
        { name: 'Bob', text: 'Hell', mine: true },
        { name: 'Ada', text: 'Hi <b>Bob</b> & <script>alert(1)</script>', mine: false },
      ]);
      assert.equal(await bob.$$eval('#messages b, #messages script', (found) => found.length), 0, 'no markup from a message reached the DOM');
      t.diagnostic(`screenshot: ${await screenshot(ada, 'chat', 'two-people')}`);

      await closeAll(bob);
      await waitForPeople(ada, ['Ada (you)']);
    } finally {
      await closeAll(ada, bob);
    }
  });

  test('a message in another room lights its unread badge; entering the room clears it and shows the message', async () => {
    const ada = await person('Ada', 'general');
    const bob = await person('Bob', 'random');
    try {
      await say(bob, 'over in random');
      await waitForMessageText(bob, 'over in random');
      await waitForText(ada, '.room-button[data-room="random"] .unread', '1');
      await say(bob, 'and again');
      await waitForText(ada, '.room-button[data-room="random"] .unread', '2');
      assert.equal(await ada.isHidden('.room-button[data-room="tech"] .unread'), true);
      await waitForText(ada, '.room-button[data-room="random"] .count', '1');

      await ada.click('.room-button[data-room="random"]');
      await waitForText(ada, '#room-title', '# random');
      await waitForMessageText(ada, 'and again');
      assert.deepEqual((await shownMessages(ada)).map((m) => m.text).slice(-2), ['over in random', 'and again']);
      assert.equal(await ada.isHidden('.room-button[data-room="random"] .unread'), true);
      await waitForPeople(bob, ['Ada', 'Bob (you)']);
      assert.equal(new URL(ada.url()).hash, '#random');
    } finally {
      await closeAll(ada, bob);
    }
  });

  test('a reload returns to the same room with its history, and at 390 px wide nothing overflows', async (t) => {
    const cy = await person('Cy', 'tech', 390);
    try {
      await say(cy, 'remember me');
      await waitForMessageText(cy, 'remember me');
      await cy.reload();
      await waitOnline(cy, 'Cy', 'tech');
      await waitForMessageText(cy, 'remember me');
      const width = (await cy.evaluate('document.documentElement.scrollWidth')) as number;
      assert.ok(width <= 390, `the page is ${width} px wide`);
      const composer = await cy.locator('#composer').boundingBox();
      assert.ok(composer && composer.x >= 0 && composer.x + composer.width <= 390 && composer.y + composer.height <= 700, 'the composer is on screen');
      assert.equal(await cy.isVisible('.room-button[data-room="games"]'), true, 'the rooms are reachable');
      t.diagnostic(`screenshot: ${await screenshot(cy, 'chat', 'phone-390')}`);
    } finally {
      await closeAll(cy);
    }
  });

  test('without a name in the URL the page asks for a nickname and joins with it', async () => {
    const page = await (await newPerson(browser)).newPage();
    try {
      await page.goto(url, { timeout: WAIT_MS });
      await page.waitForSelector('#nickname[open]', { timeout: WAIT_MS });
      await page.fill('#nickname-input', 'Zed');
      await page.click('#join');
      await waitOnline(page, 'Zed', ROOMS[0]);
      assert.equal(await page.isVisible('#nickname'), false);
    } finally {
      await closeAll(page);
    }
  });
});

describe('chat server', () => {
  test('welcome, presence and publications carry name and colour; chat:history answers with the history', async () => {
    const eve = await ChatClient.connect(url, 'Eve', ['games']);
    const finn = await ChatClient.connect(url, 'Finn', ['games']);
    try {
      assert.deepEqual(eve.welcome, { name: 'Eve', color: colorOf('Eve'), rooms: [...ROOMS] });
      await eve.send('games', '  hi there \u0007 ');
      await waitUntil(() => finn.texts('games').includes('hi there'), 'Finn got the cleaned message');
      const line = finn.lines.get('games')!.at(-1)!;
      assert.equal(line.name, 'Eve');
      assert.equal(line.color, colorOf('Eve'));
      assert.equal(typeof line.ts, 'number');

      const { history } = (await finn.client.request('chat:history', { room: 'games' })) as { history: Array<{ text: string }> };
      assert.equal(history.at(-1)!.text, 'hi there');
      await finn.enter('games');
      await waitUntil(() => (eve.presence.games ?? []).some((member) => member.name === 'Finn'), 'Eve sees Finn in #games');
      assert.equal(eve.presence.games!.find((member) => member.name === 'Finn')!.color, colorOf('Finn'));
      await finn.typing(true);
      await waitUntil(() => eve.presence.games?.find((member) => member.name === 'Finn')?.typing === true, 'Eve sees Finn typing');
      await finn.typing(false);
      await waitUntil(() => eve.presence.games?.find((member) => member.name === 'Finn')?.typing === false, 'Eve sees Finn stop typing');
      finn.close();
      await waitUntil(() => !(eve.presence.games ?? []).some((member) => member.name === 'Finn'), 'Finn gone from presence');
    } finally {
      eve.close();
      finn.close();
    }
  });

  test('two tabs of one name in two rooms show in both, once each; closing one leaves the other room only', async () => {
    const ida1 = await ChatClient.connect(url, 'Ida', ['general']);
    const ida2 = await ChatClient.connect(url, 'Ida', ['general']);
    const ida3 = await ChatClient.connect(url, 'Ida', ['general']);
    const jo = await ChatClient.connect(url, 'Jo', ['general']);
    try {
      await Promise.all([ida1.enter('random'), ida2.enter('tech'), ida3.enter('tech')]);
      await ida3.typing(true);
      const names = (room: string): string[] => (jo.presence[room] ?? []).map((member) => member.name);
      await waitUntil(() => names('random').includes('Ida') && names('tech').includes('Ida'), 'Jo sees Ida in #random and #tech');
      assert.deepEqual(names('tech'), ['Ida'], 'one name, two tabs: once');
      assert.equal(jo.presence.tech![0]!.typing, true, 'typing if any of its tabs types');
      ida3.close();
      await waitUntil(() => jo.presence.tech?.[0]?.typing === false, 'the typing tab closed: Ida no longer typing');
      ida1.close();
      await waitUntil(() => !names('random').includes('Ida'), 'Ida gone from #random');
      assert.deepEqual(names('tech'), ['Ida'], 'still in #tech');
    } finally {
      for (const client of [ida1, ida2, ida3, jo]) client.close();
    }
  });

  test('a client whose connection is cut gets every message said meanwhile, once, in order (recovery)', async () => {
    const gus = await ChatClient.connect(url, 'Gus', ['tech']);
    const hal = await ChatClient.connect(url, 'Hal', ['tech']);
    try {
      await hal.send('tech', 'before the cut');
      await waitUntil(() => gus.texts('tech').includes('before the cut'), 'before');
      // Seen as an event: with full jitter the client may be back before a poll could notice.
      const offline = new Promise((resolve) => gus.client.on('offline', resolve));
      gus.drop();
      await offline;
      for (let i = 0; i < 5; i++) await hal.send('tech', `while cut ${i}`);
      await waitUntil(() => gus.texts('tech').includes('while cut 4'), 'Gus recovered');
      const texts = gus.texts('tech').filter((text) => text.startsWith('while cut') || text === 'before the cut');
      assert.deepEqual(texts, ['before the cut', ...[0, 1, 2, 3, 4].map((i) => `while cut ${i}`)]);
    } finally {
      gus.close();
      hal.close();
    }
  });

  test('refuses bad input with a coded error, and the others never notice', async () => {
    const mallory = await ChatClient.connect(url, 'Mallory', ['general']);
    const calm = await ChatClient.connect(url, 'Calm', ['general']);
    const code = (promise: Promise<unknown>): Promise<string> =>
      promise.then(
        () => 'accepted',
        (error: { code: string }) => error.code,
      );
    try {
      for (const [event, data] of [
        ['chat:send', { room: 'nowhere', text: 'hi' }],
        ['chat:send', { room: '__proto__', text: 'hi' }],
        ['chat:send', { room: 'general', text: '   \u0001 ' }],
        ['chat:send', { room: 'general', text: 42 }],
        ['chat:send', { room: 'general', text: 'x'.repeat(LIMITS.maxTextLength + 1) }],
        ['chat:send', ['general', 'hi']],
        ['chat:history', { room: 'x'.repeat(5000) }],
        ['chat:history', null],
      ] as const) {
        assert.equal(await code(mallory.client.request(event, data)), 'INVALID_PAYLOAD', `${event} ${JSON.stringify(data).slice(0, 40)}`);
      }
      assert.equal(await code(mallory.client.request('chat:shout', {})), 'UNKNOWN_EVENT');
      assert.equal(await code(mallory.client.publish('chat:general', { text: 'straight in' })), 'CHANNEL_FORBIDDEN');
      const forbidden = new Promise<string>((resolve) => mallory.client.on('error', (error) => resolve((error as { code: string }).code)));
      mallory.client.subscribe('chat-presence');
      assert.equal(await forbidden, 'CHANNEL_FORBIDDEN');
      assert.equal(await code(mallory.client.publish('chat:people', { room: 'general' })), 'CHANNEL_FORBIDDEN');
      // Presence metadata is the page's to set, but the name shown is the one the server gave.
      await mallory.people.set({ room: 'general', color: 'red', typing: false, name: 'Calm' });
      await waitUntil(() => (calm.presence.general ?? []).length > 0, 'Calm sees someone in #general');
      assert.deepEqual(calm.presence.general!.map((member) => member.name), ['Mallory']);
      assert.equal(await code(mallory.send('general', 'x'.repeat(LIMITS.maxTextLength))), 'accepted');
      assert.equal(await code(mallory.send('general', 'x'.repeat(LIMITS.maxMessageBytes))), 'MESSAGE_TOO_LARGE');

      // A flood: refused with RATE_LIMITED, then closed (4001); the other reader keeps going.
      const sent = Array.from({ length: 150 }, (_, i) => code(mallory.send('general', `spam ${i}`)));
      const outcomes = await Promise.all(sent);
      assert.ok(outcomes.includes('RATE_LIMITED'), `refusals: ${[...new Set(outcomes)].join(', ')}`);
      const through = calm.texts('general').filter((text) => text.startsWith('spam')).length;
      assert.ok(through <= LIMITS.eventsPerSecond * 2 + 5, `${through} of 150 got through`);
      await calm.send('general', 'still fine');
      await waitUntil(() => calm.texts('general').includes('still fine'), 'the calm message');
    } finally {
      mallory.close();
      calm.close();
    }
  });

  test('malformed frames and wrong handshakes get the protocol\'s answers and disturb no one', async () => {
    const calm = await ChatClient.connect(url, 'Quiet', ['random']);
    const endpoint = `${url.replace(/^http/, 'ws')}rt`;
    try {
      // No fdx.v1 offered: accepted, then closed with 4501.
      const plain = new WebSocket(endpoint);
      const [plainCode] = (await once(plain, 'close')) as [number];
      assert.equal(plainCode, 4501);
      // fdx.v1, then garbage before `connect`: closed with 4501 too.
      const raw = new WebSocket(endpoint, 'fdx.v1');
      await once(raw, 'open');
      raw.send('{not json');
      const [rawCode] = (await once(raw, 'close')) as [number];
      assert.equal(rawCode, 4501);
      // An upgrade on a path the chat does not have: 404 before any WebSocket.
      const lost = new WebSocket(`${url.replace(/^http/, 'ws')}nowhere`);
      lost.on('error', () => {});
      const [, response] = (await once(lost, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(response.statusCode, 404);
      lost.terminate();
      await calm.send('random', 'undisturbed');
      await waitUntil(() => calm.texts('random').includes('undisturbed'), 'the calm message');
    } finally {
      calm.close();
    }
  });

  test('names: a long one is shortened, control characters go, an empty one gets a generated name', async () => {
    const clients = await Promise.all([ChatClient.connect(url, 'N'.repeat(4000), []), ChatClient.connect(url, '  Ze\u0000\u001bd \n ', []), ChatClient.connect(url, '', [])]);
    try {
      assert.equal(clients[0].welcome!.name, 'N'.repeat(LIMITS.maxNameLength));
      assert.equal(clients[1].welcome!.name, 'Zed');
      assert.match(clients[2].welcome!.name, /^[A-Z][a-z]+ [A-Z][a-z]+$/);
    } finally {
      for (const client of clients) client.close();
    }
  });

  test('serves the page, its script, its style and the real-time client, and nothing else', async () => {
    for (const [file, type] of [
      ['', 'text/html'],
      ['app.js', 'text/javascript'],
      ['style.css', 'text/css'],
      ['client.js', 'text/javascript'],
    ] as const) {
      const res = await fetch(`${url}${file}`);
      assert.equal(res.status, 200, file);
      assert.ok(res.headers.get('content-type')?.startsWith(type), file);
      assert.ok((await res.text()).length > 0);
    }
    for (const bad of ['server.ts', '../server.ts', '%2e%2e/server.ts', 'public/index.html', 'history.json']) {
      const res = await fetch(`${url}${bad}`);
      assert.equal(res.status, 404, bad);
      await res.arrayBuffer();
    }
  });
});

describe('chat across a server restart', () => {
  test('the page says it is offline and shows no stale presence; after the restart it has the history back and chats on', async (t) => {
    const restartable = await startDemoHome(['chat']);
    const chatUrl = restartable.demoUrl('chat');
    let current = restartable;
    const ada = await openChat(await newPerson(browser), chatUrl, 'Ada', 'games');
    const bob = await openChat(await newPerson(browser), chatUrl, 'Bob', 'games');
    try {
      await say(ada, 'said before the restart');
      await waitForMessageText(bob, 'said before the restart');
      await waitForPeople(ada, ['Ada (you)', 'Bob']);

      await restartable.stop(true);
      await ada.waitForSelector('#connection[data-state="disconnected"]', { timeout: WAIT_MS });
      assert.equal(await ada.textContent('#connection'), 'offline, reconnecting…');
      assert.equal(await ada.textContent('#online'), 'offline: presence unknown');
      assert.equal(await ada.$$eval('#people li', (items) => items.length), 0, 'no stale presence');
      assert.equal(await ada.isDisabled('#text'), true);
      t.diagnostic(`screenshot: ${await screenshot(ada, 'chat', 'offline')}`);

      current = await startDemoHome(['chat'], { port: restartable.port, dataDir: restartable.dataDir });
      await waitOnline(ada, 'Ada', 'games');
      await waitForPeople(ada, ['Ada (you)', 'Bob']);
      await waitForMessageText(ada, 'said before the restart');
      await say(bob, 'said after the restart');
      await waitForMessageText(ada, 'said after the restart');
      assert.deepEqual((await shownMessages(ada)).map((m) => m.text), ['said before the restart', 'said after the restart'], 'each message once');
      const newcomer = await ChatClient.connect(chatUrl, 'Cleo', ['games']);
      const { history } = (await newcomer.client.request('chat:history', { room: 'games' })) as { history: Array<{ text: string }> };
      assert.deepEqual(history.map((line) => line.text), ['said before the restart', 'said after the restart']);
      newcomer.close();
    } finally {
      await closeAll(ada, bob);
      await current.stop();
    }
  });
});
