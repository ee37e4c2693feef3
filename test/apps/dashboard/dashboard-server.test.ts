/**
 * The dashboard's server (apps/dashboard/server.ts) mounted on a plain HTTP server, driven by
 * pages in Node speaking its JSON messages: the catalog, 20 Hz samples of the chosen series with
 * compression on, the `latest` policy under "simulate slow client" keeping the server's buffer
 * bounded, and bad input refused without disturbing the other pages.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDemo, DEFAULT_SELECTION, LIMITS } from '../../../apps/dashboard/server.js';
import { hostDemo, type DemoHost } from '../support/demo-host.js';
import { DashboardClient } from './dashboard-client.js';

let host: DemoHost;
let url: string;

before(async () => {
  host = await hostDemo('dashboard', createDemo);
  url = `${host.wsBase}ws`;
});
after(() => host.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('dashboard server', () => {
  it('serves the page, its bundle with uPlot, and uPlot\'s stylesheet', async () => {
    const page = await fetch(host.pageUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Simulate slow client/);
    const script = await (await fetch(`${host.pageUrl}app.js`)).text();
    assert.match(script, /uPlot|uplot/);
    assert.equal((await fetch(`${host.pageUrl}uplot.css`)).status, 200);
    assert.equal((await fetch(`${host.pageUrl}nope.js`)).status, 404);
  });

  it('lists forty series, streams the default ones at 20 Hz, compressed', async () => {
    const page = await DashboardClient.open(url);
    after(() => page.close());
    assert.match(page.ws.extensions, /permessage-deflate/);
    const catalog = page.last('catalog')!;
    assert.ok(catalog.series.length >= 40, `${catalog.series.length} series`);
    const groups = new Set(catalog.series.map((info: { group: string }) => info.group));
    assert.deepEqual([...groups].sort(), ['machine', 'process', 'synthetic']);
    assert.deepEqual(page.last('selected')!.series, DEFAULT_SELECTION);
    const before = page.of('samples').length;
    await sleep(1000);
    const samples = page.of('samples');
    // 20 nominal; a loaded machine delays timers, so the bound is loose.
    assert.ok(samples.length - before >= 10 && samples.length - before <= 22, `${samples.length - before} frames in one second`);
    const last = samples.at(-1)!;
    assert.equal(last.values.length, DEFAULT_SELECTION.length);
    assert.ok(last.values.every((value: unknown) => typeof value === 'number' && Number.isFinite(value)));
  });

  it('streams each page the series it chose', async () => {
    const ada = await DashboardClient.open(url);
    const bob = await DashboardClient.open(url);
    after(() => { ada.close(); bob.close(); });
    ada.send({ type: 'select', series: ['synthetic.sine', 'machine.load1'] });
    bob.send({ type: 'select', series: ['process.memory.rss'] });
    await ada.until(() => ada.last('samples')?.version === ada.last('selected')?.version && ada.last('selected')!.series.length === 2, 'ada\'s series');
    await bob.until(() => bob.last('samples')?.version === bob.last('selected')?.version && bob.last('selected')!.series.length === 1, 'bob\'s series');
    assert.equal(ada.last('samples')!.values.length, 2);
    assert.ok(Math.abs(ada.last('samples')!.values[0]) <= 1, 'a sine');
    assert.equal(bob.last('samples')!.values.length, 1);
    assert.ok(bob.last('samples')!.values[0] > 10, 'an RSS in MiB');
  });

  it('"simulate slow client": the latest policy replaces frames and the server never buffers past its limit plus one frame', async () => {
    const slow = await DashboardClient.open(url);
    const calm = await DashboardClient.open(url);
    after(() => { slow.close(); calm.close(); });
    const many = slow.last('catalog')!.series.slice(0, LIMITS.maxSelected).map((info: { id: string }) => info.id);
    slow.send({ type: 'select', series: many });
    await slow.until(() => slow.last('selected')!.series.length === LIMITS.maxSelected, 'the selection');
    slow.send({ type: 'slow', on: true });
    await slow.until(() => slow.last('slow')?.on === true, 'the toggle');
    const calmBefore = calm.of('samples').length;
    await sleep(LIMITS.slowReleaseMs * 2 + 500);
    await slow.until(() => (slow.last('stats')?.replaced ?? 0) > 0 && slow.last('stats')!.slow === true, 'replaced frames');
    const stats = slow.last('stats')!;
    const largest = Math.max(...slow.of('samples').map((m) => JSON.stringify(m).length));
    assert.ok(stats.maxBuffered <= LIMITS.maxBackpressure + largest + 64, `the server buffered up to ${stats.maxBuffered} bytes`);
    // The page got bursts with gaps (replaced frames never arrive), never a backlog: the newest
    // frame it holds is recent.
    const seqs = slow.of('samples').map((m) => m.seq as number);
    assert.ok(seqs.some((seq, i) => i > 0 && seq > seqs[i - 1]! + 1), 'frames were skipped');
    assert.ok(calm.of('samples').length - calmBefore >= 40, 'the other page kept streaming at full rate');
    slow.send({ type: 'slow', on: false });
    await slow.until(() => slow.last('slow')?.on === false, 'the toggle off');
    const after1 = slow.of('samples').length;
    await sleep(1000);
    assert.ok(slow.of('samples').length - after1 >= 10, 'full rate again');
  });

  it('refuses unknown series, bad JSON, binary frames and too many series with an error, and leaves the selection', async () => {
    const page = await DashboardClient.open(url);
    after(() => page.close());
    const errors = () => page.of('error').map((m) => m.code);
    page.send({ type: 'select', series: ['process.cpu.user', 'no.such.series'] });
    page.send('{oops');
    page.ws.send(Buffer.from([1, 2, 3]));
    page.send({ type: 'select', series: page.last('catalog')!.series.map((info: { id: string }) => info.id) });
    page.send({ type: 'reboot' });
    await page.until(() => errors().length === 5, 'five refusals');
    assert.deepEqual(errors(), ['unknown-series', 'bad-json', 'binary-not-accepted', 'too-many-series', 'unknown-type']);
    assert.deepEqual(page.last('selected')!.series, DEFAULT_SELECTION);
    assert.equal(page.closed, null);
  });

  it('closes an oversize message with 1009 and a flood with 1008, while another page streams on', async () => {
    const calm = await DashboardClient.open(url);
    const big = await DashboardClient.open(url);
    const flood = await DashboardClient.open(url);
    after(() => { calm.close(); big.close(); flood.close(); });
    big.send({ type: 'select', series: ['x'.repeat(LIMITS.maxPayload)] });
    await big.until(() => big.closed !== null, 'the oversize close');
    assert.equal(big.closed!.code, 1009);
    for (let i = 0; i < 100; i++) flood.send({ type: 'slow', on: false });
    await flood.until(() => flood.closed !== null, 'the flood close');
    assert.equal(flood.closed!.code, 1008);
    assert.ok(flood.of('error').some((m) => m.code === 'rate-limited'), 'refused before being closed');
    const before = calm.of('samples').length;
    await sleep(300);
    assert.ok(calm.of('samples').length > before);
    assert.equal(calm.closed, null);
  });
});
