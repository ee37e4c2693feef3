/**
 * The chat demo end to end: the real server (apps/chat/server.ts) on 127.0.0.1, Debian's
 * Chromium driven by playwright-core, several tabs chatting through our WebSocketServer.
 * Screenshots go to a fresh temp dir, removed afterwards unless FDX_KEEP_SCREENSHOTS=1
 * (the path is printed as a test diagnostic).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import WebSocket from '../../src/index.js';
import { LIMITS, startChat, type Chat } from '../../apps/chat/server.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Upper bound on any single wait for the page; a bound, not a timing assertion. */
const WAIT_MS = 15_000;

let chat: Chat;
let userDataDir = '';
let screenshotDir = '';
let context: BrowserContext | undefined;
/** Why the browser could not start; browser tests then fail with it (a missing browser never skips). */
let missing: Error | null = null;

before(async () => {
  chat = await startChat({ port: 0, host: '127.0.0.1' });
  screenshotDir = await mkdtemp(path.join(os.tmpdir(), 'fdx-chat-screens-'));
  try {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} does not exist (install the Debian package chromium)`);
    userDataDir = await mkdtemp(path.join(os.tmpdir(), 'fdx-chat-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 900, height: 640 },
      timeout: 30_000,
    });
  } catch (error) {
    missing = error as Error;
  }
});

after(async () => {
  await context?.close().catch(() => undefined);
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  if (screenshotDir && process.env.FDX_KEEP_SCREENSHOTS !== '1') await rm(screenshotDir, { recursive: true, force: true });
  await chat?.close();
});

function browser(): BrowserContext {
  if (missing || !context) throw new Error(`Chromium could not start: ${missing?.message ?? 'unknown'}`);
  return context;
}

/** Opens a tab on the chat as `name` (the ?name= query skips the prompt) and waits until it is connected. */
async function tab(name: string): Promise<Page> {
  const page = await browser().newPage();
  await page.goto(`${chat.url}?name=${encodeURIComponent(name)}`, { timeout: WAIT_MS });
  await page.waitForSelector('#connection[data-state="open"]', { timeout: WAIT_MS });
  await waitForText(page, '#me', name);
  return page;
}

/** Waits until an element matching `selector` has exactly the text `text`. */
async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForSelector(`${selector}:text-is(${JSON.stringify(text)})`, { timeout: WAIT_MS });
}

async function waitForOnline(page: Page, count: number): Promise<void> {
  await waitForText(page, '#online', `${count} online`);
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** The messages a tab shows, as {name, text} read from the DOM. */
function shownMessages(page: Page): Promise<Array<{ name: string; text: string; mine: boolean }>> {
  return page.$$eval('#messages .message', (items) =>
    items.map((item) => ({
      name: item.querySelector('.name')?.textContent ?? '',
      text: item.querySelector('.text')?.textContent ?? '',
      mine: item.classList.contains('mine'),
    })),
  );
}

function notices(page: Page): Promise<string[]> {
  return page.$$eval('#messages .notice', (items) => items.map((item) => item.textContent ?? ''));
}

/** Closes the tabs and waits (bounded) until the server has seen every connection go. */
async function closeTabs(...pages: Page[]): Promise<void> {
  for (const page of pages) await page.close().catch(() => undefined);
  for (let i = 0; i < WAIT_MS / 50 && chat.wss.clients.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(chat.wss.clients.size, 0, 'every tab disconnected from the server');
}

describe('chat page in Chromium', () => {
  test('a message typed in one tab appears in the other, and both count two online', async (t) => {
    const ada = await tab('Ada');
    const bob = await tab('Bob');
    try {
      await waitForOnline(ada, 2);
      await waitForOnline(bob, 2);

      await say(ada, 'Hello Bob, <b>bold</b> & <script>alert(1)</script>');
      await bob.waitForSelector('#messages .message', { timeout: WAIT_MS });
      const seenByBob = await shownMessages(bob);
      assert.deepEqual(seenByBob, [{ name: 'Ada', text: 'Hello Bob, <b>bold</b> & <script>alert(1)</script>', mine: false }]);
      // The text went in as text: no markup from the message reached the DOM.
      assert.equal(await bob.$$eval('#messages b, #messages script', (found) => found.length), 0);

      await say(bob, 'Hi Ada!');
      await ada.locator('#messages .message').nth(1).waitFor({ timeout: WAIT_MS });
      assert.deepEqual(await shownMessages(ada), [
        { name: 'Ada', text: 'Hello Bob, <b>bold</b> & <script>alert(1)</script>', mine: true },
        { name: 'Bob', text: 'Hi Ada!', mine: false },
      ]);
      assert.ok((await notices(ada)).includes('Bob joined'), 'Ada saw Bob join');

      const file = path.join(screenshotDir, 'chat-two-tabs.png');
      await ada.screenshot({ path: file });
      const png = await readFile(file);
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG was written');
      t.diagnostic(`screenshot: ${file}`);
    } finally {
      await closeTabs(ada, bob);
    }
  });

  test('join and leave notices and the online count follow tabs opening and closing', async () => {
    const ada = await tab('Ada');
    try {
      await waitForOnline(ada, 1);
      const carol = await tab('Carol');
      await waitForOnline(ada, 2);
      await waitForText(ada, '#messages .notice', 'Carol joined');
      await carol.close();
      await waitForOnline(ada, 1);
      await waitForText(ada, '#messages .notice', 'Carol left');
    } finally {
      await closeTabs(ada);
    }
  });

  test('without a name in the URL the page asks for a nickname and joins with it', async (t) => {
    const page = await browser().newPage();
    try {
      await page.goto(chat.url, { timeout: WAIT_MS });
      await page.waitForSelector('#nickname[open]', { timeout: WAIT_MS });
      await page.screenshot({ path: path.join(screenshotDir, 'chat-nickname.png') });
      t.diagnostic(`screenshot: ${path.join(screenshotDir, 'chat-nickname.png')}`);
      await page.fill('#nickname-input', 'Zed');
      await page.click('#join');
      await waitForText(page, '#me', 'Zed');
      await page.waitForSelector('#connection[data-state="open"]', { timeout: WAIT_MS });
      assert.equal(await page.isVisible('#nickname'), false);
    } finally {
      await closeTabs(page);
    }
  });

  test('an empty nickname gets a generated one and a taken one gets a suffix', async () => {
    const first = await tab('Ada');
    const page = await browser().newPage();
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
  const wsUrl = (): string => `ws://127.0.0.1:${chat.port}/ws`;

  async function member(name: string): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>> }> {
    const ws = new WebSocket(`${wsUrl()}?name=${encodeURIComponent(name)}`);
    const queue: Array<Record<string, unknown>> = [];
    const waiting: Array<(event: Record<string, unknown>) => void> = [];
    ws.on('message', (data) => {
      const event = JSON.parse(String(data)) as Record<string, unknown>;
      const waiter = waiting.shift();
      if (waiter) waiter(event);
      else queue.push(event);
    });
    ws.on('error', () => {});
    await once(ws, 'open');
    const next = (): Promise<Record<string, unknown>> => {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no event from the chat server')), WAIT_MS);
        waiting.push((event) => {
          clearTimeout(timer);
          resolve(event);
        });
      });
    };
    return { ws, next };
  }

  async function leave(ws: WebSocket): Promise<void> {
    if (ws.readyState === WebSocket.CLOSED) return;
    const closed = once(ws, 'close');
    ws.close();
    await closed;
  }

  test('welcomes with the name and count, then broadcasts {type, name, text, ts} messages', async () => {
    const a = await member('Eve');
    try {
      const welcome = await a.next();
      assert.equal(welcome.type, 'welcome');
      assert.equal(welcome.name, 'Eve');
      assert.equal(welcome.online, 1);
      assert.ok(Array.isArray(welcome.history));
      assert.deepEqual(await a.next(), { type: 'join', name: 'Eve', text: 'Eve joined', ts: welcome.ts, online: 1 });

      a.ws.send(JSON.stringify({ type: 'message', text: '  hi there \u0007 ' }));
      const message = await a.next();
      assert.equal(message.type, 'message');
      assert.equal(message.name, 'Eve');
      assert.equal(message.text, 'hi there', 'trimmed, control characters removed');
      assert.equal(typeof message.ts, 'number');
    } finally {
      await leave(a.ws);
    }
  });

  test('refuses malformed, empty, binary and over-long input with an error event and keeps the connection', async () => {
    const a = await member('Mallory');
    try {
      await a.next(); // welcome
      await a.next(); // own join
      const refused = [
        'not json',
        JSON.stringify(['message', 'hi']),
        JSON.stringify({ type: 'shout', text: 'hi' }),
        JSON.stringify({ type: 'message', text: 42 }),
        JSON.stringify({ type: 'message', text: '   ' }),
        JSON.stringify({ type: 'message', text: 'x'.repeat(LIMITS.maxTextLength + 1) }),
      ];
      for (const input of refused) {
        a.ws.send(input);
        const answer = await a.next();
        assert.equal(answer.type, 'error', `refused: ${input.slice(0, 40)}`);
      }
      a.ws.send(Buffer.from('{"type":"message","text":"binary"}'), { binary: true });
      assert.equal((await a.next()).type, 'error');

      a.ws.send(JSON.stringify({ type: 'message', text: 'x'.repeat(LIMITS.maxTextLength) }));
      const accepted = await a.next();
      assert.equal(accepted.type, 'message');
      assert.equal(accepted.text, 'x'.repeat(LIMITS.maxTextLength));
    } finally {
      await leave(a.ws);
    }
  });

  test('closes with 1009 a frame over the chat maxPayload', async () => {
    const a = await member('Big');
    const closed = once(a.ws, 'close');
    a.ws.send('x'.repeat(LIMITS.maxPayload + 1));
    const [code] = await closed;
    assert.equal(code, 1009);
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
    for (const bad of ['server.ts', '../server.ts', '%2e%2e/server.ts', 'public/index.html']) {
      const res = await fetch(`${chat.url}${bad}`);
      assert.equal(res.status, 404, bad);
      await res.arrayBuffer();
    }
  });
});
