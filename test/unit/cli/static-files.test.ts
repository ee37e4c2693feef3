/**
 * The static folder's path resolution (cli/static-files.ts) on a real temporary folder: what
 * is served, and every way out of the root refused.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENT_TYPES, resolveStaticPath } from '../../../src/cli/static-files.js';

describe('resolveStaticPath', () => {
  let root = '';
  let outside = '';
  before(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'fdx-root-')));
    outside = realpathSync(mkdtempSync(join(tmpdir(), 'fdx-out-')));
    writeFileSync(join(root, 'index.html'), 'home');
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub', 'page.html'), 'page');
    writeFileSync(join(outside, 'secret'), 'no');
    symlinkSync(join(outside, 'secret'), join(root, 'link'));
    symlinkSync(outside, join(root, 'dirlink'));
    writeFileSync(join(root, 'sub', 'inner'), 'in');
    symlinkSync(join(root, 'sub', 'inner'), join(root, 'inside-link'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  test('finds files, and a folder\'s index.html', () => {
    assert.equal(resolveStaticPath(root, '/').file, join(root, 'index.html'));
    assert.equal(resolveStaticPath(root, '/sub/page.html?x=1#y').file, join(root, 'sub', 'page.html'));
    assert.equal(resolveStaticPath(root, '/sub/./page.html').file, join(root, 'sub', 'page.html'));
    assert.equal(resolveStaticPath(root, '/inside-link').status, 200, 'a link that stays inside is served');
  });

  test('refuses ".." in any spelling with 403', () => {
    for (const target of ['/..', '/../x', '/sub/../../x', '/%2e%2e/x', '/..%2f..%2fetc', '/sub/..%5c..%5cx', '/sub\\..\\..\\x']) {
      assert.equal(resolveStaticPath(root, target).status, 403, target);
    }
  });

  test('refuses a symbolic link that leads out of the root with 403', () => {
    assert.equal(resolveStaticPath(root, '/link').status, 403);
    assert.equal(resolveStaticPath(root, '/dirlink/secret').status, 403);
  });

  test('answers 404 for missing and hidden names, 400 for bad encoding, NUL, or no leading slash', () => {
    for (const target of ['/nope', '/.hidden', '/sub/.git/config', '/sub/']) assert.equal(resolveStaticPath(root, target).status, 404, target);
    for (const target of ['/%zz', '/a%00', 'index.html', '*']) assert.equal(resolveStaticPath(root, target).status, 400, target);
  });

  test('knows the content types of the web\'s common files', () => {
    assert.equal(CONTENT_TYPES['.html'], 'text/html; charset=utf-8');
    assert.equal(CONTENT_TYPES['.js'], 'text/javascript; charset=utf-8');
    assert.equal(CONTENT_TYPES['.wasm'], 'application/wasm');
    assert.equal(CONTENT_TYPES['.svg'], 'image/svg+xml');
  });
});
