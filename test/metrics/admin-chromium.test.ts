/**
 * The admin page in Debian's Chromium: an operator logs in with the token, sees the numbers
 * change as clients connect, publishes to a channel that a real-time client receives, and
 * disconnects a plain connection. A screenshot is kept in test-artifacts/admin-page.png.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import { MetricsCollector, createAdminHandler } from '../../src/metrics/index.js';
import { RealtimeServer, mountRealtime } from '../../src/realtime.js';
import { launchChromium, type Browser } from '../support/chromium.js';
import { closed, openClient, until } from '../support/clients.js';

const TOKEN = 'admin-page-token-1';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

let browser: Browser;
let server: http.Server;
let collector: MetricsCollector;
let realtime: RealtimeServer;
let plain: WebSocketServer;
let port = 0;

before(async () => {
  collector = new MetricsCollector();
  realtime = new RealtimeServer();
  const rtWss = mountRealtime(realtime, { noServer: true });
  plain = new WebSocketServer({ noServer: true });
  plain.on('connection', (ws: WebSocket) => ws.on('message', (data) => ws.send(String(data))));
  const admin = createAdminHandler({ token: TOKEN, collector, realtime, wss: plain });
  server = http.createServer((req, res) => {
    if (!admin(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    const target = req.url === '/rt' ? rtWss : plain;
    target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await realtime.close();
  plain.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  collector.close();
});

const numberIn = async (page: Page, id: string): Promise<number> => Number(await page.textContent(`#${id}`));

/** Waits until the page shows a number in #id that passes `check` (polled from here: the page's CSP forbids eval). */
async function showing(page: Page, id: string, check: (n: number) => boolean): Promise<void> {
  const end = Date.now() + 15_000;
  while (!check(await numberIn(page, id))) {
    if (Date.now() > end) throw new Error(`#${id} never showed the expected number (last ${await numberIn(page, id)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it('logs in with the token, shows numbers that change, publishes to a channel, and disconnects a connection', { timeout: 90_000 }, async () => {
  const page = await browser.context.newPage();
  const first = await page.goto(`http://127.0.0.1:${port}/admin/`);
  assert.equal(first?.status(), 401);
  await page.fill('#token', 'wrong-token-000');
  await page.click('#login');
  await page.waitForSelector('#message:has-text("Wrong token.")');
  await page.fill('#token', TOKEN);
  await page.click('#login');
  await page.waitForSelector('#cards .card');
  await page.waitForSelector('#status[data-ticks]', { state: 'attached' });
  assert.equal(await numberIn(page, 'connections'), 0);

  // Two plain clients and one real-time client subscribed to "alerts".
  const a = await openClient(`ws://127.0.0.1:${port}/plain`);
  const b = await openClient(`ws://127.0.0.1:${port}/plain`);
  const r = await openClient(`ws://127.0.0.1:${port}/rt`, 'fdx.v1');
  const received: any[] = [];
  r.on('message', (data) => received.push(JSON.parse(String(data))));
  r.send(JSON.stringify({ type: 'connect', id: 1 }));
  r.send(JSON.stringify({ type: 'subscribe', id: 2, channel: 'alerts' }));
  await until(() => received.some((m) => m.id === 2), 'subscribed');
  for (let i = 0; i < 20; i++) a.send(`message ${i}`);
  await showing(page, 'connections', (n) => n === 3);
  await showing(page, 'messages-in-total', (n) => n >= 20);
  await page.waitForSelector('#channels td:has-text("alerts")');
  assert.equal(await numberIn(page, 'realtime-subscriptions'), 1);

  // Publish to the channel from the page: the real-time client receives it.
  await page.selectOption('#publish-form select[name=target]', 'realtime');
  await page.fill('#publish-form input[name=channel]', 'alerts');
  await page.fill('#publish-form input[name=data]', '{"level":"high"}');
  await page.click('#publish-form button');
  await until(() => received.some((m) => m.type === 'pub'), 'the publication from the page', 10_000);
  assert.deepEqual(received.find((m) => m.type === 'pub').data, { level: 'high' });
  await page.waitForSelector('#status:has-text("ok:")');

  // Disconnect one plain connection from the page.
  await page.waitForSelector('#connection-list button[data-id^="ws-"]');
  const buttons = await page.locator('#connection-list button[data-id^="ws-"]').all();
  const ids = await Promise.all(buttons.map((button) => button.getAttribute('data-id')));
  assert.equal(ids.length, 2);
  const closings = [closed(a), closed(b)];
  await page.click(`#connection-list button[data-id="${ids[0]}"]`);
  const outcome = await Promise.race(closings.map((p, i) => p.then((c) => ({ i, ...c }))));
  assert.equal(outcome.code, 1008);
  assert.equal(outcome.reason, 'disconnected by an operator');
  await showing(page, 'connections', (n) => n === 2);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}admin-page.png`, fullPage: true });

  const rest = [a, b, r].filter((ws) => ws.readyState === ws.OPEN);
  for (const ws of rest) ws.close();
  await Promise.all(rest.map((ws) => closed(ws)));
  await page.close();
});
