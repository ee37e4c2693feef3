/**
 * The arena as two processes sharing a Redis (a private redis-server on a free port): a player
 * on each, in two browser contexts; each sees the other, and the one on process B sees the
 * player of process A move. Screenshot: test-artifacts/game/.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { newPerson, screenshot } from '../../demo-browser.js';
import { startTwoProcesses, type TwoProcesses } from '../../support/two-processes.js';
import { joinArena, moveAway } from '../game-page.js';

/** The page's DOM as the functions run inside Chromium see it (the project compiles without the DOM lib). */
declare const document: { querySelectorAll(selector: string): any[] & { length: number }; getElementById(id: string): any };

const WAIT_MS = 20_000;
let run: TwoProcesses;

before(async () => {
  run = await startTwoProcesses('game');
});
after(() => run?.stop());

/** The other process's player as `page` shows it: the one roster entry with a relayed id (0x8000 and up). */
const REMOTE = (ids: number[]) => ids.find((id) => id >= 0x8000);

it('players on two processes see each other, and one sees the other move', { timeout: 90_000 }, async () => {
  const ada = await (await newPerson(run.browser, 1100)).newPage();
  const bob = await (await newPerson(run.browser, 1100)).newPage();
  const adaId = await joinArena(ada, run.urlA);
  await joinArena(bob, run.urlB);
  await bob.waitForFunction(() => document.getElementById('players').textContent === '2', undefined, { timeout: WAIT_MS });
  await ada.waitForFunction(() => document.getElementById('players').textContent === '2', undefined, { timeout: WAIT_MS });
  const ids = await bob.$$eval('#roster li', (items) => items.map((item) => Number((item as any).dataset.id)));
  const adaOnBob = REMOTE(ids)!;
  assert.ok(adaOnBob !== undefined, `bob's roster: ${ids}`);
  const from = Number(await bob.getAttribute(`#roster li[data-id="${adaOnBob}"]`, 'data-x'));
  const key = from < 480 ? 'ArrowRight' : 'ArrowLeft';
  await moveAway(ada, adaId, key, from, 60);
  const rosters = async () => `ada shows ${await ada.textContent('#roster')}; bob shows ${await bob.textContent('#roster')}`;
  await bob
    .waitForFunction(
      ({ id, from }) => [...document.querySelectorAll(`#roster li[data-id="${id}"]`)].some((item) => Math.abs(Number(item.dataset.x) - from) > 50),
      { id: adaOnBob, from },
      { timeout: WAIT_MS },
    )
    .catch(async (error: Error) => assert.fail(`${error.message}; from x ${from}; ${await rosters()}`));
  await screenshot(bob, 'game', 'redis-other-process');
  await ada.context().close();
  await bob.waitForFunction(() => document.getElementById('players').textContent === '1', undefined, { timeout: WAIT_MS });
  await bob.context().close();
});
