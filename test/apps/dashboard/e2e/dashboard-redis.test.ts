/**
 * The dashboard as two processes sharing a Redis (a private redis-server on a free port): each
 * process publishes its own process series, and a page on either charts the other's; when a
 * process dies, the others forget its series. Screenshot: test-artifacts/dashboard/.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { newPerson, screenshot } from '../../demo-browser.js';
import { startTwoProcesses, type TwoProcesses } from '../../support/two-processes.js';

/** The page's DOM as the functions run inside Chromium see it (the project compiles without the DOM lib). */
declare const document: { querySelectorAll(selector: string): any[] & { length: number } };

const WAIT_MS = 20_000;
let run: TwoProcesses;

before(async () => {
  run = await startTwoProcesses('dashboard');
});
after(() => run?.stop());

it('a page on one process charts the other process\'s series, and forgets them when it dies', { timeout: 90_000 }, async () => {
  const onA = await (await newPerson(run.browser, 1100)).newPage();
  const onB = await (await newPerson(run.browser, 1100)).newPage();
  await onA.goto(run.urlA, { timeout: WAIT_MS });
  await onB.goto(run.urlB, { timeout: WAIT_MS });
  const fromA = `peer.${run.a.pid}.process.memory.rss`;
  const fromB = `peer.${run.b.pid}.process.cpu.user`;
  // Each process lists the other's series in its picker and streams them like its own.
  await onB.check(`#picker input[value="${fromA}"]`, { timeout: WAIT_MS });
  await onA.check(`#picker input[value="${fromB}"]`, { timeout: WAIT_MS });
  for (const [page, id] of [[onB, fromA], [onA, fromB]] as const) {
    await page.waitForFunction(
      (id) => [...document.querySelectorAll(`.chart[data-series="${id}"]`)].some((chart) => Number(chart.dataset.points) >= 10),
      id,
      { timeout: WAIT_MS },
    );
  }
  const rss = (await onB.textContent(`.chart[data-series="${fromA}"] .latest`))!;
  assert.match(rss, /^\d+(\.\d+)? MiB$/, `process A's RSS as B shows it: ${rss}`);
  assert.equal(await onB.$(`#picker input[value="peer.${run.b.pid}.process.cpu.user"]`), null, 'a process does not list itself as a peer');
  await screenshot(onB, 'dashboard', 'redis-peer-series');

  await run.a.stop();
  await onB.waitForFunction((id) => document.querySelectorAll(`.chart[data-series="${id}"]`).length === 0, fromA, { timeout: WAIT_MS });
  assert.equal(await onB.$(`#picker input[value="${fromA}"]`), null);
  await onA.context().close();
  await onB.context().close();
});
