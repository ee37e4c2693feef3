/**
 * The notifications demo end to end, one process: the home server with the demo mounted at
 * /notifications/, notifications posted over HTTP as curl would, Debian's Chromium with one
 * context per user, fullduplex/client in Node for the wire. Screenshots: test-artifacts/notifications/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createClient } from 'fullduplex/client';
import { WebSocket } from 'fullduplex';
import { LIMITS } from '../../../apps/notifications/server.js';
import { startDemoHome, type DemoHome } from '../demo-home.js';
import { launchBrowser, newPerson, screenshot } from '../demo-browser.js';
import { WAIT_MS, waitUntil } from '../chat/chat-client.js';

let home: DemoHome;
let url: string;
let token: string;
let browser: Browser;

before(async () => {
  home = await startDemoHome(['notifications']);
  url = home.demoUrl('notifications');
  token = readFileSync(path.join(home.dataDir, 'notifications', 'token'), 'utf8').trim();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await home?.stop();
});

function post(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}` }): Promise<Response> {
  return fetch(`${url}api/notify`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function notify(user: string, title: string, body = ''): Promise<string> {
  const res = await post({ user, title, body });
  assert.equal(res.status, 202, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

async function inbox(context: BrowserContext, user: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}?user=${user}`, { timeout: WAIT_MS });
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: WAIT_MS });
  await page.waitForSelector('#curl:not(:empty)', { timeout: WAIT_MS });
  return page;
}

const titles = (page: Page): Promise<string[]> => page.$$eval('#items .item .title', (items) => items.map((item) => item.textContent ?? ''));
const toasts = (page: Page): Promise<string[]> => page.$$eval('#toasts .toast strong', (items) => items.map((item) => item.textContent ?? ''));
async function waitForTitles(page: Page, expected: string[]): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (JSON.stringify(await titles(page)) !== JSON.stringify(expected)) {
    if (Date.now() > deadline) assert.deepEqual(await titles(page), expected);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('notifications in Chromium', () => {
  test('a notification posted over HTTP arrives in the right tab only, as a toast and an unread entry', async (t) => {
    const ada = await inbox(await newPerson(browser), 'ada');
    const bob = await inbox(await newPerson(browser), 'bob');
    try {
      assert.match((await ada.textContent('#curl')) ?? '', /Authorization: Bearer \S+/);
      await notify('ada', 'Build finished', 'all green <b>yes</b>');
      await waitForTitles(ada, ['Build finished']);
      assert.deepEqual(await toasts(ada), ['Build finished']);
      assert.equal(await ada.textContent('#unread'), '1');
      assert.equal(await ada.textContent('#items .item .body'), 'all green <b>yes</b>');
      await notify('bob', 'For Bob');
      await waitForTitles(bob, ['For Bob']);
      assert.deepEqual(await toasts(bob), ['For Bob'], "Ada's notification never reached Bob's tab");
      assert.deepEqual(await titles(ada), ['Build finished'], "Bob's never reached Ada's");
      t.diagnostic(`screenshot: ${await screenshot(ada, 'notifications', 'toast')}`);

      // Read state is the server's: a second tab of Ada's follows the first.
      const ada2 = await inbox(ada.context(), 'ada');
      await waitForTitles(ada2, ['Build finished']);
      assert.equal(await ada2.textContent('#unread'), '1');
      await ada.click('#read-all');
      await ada2.waitForSelector('#unread:text-is("0")', { timeout: WAIT_MS });
      await ada.waitForSelector('#items .item.read', { timeout: WAIT_MS });
    } finally {
      await ada.context().close();
      await bob.context().close();
    }
  });

  test('a user offline for a while gets everything on return, exactly once', async (t) => {
    const context = await newPerson(browser);
    try {
      let cleo = await inbox(context, 'cleo');
      await notify('cleo', 'while online');
      await waitForTitles(cleo, ['while online']);
      await cleo.close();
      for (const title of ['missed 1', 'missed 2', 'missed 3']) await notify('cleo', title);
      await notify('dora', 'not for cleo');

      cleo = await inbox(context, 'cleo');
      await waitForTitles(cleo, ['missed 3', 'missed 2', 'missed 1', 'while online']);
      await cleo.waitForFunction('document.querySelectorAll("#toasts .toast").length >= 3', undefined, { timeout: WAIT_MS });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual((await toasts(cleo)).sort(), ['missed 1', 'missed 2', 'missed 3'], 'one toast each for what was missed, none again for the rest');
      assert.equal(await cleo.textContent('#unread'), '4');
      t.diagnostic(`screenshot: ${await screenshot(cleo, 'notifications', 'back-online')}`);

      await cleo.reload();
      await cleo.waitForSelector('#connection[data-state="connected"]', { timeout: WAIT_MS });
      await waitForTitles(cleo, ['missed 3', 'missed 2', 'missed 1', 'while online']);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(await toasts(cleo), [], 'a reload shows no toast twice');
    } finally {
      await context.close();
    }
  });
});

describe('notifications over the wire', () => {
  const connect = (user: unknown) =>
    createClient(`${url.replace(/^http/, 'ws')}rt`, { WebSocket: WebSocket as never, data: { user }, minDelayMs: 50, maxDelayMs: 300 });

  test('a Node client subscribed to its channel gets each notification once, and only its own', async () => {
    const eve = connect('eve');
    const got: Array<{ kind: string; title?: string }> = [];
    try {
      eve.subscribe('notify:eve', (event) => got.push(event as { kind: string }));
      await waitUntil(() => eve.state === 'connected', 'eve connected');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await notify('eve', 'one');
      await notify('frank', 'not hers');
      await notify('eve', 'two');
      await waitUntil(() => got.length === 2, 'two notifications');
      assert.deepEqual(got.map((event) => event.title), ['one', 'two']);
      const { items } = (await eve.request('notify:list', {})) as { items: Array<{ title: string; read: boolean }> };
      assert.deepEqual(items.map((item) => [item.title, item.read]), [['two', false], ['one', false]]);
    } finally {
      eve.close();
    }
  });

  test('a page cannot read another user\'s channel, publish, or send bad read requests', async () => {
    const mallory = connect('mallory');
    const code = (promise: Promise<unknown>): Promise<string> => promise.then(() => 'accepted', (error: { code: string }) => error.code);
    try {
      const refused = new Promise<string>((resolve) => mallory.on('error', (error) => resolve((error as { code: string }).code)));
      mallory.subscribe('notify:ada');
      assert.equal(await refused, 'CHANNEL_FORBIDDEN');
      assert.equal(await code(mallory.publish('notify:mallory', { kind: 'notification', id: 'x', title: 'fake', body: '', ts: 0 })), 'CHANNEL_FORBIDDEN');
      assert.equal(await code(mallory.request('notify:read', { ids: 42 })), 'INVALID_PAYLOAD');
      assert.equal(await code(mallory.request('notify:read', { ids: ['x'.repeat(100)] })), 'INVALID_PAYLOAD');
      assert.equal(await code(mallory.request('notify:read', { ids: 'all' })), 'accepted');
    } finally {
      mallory.close();
    }
    for (const user of [undefined, '', 'no spaces', 'x'.repeat(33)]) {
      const bad = connect(user);
      // Refused with close 4500: the client gives up (no reconnect) and says why.
      const refusal = new Promise<string>((resolve) => bad.on('error', (error) => resolve((error as { code: string }).code)));
      assert.equal(await refusal, 'UNAUTHORIZED', `user ${JSON.stringify(user)}`);
      assert.equal(bad.state, 'closed');
      bad.close();
    }
  });

  test('the HTTP endpoint answers 401, 400, 413 and 405 with a JSON reason, and 429 past the rate', async () => {
    const cases: Array<[unknown, Record<string, string> | undefined, number, string]> = [
      [{ user: 'ada', title: 'x' }, {}, 401, 'unauthorized'],
      [{ user: 'ada', title: 'x' }, { authorization: 'Bearer wrong' }, 401, 'unauthorized'],
      [{ user: 'ada', title: 'x' }, { authorization: token }, 401, 'unauthorized'],
      ['not json', undefined, 400, 'bad-json'],
      [[1, 2], undefined, 400, 'bad-json'],
      [{ user: 'a b', title: 'x' }, undefined, 400, 'bad-user'],
      [{ user: 'ada' }, undefined, 400, 'bad-title'],
      [{ user: 'ada', title: '   ' }, undefined, 400, 'bad-title'],
      [{ user: 'ada', title: 'x'.repeat(LIMITS.maxTitleLength + 1) }, undefined, 400, 'bad-title'],
      [{ user: 'ada', title: 'x', body: 7 }, undefined, 400, 'bad-body'],
      [{ user: 'ada', title: 'x', body: 'y'.repeat(LIMITS.maxBodyBytes) }, undefined, 413, 'too-large'],
    ];
    for (const [body, headers, status, error] of cases) {
      const res = await post(body, headers);
      assert.equal(res.status, status, JSON.stringify(body).slice(0, 60));
      assert.equal(((await res.json()) as { error: string }).error, error);
      if (status === 401) assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    }
    const get = await fetch(`${url}api/notify`);
    assert.equal(get.status, 405);
    await get.arrayBuffer();

    const answers = await Promise.all(Array.from({ length: LIMITS.rate.burst + 15 }, (_, i) => post({ user: 'flood', title: `n${i}` })));
    const statuses = answers.map((res) => res.status);
    assert.ok(statuses.includes(202) && statuses.includes(429), statuses.join(','));
    const limited = answers.find((res) => res.status === 429)!;
    assert.equal(limited.headers.get('retry-after'), '1');
    await Promise.all(answers.map((res) => res.arrayBuffer()));
  });
});
