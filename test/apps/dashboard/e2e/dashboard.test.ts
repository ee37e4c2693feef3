/**
 * The dashboard in Chromium, on fullduplex/client: two pages in two browser contexts choose
 * different series (one by clicking the picker, one by its URL) and see their own charts update;
 * "simulate slow client" shows replaced samples while the server's buffered bytes stay within the
 * limit; a URL naming no series is refused by the server (CHANNEL_FORBIDDEN) and shown as an
 * error; a connection cut under a page is shown, and the client reconnects and recovers what the
 * page missed. Screenshots: test-artifacts/dashboard/.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import type { Browser, Page } from 'playwright-core';
import { createDemo, DEFAULT_SELECTION, LIMITS } from '../../../../apps/dashboard/server.js';
import { hostDemo, type DemoHost } from '../../support/demo-host.js';
import { launchBrowser, newPerson, screenshot } from '../../demo-browser.js';

/** The page's DOM as the functions run inside Chromium see it (the project compiles without the DOM lib). */
declare const document: { body: any; getElementById(id: string): any; querySelector(selector: string): any; querySelectorAll(selector: string): any[] & { length: number } };

const WAIT_MS = 15_000;
let host: DemoHost;
let browser: Browser;

before(async () => {
  host = await hostDemo('dashboard', createDemo);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await host?.close();
});

async function openDashboard(page: Page, query = ''): Promise<void> {
  await page.goto(`${host.pageUrl}${query}`, { timeout: WAIT_MS });
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: WAIT_MS });
}

/** The series whose charts `page` shows, in order. */
function charted(page: Page): Promise<string[]> {
  return page.$$eval('#charts .chart', (charts) => charts.map((chart) => (chart as any).dataset.series!));
}

/** Waits until the chart of `id` has at least `points` points, then returns its count. */
async function chartGrows(page: Page, id: string, points: number): Promise<void> {
  await page.waitForFunction(
    ({ id, points }) => Number(document.querySelector(`.chart[data-series="${id}"]`)?.dataset.points ?? 0) >= points,
    { id, points },
    { timeout: WAIT_MS },
  );
}

const numberIn = async (page: Page, selector: string) => Number((await page.textContent(selector))!.replace(/[^\d.]/g, ''));

it('two pages in two contexts chart the series each chose, updating live', { timeout: 60_000 }, async () => {
  const ada = await (await newPerson(browser, 1100)).newPage();
  const bob = await (await newPerson(browser, 1100)).newPage();
  await openDashboard(ada);
  await openDashboard(bob, '?series=machine.cpu,synthetic.heartbeat');
  await ada.waitForFunction((n) => document.querySelectorAll('#charts .chart').length === n, DEFAULT_SELECTION.length, { timeout: WAIT_MS });
  assert.deepEqual(await charted(ada), DEFAULT_SELECTION);

  // Ada picks one more series in the picker and drops one.
  await ada.check('#picker input[value="synthetic.sawtooth"]');
  await ada.uncheck('#picker input[value="process.cpu.user"]');
  const adaWants = [...DEFAULT_SELECTION.filter((id) => id !== 'process.cpu.user'), 'synthetic.sawtooth'];
  await ada.waitForFunction((ids) => [...document.querySelectorAll('#charts .chart')].map((c) => c.dataset.series).join() === ids.join(), adaWants, { timeout: WAIT_MS });
  await bob.waitForFunction(() => document.querySelectorAll('#charts .chart').length === 2, undefined, { timeout: WAIT_MS });
  assert.deepEqual(await charted(bob), ['machine.cpu', 'synthetic.heartbeat']);

  await chartGrows(ada, 'synthetic.sawtooth', 20); // a second of samples at 20 Hz
  await chartGrows(bob, 'synthetic.heartbeat', 20);
  const before = await numberIn(bob, '#received');
  await bob.waitForTimeout(500);
  assert.ok((await numberIn(bob, '#received')) - before >= 5, 'frames keep arriving');
  assert.match((await ada.textContent('#compression'))!, /permessage-deflate on/);
  assert.match((await ada.textContent('.chart[data-series="synthetic.sawtooth"] .latest'))!, /^-?\d/);
  assert.equal(await ada.isChecked('#picker input[value="process.cpu.user"]'), false);
  await screenshot(ada, 'dashboard', 'ada');
  await screenshot(bob, 'dashboard', 'bob');
  await ada.context().close();
  await bob.context().close();
});

