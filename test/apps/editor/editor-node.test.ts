/**
 * The editor demo with the stock y-websocket client in Node: documents sync, several documents
 * stay apart, edits made offline merge on reconnect, and documents survive a restart of the
 * demo (its files in the data folder).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { WebSocket } from 'fullduplex';
import { NodeEditor, hostEditor, removeDir, waitUntil, type EditorHost } from './editor-host.js';

const hosts: EditorHost[] = [];
const editors: NodeEditor[] = [];
const dirs: string[] = [];

after(async () => {
  for (const editor of editors) editor.destroy();
  for (const host of hosts) await host.close();
  for (const dir of dirs) await removeDir(dir);
});

async function host(dataDir?: string, saveDelayMs = 50): Promise<EditorHost> {
  const started = await hostEditor({ dataDir, saveDelayMs });
  hosts.push(started);
  if (!dataDir) dirs.push(started.dataDir);
  return started;
}

function editor(at: EditorHost, name: string, user?: string): NodeEditor {
  const made = new NodeEditor(at.wsUrl, name, user);
  editors.push(made);
  return made;
}

describe('editor with the y-websocket Node client', () => {
  test('two clients of one document converge on both edits, and see each other through awareness', async () => {
    const at = await host();
    const ada = editor(at, 'shared', 'Ada');
    const bob = editor(at, 'shared', 'Bob');
    await Promise.all([ada.synced(), bob.synced()]);
    ada.text.insert(0, 'Hello from Ada. ');
    await bob.waitForText('Hello from Ada. ');
    bob.text.insert(bob.text.length, 'Bob says hi ✓');
    assert.equal(await ada.waitForText('Hello from Ada. Bob says hi ✓'), 'Hello from Ada. Bob says hi ✓');
    await waitUntil(() => ada.peers().includes('Bob') && bob.peers().includes('Ada'), 'each sees the other in awareness');
  });

  test('a client joining later gets the whole document, and documents of other names stay apart', async () => {
    const at = await host();
    const first = editor(at, 'alpha');
    await first.synced();
    first.text.insert(0, 'alpha text');
    const other = editor(at, 'beta');
    await other.synced();
    other.text.insert(0, 'beta text');
    const late = editor(at, 'alpha');
    assert.equal(await late.waitForText('alpha text'), 'alpha text');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(first.text.toString(), 'alpha text', 'nothing of beta reached alpha');
  });

  test('edits made while offline on both sides merge when the client reconnects', async () => {
    const at = await host();
    const ada = editor(at, 'offline');
    const bob = editor(at, 'offline');
    await Promise.all([ada.synced(), bob.synced()]);
    ada.text.insert(0, 'line one\n');
    await bob.waitForText('line one\n');

    ada.provider.disconnect();
    ada.text.insert(ada.text.length, 'written offline\n');
    bob.text.insert(0, 'written online\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(!bob.text.toString().includes('offline'), 'the offline edit did not travel while offline');

    ada.provider.connect();
    const both = (text: string) => text.includes('written offline') && text.includes('written online') && text.includes('line one');
    const merged = await ada.waitForText(both);
    assert.equal(await bob.waitForText(merged), merged, 'both sides read the same merged text');
  });

  test('a document survives a restart of the demo: its file is written and read back', async () => {
    // A minute of debounce: only the last editor leaving can have written the file.
    const first = await host(undefined, 60_000);
    const writer = editor(first, 'kept', 'Ada');
    await writer.synced();
    writer.text.insert(0, 'survives a restart');
    await waitUntil(() => first.demo.connections === 1, 'the server holds the connection');
    // The write is debounced (by a minute here); the last editor leaving writes at once.
    writer.destroy();
    await waitUntil(() => first.demo.connections === 0, 'the server saw the client go');
    await first.close();
    hosts.splice(hosts.indexOf(first), 1);
    assert.deepEqual(await readdir(first.dataDir), ['kept.yjs']);

    const second = await host(first.dataDir);
    const reader = editor(second, 'kept');
    assert.equal(await reader.waitForText('survives a restart'), 'survives a restart');
  });

  test('a document is written to its file shortly after a change, without waiting for a close', async () => {
    const at = await host();
    const writer = editor(at, 'debounced');
    await writer.synced();
    writer.text.insert(0, 'saved soon');
    const deadline = Date.now() + 5000;
    let files: string[] = [];
    while (Date.now() < deadline && !(files = await readdir(at.dataDir)).includes('debounced.yjs')) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(files, ['debounced.yjs']);
    // A second demo on a copy of the folder, while the first still runs, reads the saved text.
    const other = await host(at.dataDir);
    const reader = editor(other, 'debounced');
    assert.equal(await reader.waitForText('saved soon'), 'saved soon');
  });

  test('closing the demo closes its connections with 1001 and writes their documents', async () => {
    const at = await host(undefined, 60_000);
    const writer = editor(at, 'closing');
    await writer.synced();
    writer.text.insert(0, 'written on close');
    const raw = new WebSocket(`${at.wsUrl}/closing`);
    await new Promise((resolve) => raw.once('open', resolve));
    await waitUntil(() => at.demo.connections === 2, 'both connections are in');
    // The raw client's first message from the server, sync step 1, carries the state vector:
    // wait until the server has the text by letting a second Node client read it.
    await editor(at, 'closing').waitForText('written on close');
    const code = new Promise<number>((resolve) => raw.once('close', (closeCode) => resolve(closeCode)));
    await at.close();
    hosts.splice(hosts.indexOf(at), 1);
    assert.equal(await code, 1001);
    assert.deepEqual(await readdir(at.dataDir), ['closing.yjs']);
  });
});

describe('editor over HTTP', () => {
  test("serves the page, its style and its bundled script; other paths are not the demo's", async () => {
    const at = await host();
    const page = await fetch(at.pageUrl);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<script type="module" src="app.js">/);
    assert.equal((await fetch(`${at.pageUrl}style.css`)).status, 200);
    const script = await fetch(`${at.pageUrl}app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.ok((await script.arrayBuffer()).byteLength > 100_000, 'CodeMirror, Yjs and the provider are in the bundle');
    assert.equal((await fetch(`${at.pageUrl}app.js`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${at.pageUrl}../package.json`)).status, 404);
    assert.equal((await fetch(`${at.pageUrl}server.ts`)).status, 404);
    assert.equal(await at.demo.handleRequest({ url: '/chat/', method: 'GET' } as never, {} as never), false);
  });
});
