/**
 * The editor demo end to end, one process: the demo on a plain node:http server, Debian's
 * Chromium with two contexts (two users) typing into one document, the stock y-websocket Node
 * client joining a browser, offline edits merging, and a document surviving a restart.
 * Screenshots: test-artifacts/editor/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { NodeEditor, hostEditor, removeDir, waitUntil, type EditorHost } from '../editor-host.js';
import { launchBrowser, openEditor, screenshot, shownPeers, typeAtEnd, waitConnected, waitForShown } from '../editor-page.js';

let at: EditorHost;
let browser: Browser;
const pages: Page[] = [];
const editors: NodeEditor[] = [];

before(async () => {
  at = await hostEditor();
  browser = await launchBrowser();
});

after(async () => {
  for (const editor of editors) editor.destroy();
  await browser?.close();
  await at?.close();
  if (at) await removeDir(at.dataDir);
});

async function open(doc: string, name: string, host: EditorHost = at): Promise<Page> {
  const page = await openEditor(browser, host.pageUrl, doc, name);
  pages.push(page);
  return page;
}

async function closePages(...list: Page[]): Promise<void> {
  for (const page of list) await page.context().close();
}

describe('editor page in Chromium', () => {
  test('two users typing into one document converge, and each sees the other by name and cursor', async (t) => {
    const ada = await open('together', 'Ada');
    const bob = await open('together', 'Bob');
    try {
      await typeAtEnd(ada, 'Hello from Ada.');
      await waitForShown(bob, (text) => text === 'Hello from Ada.', "Ada's line");
      await typeAtEnd(bob, ' Bob was here <b>!</b>');
      const expected = 'Hello from Ada. Bob was here <b>!</b>';
      assert.equal(await waitForShown(ada, (text) => text === expected, "Bob's addition"), expected);
      assert.equal(await waitForShown(bob, (text) => text === expected, 'the same text'), expected);
      // Markup typed is text: nothing of it reached the DOM as an element.
      assert.equal(await ada.$$eval('.cm-content b', (found) => found.length), 0);

      await ada.waitForSelector('#peers .peer .name:text-is("Bob")');
      await bob.waitForSelector('#peers .peer .name:text-is("Ada")');
      assert.deepEqual(await shownPeers(ada), ['Ada (you)', 'Bob']);
      assert.deepEqual(await shownPeers(bob), ['Ada', 'Bob (you)']);
      // The other's cursor is drawn in the text, labelled with their name.
      await ada.waitForSelector('.cm-ySelectionCaret .cm-ySelectionInfo:text-is("Bob")', { state: 'attached' });
      await bob.waitForSelector('.cm-ySelectionCaret .cm-ySelectionInfo:text-is("Ada")', { state: 'attached' });
      t.diagnostic(`screenshots: ${await screenshot(ada, 'two-users-ada.png')}, ${await screenshot(bob, 'two-users-bob.png')}`);

      await closePages(bob);
      await ada.waitForSelector('#peers .peer .name:text-is("Bob")', { state: 'detached' });
    } finally {
      await closePages(ada, bob).catch(() => undefined);
    }
  });

  test('the y-websocket Node client and a browser edit one document together', async () => {
    const page = await open('mixed', 'Ada');
    const node = new NodeEditor(at.wsUrl, 'mixed', 'Node');
    editors.push(node);
    try {
      await node.synced();
      node.text.insert(0, 'from node;');
      await waitForShown(page, (text) => text === 'from node;', 'the Node edit');
      await typeAtEnd(page, ' from the browser');
      assert.equal(await node.waitForText('from node; from the browser'), 'from node; from the browser');
      await page.waitForSelector('#peers .peer .name:text-is("Node")');
      await waitUntil(() => node.peers().includes('Ada'), 'the Node client sees Ada');
    } finally {
      await closePages(page);
    }
  });

  test('edits made while one page is offline merge into both when it goes online', async (t) => {
    const ada = await open('offline', 'Ada');
    const bob = await open('offline', 'Bob');
    try {
      await typeAtEnd(ada, 'start.');
      await waitForShown(bob, (text) => text === 'start.', 'the first line');

      await ada.click('#offline');
      await ada.waitForSelector('#status[data-state="offline"]');
      await typeAtEnd(ada, '\nAda offline');
      await typeAtEnd(bob, '\nBob online');
      await bob.waitForTimeout(200);
      assert.ok(!(await waitForShown(bob, () => true, 'anything')).includes('Ada offline'), 'nothing travelled while offline');
      t.diagnostic(`screenshot: ${await screenshot(ada, 'offline-ada.png')}`);

      await ada.click('#offline');
      await waitConnected(ada);
      const merged = (text: string) => text.startsWith('start.') && text.includes('Ada offline') && text.includes('Bob online');
      const text = await waitForShown(ada, merged, 'both edits merged');
      assert.equal(await waitForShown(bob, (shown) => shown === text, 'the same merged text'), text);
      assert.equal(text.split('\n').length, 3, 'three lines: the start and each edit');
    } finally {
      await closePages(ada, bob);
    }
  });

  test('a document typed in the page is there again after the demo restarts', async () => {
    const first = await hostEditor({ saveDelayMs: 60_000 });
    let second: EditorHost | undefined;
    try {
      const page = await open('restart', 'Ada', first);
      await typeAtEnd(page, 'kept across a restart');
      const node = new NodeEditor(first.wsUrl, 'restart');
      editors.push(node);
      await node.waitForText('kept across a restart');
      // Closing the demo closes the page's connection (1001) and writes the document.
      await first.close();
      second = await hostEditor({ dataDir: first.dataDir, port: first.port });
      // The page's provider reconnects by itself to the restarted demo on the same port.
      await waitConnected(page);
      const reader = await open('restart', 'Bob', second);
      assert.equal(await waitForShown(reader, (text) => text === 'kept across a restart', 'the kept text'), 'kept across a restart');
      assert.equal(await waitForShown(page, (text) => text === 'kept across a restart', 'no doubled text'), 'kept across a restart');
    } finally {
      await second?.close();
      await removeDir(first.dataDir);
    }
  });
});
