/**
 * The arena in Chromium: two players in two browser contexts join one arena; one moves with the
 * keyboard and the other sees it move; the corner shows the tick and the round-trip time; a page
 * joining mid-game sees everyone; a page whose connection drops says so, and fullduplex/client
 * brings it back as a new player. Screenshots: test-artifacts/game/.
 */
import { after, before, it } from 'node:test';
import type { Duplex } from 'node:stream';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { createDemo } from '../../../../apps/game/server.js';
import { hostDemo, type DemoHost } from '../../support/demo-host.js';
import { launchBrowser, newPerson, screenshot } from '../../demo-browser.js';
import { joinArena, moveAway, shownAt } from '../game-page.js';

/** The page's DOM as the functions run inside Chromium see it (the project compiles without the DOM lib). */
declare const document: { body: any; getElementById(id: string): any; querySelector(selector: string): any; querySelectorAll(selector: string): any[] & { length: number } };

const WAIT_MS = 15_000;
let host: DemoHost;
let browser: Browser;

before(async () => {
  host = await hostDemo('game', createDemo);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await host?.close();
});

it('two players in two contexts: one moves with the keyboard, the other sees it move', { timeout: 60_000 }, async () => {
  const ada = await (await newPerson(browser, 1100)).newPage();
  const bob = await (await newPerson(browser, 1100)).newPage();
  const adaId = await joinArena(ada, host.pageUrl);
  const bobId = await joinArena(bob, host.pageUrl);
  assert.notEqual(adaId, bobId);
  await bob.waitForSelector(`#roster li[data-id="${adaId}"]`, { timeout: WAIT_MS });
  await ada.waitForSelector(`#roster li[data-id="${bobId}"]`, { timeout: WAIT_MS });

  const before = (await shownAt(bob, adaId))!;
  const key = before.x < 480 ? 'ArrowRight' : 'ArrowLeft';
  await moveAway(ada, adaId, key, before.x, 60);
  // Ada's own page moved at once (prediction); Bob's follows from the server's states.
  const ownView = (await shownAt(ada, adaId))!;
  assert.ok(Math.abs(ownView.x - before.x) > 50, `ada's page shows her at ${ownView.x}, from ${before.x}`);
  await bob.waitForFunction(
    ({ id, from }) => {
      const item = document.querySelector(`#roster li[data-id="${id}"]`);
      return item !== null && Math.abs(Number(item.getAttribute('data-x')) - from) > 50;
    },
    { id: adaId, from: before.x },
    { timeout: WAIT_MS },
  );
  // Both end where the server put her: prediction and reconciliation agree.
  await ada.waitForFunction(() => document.getElementById('pending').textContent === '0', undefined, { timeout: WAIT_MS });
  await bob.waitForTimeout(300);
  const [finalAda, finalBob] = [(await shownAt(ada, adaId))!, (await shownAt(bob, adaId))!];
  assert.ok(Math.abs(finalAda.x - finalBob.x) <= 1 && Math.abs(finalAda.y - finalBob.y) <= 1, `ada sees ${JSON.stringify(finalAda)}, bob ${JSON.stringify(finalBob)}`);

  // The corner shows the server tick (rising) and a round-trip time.
  const tick1 = Number(await bob.textContent('#tick'));
  await bob.waitForTimeout(200);
  assert.ok(Number(await bob.textContent('#tick')) > tick1);
  await bob.waitForFunction(() => /^\d+ ms$/.test(document.getElementById('rtt').textContent ?? ''), undefined, { timeout: WAIT_MS });
  assert.equal(await bob.textContent('#players'), '2');

  // A third player joins mid-game and sees both where they are.
  const cat = await (await newPerson(browser, 1100)).newPage();
  await joinArena(cat, host.pageUrl);
  await cat.waitForFunction(() => document.getElementById('players').textContent === '3', undefined, { timeout: WAIT_MS });
  const catSees = (await shownAt(cat, adaId))!;
  assert.ok(Math.abs(catSees.x - finalBob.x) <= 1);
  await screenshot(ada, 'game', 'ada');
  await screenshot(bob, 'game', 'bob');
  await cat.context().close();

  // A player that leaves disappears from the others.
  await ada.context().close();
  await bob.waitForFunction((id) => !document.querySelector(`#roster li[data-id="${id}"]`), adaId, { timeout: WAIT_MS });
  await bob.context().close();
});

