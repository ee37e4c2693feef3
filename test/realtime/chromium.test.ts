/**
 * The browser build of fullduplex/client in Debian's Chromium: a page subscribes, the server
 * crashes and restarts (same engine) while publications continue, and the page recovers every
 * one of them in order; after the page goes away and comes back, positions kept in
 * sessionStorage let it resume without loss.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromium, type Browser } from '../support/chromium.js';
import { buildBrowserClient } from './client-size.js';
import { startLoopback, type Loopback } from './loopback.js';

const BUNDLE = new TextDecoder().decode(buildBrowserClient({ format: 'iife', globalName: 'fdx' }));
const PAGE = `<!doctype html><meta charset="utf-8"><title>fdx realtime</title>
<script src="/client.js"></script>
<script>
  window.got = [];
  window.recoveries = [];
  const client = fdx.createClient('ws://' + location.host + '/rt', { persist: true, minDelayMs: 50, maxDelayMs: 300 });
  client.subscribe('feed', (data) => window.got.push(data));
  client.on('subscribed', (channel, recovered) => window.recoveries.push(recovered));
  window.client = client;
</script>`;

let loop: Loopback;
let browser: Browser;
let page: Page;

before(async () => {
  loop = await startLoopback({
    http: (req, res) => {
      const [body, type] = req.url === '/client.js' ? [BUNDLE, 'text/javascript'] : [PAGE, 'text/html'];
      res.writeHead(200, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-store' });
      res.end(body);
    },
  });
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
});

after(async () => {
  await browser?.close();
  await loop?.stop();
});

async function waitFor(expression: string): Promise<void> {
  await page.waitForFunction(expression, undefined, { timeout: 15_000, polling: 20 });
}

it('a page reconnects after a server restart and recovers what it missed, then resumes after a reload', { timeout: 90_000 }, async () => {
  await page.goto(`http://127.0.0.1:${loop.port}/`);
  await waitFor('window.recoveries.length === 1');
  for (let i = 1; i <= 3; i++) await loop.realtime.publish('feed', i);
  await waitFor('window.got.length === 3');

  await loop.crash();
  await waitFor("window.client.state !== 'connected'");
  for (let i = 4; i <= 6; i++) await loop.realtime.engine.publish('feed', i);
  await loop.restart();
  await waitFor('window.recoveries.length === 2');
  await loop.realtime.publish('feed', 7);
  await waitFor('window.got.length === 7');
  assert.deepEqual(await page.evaluate('window.got'), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(await page.evaluate('window.recoveries'), [true, true]);

  // The page goes away (its client closes) and comes back: sessionStorage holds its position.
  await page.evaluate('window.client.close()');
  for (let i = 8; i <= 9; i++) await loop.realtime.publish('feed', i);
  await page.reload();
  await waitFor('window.recoveries.length === 1');
  await waitFor('window.got.length === 2');
  assert.deepEqual(await page.evaluate('window.got'), [8, 9]);
  assert.deepEqual(await page.evaluate('window.recoveries'), [true]);
});

it('a page gets binary publications as Uint8Arrays, live and recovered, and publishes bytes', { timeout: 60_000 }, async () => {
  await page.evaluate(`
    window.bin = [];
    window.binSubscribed = 0;
    window.client.on('subscribed', (channel) => channel === 'arena' && window.binSubscribed++);
    window.client.subscribe('arena', (data) => window.bin.push(data instanceof Uint8Array ? Array.from(data) : 'not bytes: ' + JSON.stringify(data)));
  `);
  await waitFor('window.binSubscribed === 1');
  await loop.realtime.publish('arena', Buffer.from([0, 1, 254, 255]));
  await loop.realtime.publish('arena', { json: true });
  await page.evaluate(`window.client.publish('arena', new Uint8Array([7, 8, 9]))`);
  await waitFor('window.bin.length === 3');
  await loop.crash();
  await waitFor("window.client.state !== 'connected'");
  await loop.realtime.engine.publish('arena', new Uint8Array(300).map((_, i) => i % 256));
  await loop.restart();
  await waitFor('window.binSubscribed === 2 && window.bin.length === 4');
  const bin = (await page.evaluate('window.bin')) as unknown[];
  assert.deepEqual(bin.slice(0, 3), [[0, 1, 254, 255], 'not bytes: {"json":true}', [7, 8, 9]]);
  assert.deepEqual(bin[3], Array.from({ length: 300 }, (_, i) => i % 256));
});
