/**
 * The editor demo as two processes sharing one Redis: a document edited through either process
 * is one document (changes and awareness relayed through fullduplex's RedisBroker), a browser on
 * each process sees the other's typing, and the document outlives both processes (kept in Redis).
 * Redis: REDIS_URL, default redis://127.0.0.1:6379; every key and channel of this run carries a
 * prefix unique to it, and the keys are deleted afterwards. Children are killed by PID in `after`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { createClient } from 'redis';
import * as Y from 'yjs';
import { RedisDocStore } from '../../../../apps/editor/redis-doc-store.js';
import { startChildServer, stopAllChildren, type ChildServer } from '../../../support/child-server.js';
import { NodeEditor, waitUntil } from '../editor-host.js';
import { launchBrowser, openEditor, screenshot, shownPeers, typeAtEnd, waitForShown } from '../editor-page.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `fdx-editor-test-${randomUUID()}:`;

interface EditorProcess {
  child: ChildServer;
  pageUrl: string;
  wsUrl: string;
}

async function startEditorProcess(): Promise<EditorProcess> {
  const child = await startChildServer('test/apps/editor/editor-process.ts', ['--redis', REDIS_URL, '--redis-prefix', PREFIX], /editor listening on (http:\/\/\S+\/)/);
  const pageUrl = child.ready[1]!;
  return { child, pageUrl, wsUrl: `${pageUrl.replace(/^http/, 'ws')}ws` };
}

let a: EditorProcess;
let b: EditorProcess;
let browser: Browser;
const editors: NodeEditor[] = [];

function editor(at: EditorProcess, doc: string, user?: string): NodeEditor {
  const made = new NodeEditor(at.wsUrl, doc, user);
  editors.push(made);
  return made;
}

before(async () => {
  [a, b] = await Promise.all([startEditorProcess(), startEditorProcess()]);
  browser = await launchBrowser();
});

after(async () => {
  for (const made of editors) made.destroy();
  await browser?.close();
  await stopAllChildren();
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  const keys: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `${PREFIX}*` })) keys.push(...batch);
  if (keys.length > 0) await redis.del(keys);
  await redis.close();
});

describe('two editor processes sharing Redis', () => {
  test('y-websocket clients on either process edit one document and see each other', async () => {
    const ada = editor(a, 'shared', 'Ada');
    const bob = editor(b, 'shared', 'Bob');
    await Promise.all([ada.synced(), bob.synced()]);
    ada.text.insert(0, 'via A;');
    await bob.waitForText('via A;');
    bob.text.insert(bob.text.length, ' via B');
    assert.equal(await ada.waitForText('via A; via B'), 'via A; via B');
    await waitUntil(() => ada.peers().includes('Bob') && bob.peers().includes('Ada'), 'awareness crossed the processes');
    // A client arriving later at either process gets the whole document.
    const late = editor(b, 'shared');
    assert.equal(await late.waitForText('via A; via B'), 'via A; via B');
  });

  test('a browser on each process: typing converges, and each lists the other', async (t) => {
    const ada = await openEditor(browser, a.pageUrl, 'browsers', 'Ada');
    const bob = await openEditor(browser, b.pageUrl, 'browsers', 'Bob');
    try {
      await typeAtEnd(ada, 'Ada on A.');
      await waitForShown(bob, (text) => text === 'Ada on A.', "Ada's text");
      await typeAtEnd(bob, ' Bob on B.');
      const expected = 'Ada on A. Bob on B.';
      assert.equal(await waitForShown(ada, (text) => text === expected, "Bob's text"), expected);
      await ada.waitForSelector('#peers .peer .name:text-is("Bob")');
      assert.deepEqual(await shownPeers(bob).then((names) => names.includes('Ada')), true);
      t.diagnostic(`screenshot: ${await screenshot(bob, 'redis-two-processes-bob.png')}`);
    } finally {
      await ada.context().close();
      await bob.context().close();
    }
  });

  test('a document outlives both processes: a new process serves it from Redis', async () => {
    const writer = editor(a, 'durable');
    await writer.synced();
    writer.text.insert(0, 'stored in redis');
    const check = editor(b, 'durable');
    await check.waitForText('stored in redis');
    await a.child.stop('SIGTERM');
    await b.child.stop('SIGTERM');
    const c = await startEditorProcess();
    const reader = editor(c, 'durable');
    assert.equal(await reader.waitForText('stored in redis'), 'stored in redis');
  });
});

describe('RedisDocStore', () => {
  test('merges a long list of updates into one, and loading still rebuilds the same document', async () => {
    const keyPrefix = `${PREFIX}store:`;
    const store = await RedisDocStore.open({ url: REDIS_URL, keyPrefix, maxUpdates: 10 });
    const doc = new Y.Doc();
    const text = doc.getText('codemirror');
    doc.on('update', (update: Uint8Array) => store.record('merged', update, () => Y.encodeStateAsUpdate(doc)));
    for (let i = 0; i < 35; i++) text.insert(text.length, `${i},`);
    await store.flush('merged');
    const stored = await store.load('merged');
    assert.ok(stored.length <= 10, `the list was merged (${stored.length} entries)`);
    const rebuilt = new Y.Doc();
    for (const update of stored) Y.applyUpdate(rebuilt, update);
    assert.equal(rebuilt.getText('codemirror').toString(), text.toString());
    await store.close();
  });
});
