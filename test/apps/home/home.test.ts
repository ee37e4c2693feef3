/**
 * The home server of `npm start` (apps/server.ts): its page in Chromium lists every demo that
 * exists with its summary and links; the program run as a child process says one line and
 * exits 1 on a taken port, and drains on SIGTERM (its clients get 1001, it exits 0); the
 * pretest step names missing Debian packages in one line when it cannot install them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { DEMO_NAMES } from '../../../apps/server.js';
import { startChildServer, stopAllChildren } from '../../support/child-server.js';
import { ChatClient, waitUntil } from '../chat/chat-client.js';
import { startDemoHome, type DemoHome } from '../demo-home.js';
import { launchBrowser, newPerson, screenshot } from '../demo-browser.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const present = DEMO_NAMES.filter((name) => existsSync(path.join(ROOT, 'apps', name, 'server.ts')));

let home: DemoHome;
let browser: Browser;

before(async () => {
  home = await startDemoHome([...DEMO_NAMES]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await home?.stop();
  await stopAllChildren();
});

describe('the home page', () => {
  test('lists every demo present with its summary, a link to it and to its source; each link answers', async (t) => {
    const page = await (await newPerson(browser)).newPage();
    try {
      await page.goto(home.url);
      const cards = await page.$$eval('#demos .demo', (items) =>
        items.map((item) => ({
          name: item.getAttribute('data-demo'),
          summary: item.querySelector('p')?.textContent ?? '',
          open: item.querySelector('a.open')?.getAttribute('href'),
          source: item.querySelector('a.source')?.getAttribute('href'),
        })),
      );
      assert.deepEqual(cards.map((card) => card.name), present);
      for (const card of cards) {
        assert.ok(card.summary.length > 80, `${card.name} has a paragraph`);
        assert.equal(card.open, `/${card.name}/`);
        assert.equal(card.source, `/source/${card.name}/`);
      }
      const absent = await page.$$eval('#demos .absent', (items) => items.map((item) => item.getAttribute('data-demo')));
      assert.deepEqual(absent, DEMO_NAMES.filter((name) => !present.includes(name)));
      t.diagnostic(`screenshot: ${await screenshot(page, 'home', 'home')}`);

      await page.click('#demos .demo[data-demo="chat"] a.source');
      await page.waitForSelector('a[href="server.ts"]');
      const source = await fetch(`${home.url}source/chat/server.ts`);
      assert.equal(source.status, 200);
      assert.match(await source.text(), /export const createDemo/);
      for (const [pathname, status] of [
        ['chat', 301],
        ['chat/', 200],
        ['nowhere/', 404],
        ['source/chat/../server.ts', 404],
        ['source/nowhere/', 404],
      ] as const) {
        const res = await fetch(`${home.url}${pathname}`, { redirect: 'manual' });
        assert.equal(res.status, status, pathname);
        await res.arrayBuffer();
      }
    } finally {
      await page.context().close();
    }
  });
});

describe('npm start as a process', () => {
  test('a taken port is one line on stderr and exit code 1, no stack', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'fdx-home-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server.ts', '--port', String(port), '--data', dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 1);
      assert.equal(stdout, '');
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.match(stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is taken`));
      assert.doesNotMatch(stderr, /\bat \S+:\d+/, 'no stack trace');
    } finally {
      blocker.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a Redis that does not answer is one line and exit code 1, not a process that hangs', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'fdx-home-'));
    try {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'apps/server.ts', '--port', '0', '--redis', 'redis://127.0.0.1:1', '--data', dataDir], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      assert.equal(result.status, 1);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('SIGTERM drains: clients are closed with 1001, history is written, the process exits 0', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'fdx-home-'));
    try {
      const child = await startChildServer('apps/server.ts', ['--port', '0', '--data', dataDir], /fullduplex demos on (http:\/\/\S+\/)/);
      const chatUrl = `${child.ready[1]}chat/`;
      const ada = await ChatClient.connect(chatUrl, 'Ada', ['general']);
      const closes: number[] = [];
      ada.client.on('offline', (code) => closes.push(code as number));
      await ada.send('general', 'kept across the stop');
      await child.stop('SIGTERM');
      assert.match(child.output(), /SIGTERM: closing the demos\nstopped\n/);
      await waitUntil(() => closes.length > 0, 'Ada told of the close');
      assert.equal(closes[0], 1001);
      ada.close();
      const stored = JSON.parse(await readFile(path.join(dataDir, 'chat', 'history.json'), 'utf8'));
      assert.equal(stored.general.at(-1).text, 'kept across the stop');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('pretest', () => {
  test('without apt-get and the tools on PATH it stops at once with one line naming the packages', () => {
    const result = spawnSync(process.execPath, ['scripts/install-test-tools.mjs'], { cwd: ROOT, env: { PATH: '/nonexistent' }, encoding: 'utf8', timeout: 10_000 });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /needs the Debian packages .*redis-server, tmux/);
  });

  test('with everything there it says nothing and exits 0', () => {
    const result = spawnSync(process.execPath, ['scripts/install-test-tools.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
  });
});