it('a player on a touch screen moves towards where the finger is', { timeout: 60_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 760 }, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  const id = await joinArena(page, host.pageUrl);
  await page.waitForSelector(`#roster li[data-id="${id}"]`, { timeout: WAIT_MS });
  const start = (await shownAt(page, id))!;
  // The finger goes down on the far side of the arena and stays there until the player moved.
  const towardsRight = start.x < 480;
  await page.evaluate((towardsRight) => {
    const canvas = document.getElementById('arena');
    const rect = canvas.getBoundingClientRect();
    const clientX = towardsRight ? rect.right - 2 : rect.left + 2;
    const touch = new (globalThis as any).Touch({ identifier: 1, target: canvas, clientX, clientY: rect.top + rect.height / 2 });
    canvas.dispatchEvent(new (globalThis as any).TouchEvent('touchstart', { touches: [touch], cancelable: true, bubbles: true }));
  }, towardsRight);
  await page.waitForFunction(
    ({ id, x, towardsRight }) => {
      const shown = Number(document.querySelector(`#roster li[data-id="${id}"]`)?.dataset.x ?? x);
      return towardsRight ? shown > x + 60 : shown < x - 60;
    },
    { id, x: start.x, towardsRight },
    { timeout: WAIT_MS },
  );
  await page.evaluate(() => document.getElementById('arena').dispatchEvent(new (globalThis as any).TouchEvent('touchend', { touches: [], bubbles: true })));
  await screenshot(page, 'game', 'touch-390px');
  await context.close();
});

it('a page whose connection drops shows it, keeps retrying while the server refuses, and comes back as a new player', { timeout: 60_000 }, async () => {
  const sockets = new Set<Duplex>();
  const track = (_req: unknown, socket: Duplex) => sockets.add(socket);
  host.server.on('upgrade', track);
  after(() => host.server.off('upgrade', track));
  const page = await (await newPerson(browser, 1100)).newPage();
  const before = await joinArena(page, host.pageUrl);
  const handleUpgrade = host.demo.handleUpgrade;
  try {
    host.demo.handleUpgrade = () => false; // every new attempt gets 404 until restored
    for (const socket of sockets) socket.destroy(); // the network drops, no close frame
    // State and text read together: the next attempt may change both right after.
    const shown = await page.waitForFunction(
      () => {
        const el = document.getElementById('connection')!;
        return el.dataset.state === 'closed' ? { text: el.textContent, me: document.getElementById('me')!.textContent } : null;
      },
      undefined,
      { timeout: WAIT_MS },
    );
    const { text, me } = (await shown.jsonValue()) as { text: string; me: string };
    assert.equal(text, 'reconnecting…');
    assert.equal(me, '–');
    // No stale arena: no players, no tick, no round trip while it is not connected.
    await page.waitForFunction(
      () => document.querySelectorAll('#roster li').length === 0 && document.getElementById('tick').textContent === '–' && document.getElementById('rtt').textContent === '–',
      undefined,
      { timeout: WAIT_MS },
    );
    await screenshot(page, 'game', 'reconnecting');
  } finally {
    host.demo.handleUpgrade = handleUpgrade;
  }
  // No reload: the client reconnects by itself (its backoff) and the server welcomes a new player.
  await page.waitForSelector('#connection[data-state="open"]', { timeout: WAIT_MS });
  await page.waitForFunction((old) => /^you are #\d+$/.test(document.getElementById('me').textContent ?? '') && document.getElementById('me').textContent !== `you are #${old}`, before, { timeout: WAIT_MS });
  const now = Number((await page.textContent('#me'))!.replace(/\D/g, ''));
  await page.waitForSelector(`#roster li[data-id="${now}"]`, { timeout: WAIT_MS });
  assert.equal(await page.$(`#roster li[data-id="${before}"]`), null, 'the old player is gone');
  await page.context().close();
});