it('"simulate slow client" shows replaced samples and a bounded server buffer; off again, samples flow', { timeout: 60_000 }, async () => {
  const page = await (await newPerson(browser, 1100)).newPage();
  await openDashboard(page);
  await page.check('#slow');
  await page.waitForFunction(() => document.body.classList.contains('slow'), undefined, { timeout: WAIT_MS });
  // Replaced samples never arrive: the page sees gaps in each channel's offsets.
  await page.waitForFunction(() => Number(document.getElementById('missed').textContent) > 10, undefined, { timeout: WAIT_MS });
  await page.waitForFunction(() => document.getElementById('max-buffered').textContent !== '0 B', undefined, { timeout: WAIT_MS });
  const maxBuffered = (await page.textContent('#max-buffered'))!;
  const bytes = maxBuffered.endsWith('KiB') ? parseFloat(maxBuffered) * 1024 : parseFloat(maxBuffered);
  // The limit, plus one message (a pub message is about 130 bytes, a stats event less).
  assert.ok(bytes > 0 && bytes <= LIMITS.maxBackpressure + 256, `the server buffered up to ${maxBuffered}`);
  await screenshot(page, 'dashboard', 'slow-client');
  await page.uncheck('#slow');
  await page.waitForFunction(() => !document.body.classList.contains('slow'), undefined, { timeout: WAIT_MS });
  const before = await numberIn(page, '#received');
  await page.waitForTimeout(1000);
  assert.ok((await numberIn(page, '#received')) - before >= 10, 'full rate again');
  await page.context().close();
});

it('shows the server\'s refusal of an unknown series, and keeps charting', { timeout: 30_000 }, async () => {
  const page = await (await newPerson(browser, 1100)).newPage();
  await openDashboard(page, '?series=synthetic.sine,not.a.series');
  await page.waitForSelector('#error:not([hidden])', { timeout: WAIT_MS });
  assert.match((await page.textContent('#error'))!, /^CHANNEL_FORBIDDEN: subscribe on "series\.[\w-]+\.not\.a\.series" is not allowed/);
  await page.waitForFunction(() => document.querySelectorAll('#charts .chart').length === 1, undefined, { timeout: WAIT_MS });
  await chartGrows(page, 'synthetic.sine', 10);
  await page.context().close();
});

it('a dropped connection: the page says it is offline, the client reconnects and recovers the samples it missed, the charts have no hole', { timeout: 60_000 }, async () => {
  const sockets: Duplex[] = [];
  const track = (_req: unknown, socket: Duplex) => sockets.push(socket);
  host.server.on('upgrade', track);
  after(() => host.server.off('upgrade', track));
  const page = await (await newPerson(browser, 1100)).newPage();
  await openDashboard(page, '?series=synthetic.sawtooth');
  await chartGrows(page, 'synthetic.sawtooth', 10);
  // Cut the TCP connection under the page; both sides see it gone at once.
  for (const socket of sockets.splice(0)) socket.destroy();
  await page.waitForFunction(() => {
    const status = document.getElementById('connection');
    return status.dataset.state === 'disconnected' && /offline/.test(status.textContent);
  }, undefined, { timeout: WAIT_MS, polling: 10 });
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: WAIT_MS });
  await page.waitForFunction(() => Number(document.getElementById('recovered').textContent) >= 1, undefined, { timeout: WAIT_MS });
  await chartGrows(page, 'synthetic.sawtooth', 60);
  // Offsets are consecutive per channel: the page counts any sample it never got.
  assert.equal(await page.textContent('#missed'), '0', 'no sample missing');
  await screenshot(page, 'dashboard', 'recovered');
  await page.context().close();
});

it('asked for more series than a page may have, charts the first sixteen and shows the server\'s TOO_MANY_CHANNELS', { timeout: 30_000 }, async () => {
  const ids = [
    'process.cpu.user', 'process.cpu.system', 'process.memory.rss', 'process.memory.heapUsed', 'process.memory.external',
    'process.eventLoop.delay', 'process.eventLoop.max', 'machine.cpu', 'machine.load1', 'machine.memory.used',
    'synthetic.sine', 'synthetic.square', 'synthetic.sawtooth', 'synthetic.noise', 'synthetic.chirp', 'synthetic.heartbeat',
    'synthetic.sensor01', 'synthetic.sensor02',
  ];
  const page = await (await newPerson(browser, 1100)).newPage();
  await openDashboard(page, `?series=${ids.join(',')}`);
  await page.waitForSelector('#error:not([hidden])', { timeout: WAIT_MS });
  assert.match((await page.textContent('#error'))!, /^TOO_MANY_CHANNELS: /);
  await page.waitForFunction((n) => document.querySelectorAll('#charts .chart').length === n, LIMITS.maxSelected, { timeout: WAIT_MS });
  assert.deepEqual(await charted(page), ids.slice(0, LIMITS.maxSelected));
  await chartGrows(page, 'synthetic.heartbeat', 10);
  assert.equal(await page.textContent('#selected-count'), `${LIMITS.maxSelected} / ${LIMITS.maxSelected}`);
  await page.context().close();
});
