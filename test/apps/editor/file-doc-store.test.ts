import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileDocStore } from '../../../apps/editor/file-doc-store.js';
import { removeDir, waitUntil } from './editor-host.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await removeDir(dir);
});

async function folder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fdx-editor-store-'));
  dirs.push(dir);
  return dir;
}

describe('FileDocStore', () => {
  test('loads nothing for a document never written', async () => {
    assert.deepEqual(await new FileDocStore(await folder()).load('new'), []);
  });

  test('writes the latest snapshot once changes pause, and loads it back', async () => {
    const dir = await folder();
    const store = new FileDocStore(dir, { saveDelayMs: 30 });
    let snapshots = 0;
    for (let i = 1; i <= 3; i++) store.record('doc', new Uint8Array([i]), () => (snapshots++, new Uint8Array([i, i])));
    await waitUntil(() => snapshots > 0, 'the debounced write');
    await store.close();
    assert.equal(snapshots, 1, 'three changes in a row, one write');
    assert.deepEqual([...(await readFile(path.join(dir, 'doc.yjs')))], [3, 3]);
    assert.deepEqual((await store.load('doc')).map((update) => [...update]), [[3, 3]]);
    assert.deepEqual(await readdir(dir), ['doc.yjs'], 'no temporary file left');
  });

  test('writes within maxSaveDelayMs even while changes keep coming', async () => {
    const dir = await folder();
    const store = new FileDocStore(dir, { saveDelayMs: 200, maxSaveDelayMs: 100 });
    const started = Date.now();
    let written = false;
    while (!written && Date.now() - started < 5000) {
      store.record('busy', new Uint8Array([1]), () => ((written = true), new Uint8Array([1])));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(written, 'a write happened although changes never paused for 200 ms');
    await store.close();
  });

  test('flush writes at once; close writes what is pending', async () => {
    const dir = await folder();
    const store = new FileDocStore(dir, { saveDelayMs: 60_000 });
    store.record('a', new Uint8Array([1]), () => new Uint8Array([7]));
    store.record('b', new Uint8Array([1]), () => new Uint8Array([8]));
    await store.flush('a');
    assert.deepEqual(await readdir(dir), ['a.yjs']);
    await store.close();
    assert.deepEqual((await readdir(dir)).sort(), ['a.yjs', 'b.yjs']);
  });

  test('refuses a name that is not a document name instead of building a path from it', async () => {
    const store = new FileDocStore(await folder());
    await assert.rejects(store.load('../escape'), /not a document name/);
  });
});
