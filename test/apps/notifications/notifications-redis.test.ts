/**
 * Notifications as two processes sharing one Redis (`npm start -- --redis URL`, both with the
 * same NOTIFY_TOKEN): a notification posted to either process reaches the user's tab on the
 * other, and a user whose tab was closed gets what was posted meanwhile, once, on return.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { DemoProcesses, type DemoProcess } from '../demo-processes.js';
import { launchBrowser, newPerson, screenshot } from '../demo-browser.js';
import { WAIT_MS } from '../chat/chat-client.js';

const TOKEN = `test-token-${process.pid}`;
const processes = new DemoProcesses();
let a: DemoProcess;
let b: DemoProcess;
let browser: Browser;

before(async () => {
  process.env.NOTIFY_TOKEN = TOKEN;
  await processes.start();
  [a, b] = await Promise.all([processes.spawn(), processes.spawn()]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await processes.stop();
});

async function notify(on: DemoProcess, user: string, title: string): Promise<void> {
  const res = await fetch(`${on.url}notifications/api/notify`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ user, title }) });
  assert.equal(res.status, 202, await res.text());
}

async function inbox(page: Page, on: DemoProcess, user: string): Promise<void> {
  await page.goto(`${on.url}notifications/?user=${user}`, { timeout: WAIT_MS });
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: WAIT_MS });
}

const titles = (page: Page): Promise<string[]> => page.$$eval('#items .item .title', (items) => items.map((item) => item.textContent ?? ''));

async function waitForTitles(page: Page, expected: string[]): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (JSON.stringify(await titles(page)) !== JSON.stringify(expected)) {
    if (Date.now() > deadline) assert.deepEqual(await titles(page), expected);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('posted on one process, shown on the other; a tab closed meanwhile gets the rest once on return', async (t) => {
  const context = await newPerson(browser);
  const other = await newPerson(browser);
  try {
    let ada = await context.newPage();
    await inbox(ada, b, 'ada');
    const bob = await other.newPage();
    await inbox(bob, a, 'bob');
    await notify(a, 'ada', 'from process A');
    await waitForTitles(ada, ['from process A']);
    await ada.close();
    await notify(a, 'ada', 'missed on A');
    await notify(b, 'ada', 'missed on B');
    // Back on the same address (its storage keeps the channel position), while both posted.
    ada = await context.newPage();
    await inbox(ada, b, 'ada');
    await waitForTitles(ada, ['missed on B', 'missed on A', 'from process A']);
    await ada.waitForFunction('document.querySelectorAll("#toasts .toast").length >= 2', undefined, { timeout: WAIT_MS });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const toasts = await ada.$$eval('#toasts .toast strong', (items) => items.map((item) => item.textContent ?? ''));
    assert.deepEqual(toasts.sort(), ['missed on A', 'missed on B']);
    assert.deepEqual(await titles(bob), [], "nothing of Ada's reached Bob");
    t.diagnostic(`screenshot: ${await screenshot(ada, 'notifications', 'two-processes')}`);
  } finally {
    await context.close();
    await other.close();
  }
});
