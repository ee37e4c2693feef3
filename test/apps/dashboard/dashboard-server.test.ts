/**
 * The dashboard's server (apps/dashboard/server.ts) mounted on a plain HTTP server, driven by
 * pages in Node speaking fdx.v1: the catalog in the welcome, 20 Hz samples on each series'
 * channel with compression on, a page's selection as its subscriptions, the `latest` policy under
 * "simulate slow client" keeping the server's buffer bounded, bad input answered with the
 * real-time layer's codes without disturbing the other pages, and a page that was offline
 * recovering the samples it missed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDemo, DEFAULT_SELECTION, LIMITS } from '../../../apps/dashboard/server.js';
import { hostDemo, type DemoHost } from '../support/demo-host.js';
import { DashboardClient, dropAndRecover, type CatalogEntry } from './dashboard-client.js';

let host: DemoHost;
let url: string;

before(async () => {
  host = await hostDemo('dashboard', createDemo);
  url = `${host.wsBase}rt`;
});
after(() => host.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('dashboard server', () => {
  it('serves the page, its bundle with uPlot and the real-time client, and uPlot\'s stylesheet', async () => {
    const page = await fetch(host.pageUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Simulate slow client/);
    const script = await (await fetch(`${host.pageUrl}app.js`)).text();
    assert.match(script, /uPlot|uplot/);
    assert.match(script, /fdx\.v1/, 'fullduplex/client is bundled');
    assert.equal((await fetch(`${host.pageUrl}uplot.css`)).status, 200);
    assert.equal((await fetch(`${host.pageUrl}nope.js`)).status, 404);
  });

  it('welcomes a page with forty series, each on its own channel, and streams a subscribed one at 20 Hz, compressed', async () => {
    const page = await DashboardClient.open(url);
    after(() => page.close());
    assert.match(page.ws.extensions, /permessage-deflate/);
    const { series, defaults, hz } = page.welcome;
    assert.equal(hz, 20);
    assert.ok(series.length >= 40, `${series.length} series`);
    assert.deepEqual([...new Set(series.map((info: CatalogEntry) => info.group))].sort(), ['machine', 'process', 'synthetic']);
    assert.equal(new Set(series.map((info: CatalogEntry) => info.channel)).size, series.length, 'one channel per series');
    assert.deepEqual(defaults, DEFAULT_SELECTION);
    const sine = page.entry('synthetic.sine').channel;
    assert.deepEqual((await page.subscribe(sine)).error, undefined);
    await page.until(() => page.pubs(sine).length > 0, 'the first sample');
    const before = page.pubs(sine).length;
    await sleep(1000);
    const pubs = page.pubs(sine);
    // 20 nominal; a loaded machine delays timers, so the bound is loose.
    assert.ok(pubs.length - before >= 10 && pubs.length - before <= 22, `${pubs.length - before} samples in one second`);
    assert.ok(pubs.every((pub) => pub.binary === true), 'binary publications');
    const { t, v } = pubs.at(-1)!.data;
    assert.ok(Math.abs(Date.now() - t) < 5000 && Math.abs(v) <= 1, `a recent sine sample: ${JSON.stringify(pubs.at(-1)!.data)}`);
    const offsets = pubs.map((pub) => Number(pub.offset));
    assert.ok(offsets.every((offset, i) => i === 0 || offset === offsets[i - 1]! + 1), 'consecutive offsets');
  });

  it('streams each page the series it subscribed to, and nothing else', async () => {
    const ada = await DashboardClient.open(url);
    const bob = await DashboardClient.open(url);
    after(() => { ada.close(); bob.close(); });
    const [sine, load, rss] = ['synthetic.sine', 'machine.load1', 'process.memory.rss'].map((id) => ada.entry(id).channel);
    await ada.subscribe(sine!);
    await ada.subscribe(load!);
    await bob.subscribe(rss!);
    await ada.until(() => ada.pubs(sine!).length >= 3 && ada.pubs(load!).length >= 3, 'ada\'s series');
    await bob.until(() => bob.pubs(rss!).length >= 3, 'bob\'s series');
    assert.ok(bob.pubs(rss!).at(-1)!.data.v > 10, 'an RSS in MiB');
    assert.deepEqual(new Set(ada.messages.filter((m) => m.type === 'pub').map((m) => m.channel)), new Set([sine, load]));
    assert.deepEqual(new Set(bob.messages.filter((m) => m.type === 'pub').map((m) => m.channel)), new Set([rss]));
    // Unsubscribed, a series stops.
    await ada.request({ type: 'unsubscribe', channel: load });
    const count = ada.pubs(load!).length;
    await sleep(300);
    assert.equal(ada.pubs(load!).length, count);
  });

  it('"simulate slow client": the latest policy replaces samples and the server never buffers past its limit plus one sample per series', async () => {
    const slow = await DashboardClient.open(url);
    const calm = await DashboardClient.open(url);
    after(() => { slow.close(); calm.close(); });
    const many = slow.catalog().slice(0, LIMITS.maxSelected).map((info) => info.channel);
    for (const channel of many) assert.equal((await slow.subscribe(channel)).error, undefined);
    const calmChannel = many[0]!;
    await calm.subscribe(calmChannel);
    assert.deepEqual((await slow.request({ type: 'event', event: 'slow', data: { on: true } })).result, { on: true });
    const calmBefore = calm.pubs(calmChannel).length;
    await sleep(LIMITS.slowReleaseMs * 2 + 500);
    // The page got bursts with gaps (replaced samples never arrive), never a backlog.
    const skipped = () => {
      const offsets = slow.pubs(many[1]!).map((m) => Number(m.offset));
      return offsets.some((offset, i) => i > 0 && offset > offsets[i - 1]! + 1);
    };
    await slow.until(() => skipped() && slow.events('stats').at(-1)?.slow === true, 'replaced samples');
    const stats = slow.events('stats').at(-1);
    const largest = Math.max(...slow.messages.filter((m) => m.type === 'pub').map((m) => JSON.stringify(m).length)); // more than the binary frame
    assert.ok(stats.maxBuffered > 0, 'bytes waited');
    assert.ok(stats.maxBuffered <= LIMITS.maxBackpressure + largest + 16, `the server buffered up to ${stats.maxBuffered} bytes`);
    // Bursts of at most one sample per series and release, not all twenty of each.
    const received = slow.pubs(many[1]!).length;
    assert.ok(received < 20 * 2 * 2, `${received} samples of one series in about two releases`);
    assert.ok(calm.pubs(calmChannel).length - calmBefore >= 40, 'the other page kept streaming at full rate');
    assert.deepEqual((await slow.request({ type: 'event', event: 'slow', data: { on: false } })).result, { on: false });
    const after1 = slow.pubs(many[1]!).length;
    await sleep(1000);
    assert.ok(slow.pubs(many[1]!).length - after1 >= 10, 'full rate again');
  });

  it('answers bad subscriptions, events and messages with the layer\'s codes, and keeps the page\'s selection', async () => {
    const page = await DashboardClient.open(url);
    after(() => page.close());
    const sine = page.entry('synthetic.sine').channel;
    await page.subscribe(sine);
    const code = async (message: object) => (await page.request(message)).error?.code;
    assert.equal(await code({ type: 'subscribe', channel: `${sine}x` }), 'CHANNEL_FORBIDDEN');
    assert.equal(await code({ type: 'subscribe', channel: 'dashboard.peers' }), 'CHANNEL_FORBIDDEN');
    assert.equal(await code({ type: 'subscribe', channel: 'no such channel!' }), 'CHANNEL_INVALID');
    assert.equal(await code({ type: 'publish', channel: sine, data: 'a sample' }), 'CHANNEL_FORBIDDEN');
    assert.equal(await code({ type: 'event', event: 'slow', data: { on: 'yes' } }), 'INVALID_PAYLOAD');
    assert.equal(await code({ type: 'event', event: 'reboot', data: null }), 'UNKNOWN_EVENT');
    const others = page.catalog().map((info) => info.channel).filter((channel) => channel !== sine);
    for (const channel of others.slice(0, LIMITS.maxSelected - 1)) assert.equal((await page.subscribe(channel)).error, undefined);
    assert.equal(await code({ type: 'subscribe', channel: others.at(-1) }), 'TOO_MANY_CHANNELS');
    page.send('{oops');
    page.ws.send(Buffer.from([1, 2, 3]));
    await page.until(() => page.messages.filter((m) => m.type === 'error').length === 2, 'two error pushes');
    assert.deepEqual(page.messages.filter((m) => m.type === 'error').map((m) => m.code), ['BAD_JSON', 'BAD_MESSAGE']);
    const count = page.pubs(sine).length;
    await page.until(() => page.pubs(sine).length > count + 2, 'the sine streaming on');
    assert.equal(page.closed, null);
  });

  it('answers MESSAGE_TOO_LARGE, closes an oversize frame with 1009, an event flood with 4001 and a subscribe flood with 1008, while another page streams on', async () => {
    const calm = await DashboardClient.open(url);
    const big = await DashboardClient.open(url);
    const events = await DashboardClient.open(url);
    const subscribes = await DashboardClient.open(url);
    after(() => { calm.close(); big.close(); events.close(); subscribes.close(); });
    const sine = calm.entry('synthetic.sine').channel;
    await calm.subscribe(sine);
    const large = await big.request({ type: 'event', event: 'slow', data: { on: true, pad: 'x'.repeat(LIMITS.maxMessageBytes) } });
    assert.equal(large.error?.code, 'MESSAGE_TOO_LARGE');
    big.send({ type: 'event', event: 'slow', data: { pad: 'x'.repeat(LIMITS.maxPayload) } });
    await big.until(() => big.closed !== null, 'the oversize close');
    assert.equal(big.closed!.code, 1009);
    for (let i = 0; i < 100; i++) events.post({ type: 'event', event: 'slow', data: { on: false } });
    await events.until(() => events.closed !== null, 'the event flood close');
    assert.equal(events.closed!.code, 4001);
    assert.ok(events.messages.some((m) => m.type === 'reply' && m.error?.code === 'RATE_LIMITED'), 'refused before being closed');
    for (let i = 0; i < 100; i++) subscribes.post({ type: 'subscribe', channel: sine });
    await subscribes.until(() => subscribes.closed !== null, 'the subscribe flood close');
    assert.equal(subscribes.closed!.code, 1008);
    const before = calm.pubs(sine).length;
    await sleep(300);
    assert.ok(calm.pubs(sine).length > before);
    assert.equal(calm.closed, null);
  });

  it('a page on fullduplex/client that loses its connection reconnects and recovers every sample it missed', async () => {
    const { offsets, recoveries } = await dropAndRecover(url, (series) => series.find((info) => info.id === 'synthetic.sawtooth')!.channel);
    assert.equal(recoveries.length, 2, 'subscribed, then resubscribed');
    assert.equal(recoveries[1], true, 'recovered');
    assert.ok(offsets.every((offset, i) => i === 0 || offset === offsets[i - 1]! + 1), 'no sample missing or twice');
  });
});
