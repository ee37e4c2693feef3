/**
 * scripts/check-layers.mjs, run on small project trees written to a temporary folder: a tree
 * that keeps the layer rule passes; each kind of violation fails with a message naming the file.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../scripts/check-layers.mjs', import.meta.url));

/** A tree that keeps every rule: files by path, relative to the project root. */
const CLEAN: Record<string, string> = {
  'package.json': JSON.stringify({
    name: 'fullduplex',
    type: 'module',
    exports: {
      '.': { import: { types: './dist/index.d.ts', default: './dist/index.js' }, require: { default: './dist/index.cjs' } },
      './protocol': { import: { types: './dist/protocol.d.ts', default: './dist/protocol.js' } },
      './package.json': './package.json',
    },
  }),
  'tsup.config.ts': "export default { entry: { index: 'src/index.ts', protocol: 'src/protocol/index.ts', cli: 'src/cli/main.ts' } };\n",
  'src/protocol/index.ts': "export { Frame } from './frame.js';\nexport type { Kind } from './kind.js';\n",
  'src/protocol/frame.ts': "import type { Kind } from './kind.js';\nexport class Frame { kind: Kind = 'text'; }\n",
  'src/protocol/kind.ts': "export type Kind = 'text' | 'binary';\n",
  'src/broker/broker.ts': 'export interface Broker { publish(channel: string): void }\n',
  'src/pubsub/topics.ts': "import type { Broker } from '../broker/broker.js';\nexport const topics = (b: Broker) => b;\n",
  'src/node/websocket.ts': "import net from 'node:net';\nimport { Frame } from '../protocol/index.js';\nimport { topics } from '../pubsub/topics.js';\nexport class WebSocket { frame = new Frame(); socket = net; t = topics; }\n",
  'src/index.ts': "export { WebSocket } from './node/websocket.js';\n",
  'src/cli/main.ts': "import { parseArgs } from 'node:util';\nimport { WebSocket } from '../index.js';\nexport const main = () => [parseArgs, WebSocket];\n",
  'apps/chat/server.ts': "import http from 'node:http';\nimport { WebSocket } from 'fullduplex';\nimport { Frame } from 'fullduplex/protocol';\nimport { rooms } from './rooms.js';\nexport const all = [http, WebSocket, Frame, rooms];\n",
  'apps/chat/rooms.ts': 'export const rooms = 1;\n',
  'bench/servers/ours.mjs': "import { WebSocket } from '../../dist/index.js';\nimport { WebSocketServer } from 'ws';\nexport { WebSocket, WebSocketServer };\n",
  'scripts/soak.ts': "import WebSocket from 'fullduplex';\nconst { Frame } = await import('../src/protocol/index.js');\nexport { WebSocket, Frame };\n",
  'test/apps/chat/rooms.test.ts': "import { rooms } from '../../../apps/chat/rooms.js';\nimport { WebSocket } from '../../../src/index.js';\nexport { rooms, WebSocket };\n",
};

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** Writes the clean tree with `changes` applied (a null value deletes a file) and runs the checker on it. */
function check(changes: Record<string, string | null> = {}): { status: number | null; out: string; err: string } {
  const root = mkdtempSync(join(tmpdir(), 'fdx-layers-'));
  roots.push(root);
  const files: Record<string, string | null> = { ...CLEAN, ...changes };
  for (const [path, text] of Object.entries(files)) {
    if (text === null) continue;
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const run = spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });
  return { status: run.status, out: run.stdout, err: run.stderr };
}

/** The violation lines of a failed run. */
function violations(result: { err: string }): string[] {
  return result.err
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter(Boolean);
}

describe('scripts/check-layers.mjs', () => {
  it('passes a tree in which every import keeps the layer rule', () => {
    const result = check();
    assert.equal(result.err, '');
    assert.equal(result.status, 0);
    assert.match(result.out, /layer rule: ok/);
  });

  it('fails on an import cycle and prints it as a path that returns to its start', () => {
    const result = check({
      'src/node/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/node/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    });
    assert.equal(result.status, 1);
    assert.deepEqual(violations(result), ['import cycle: src/node/a.ts -> src/node/b.ts -> src/node/a.ts']);
  });

  it('counts a type-only import in a cycle', () => {
    const result = check({
      'src/protocol/kind.ts': "import type { Frame } from './frame.js';\nexport type Kind = 'text' | Frame['kind'];\n",
    });
    assert.equal(result.status, 1);
    assert.deepEqual(violations(result), ['import cycle: src/protocol/frame.ts -> src/protocol/kind.ts -> src/protocol/frame.ts']);
  });

  it('fails when a layer imports a folder its rule does not allow', () => {
    const result = check({ 'src/pubsub/socket-count.ts': "import { WebSocket } from '../node/websocket.js';\nexport const count = WebSocket;\n" });
    assert.equal(result.status, 1);
    const [line, ...rest] = violations(result);
    assert.deepEqual(rest, []);
    assert.match(line!, /^src\/pubsub\/socket-count\.ts:1: imports \.\.\/node\/websocket\.js \(src\/node\/websocket\.ts\), which pubsub\/ may not import/);
  });

  it('fails when cli/ imports a module behind the public entry point', () => {
    const result = check({ 'src/cli/main.ts': "import { WebSocket } from '../node/websocket.js';\nexport const main = WebSocket;\n" });
    assert.equal(result.status, 1);
    assert.match(violations(result).join('\n'), /^src\/cli\/main\.ts:1: imports \.\.\/node\/websocket\.js .*which cli\/ may not import \(cli\/ uses the public entry points only\)$/);
  });

  it('fails when protocol/ imports a Node built-in', () => {
    const result = check({ 'src/protocol/frame.ts': "import { Buffer } from 'node:buffer';\nexport class Frame { kind = 'text'; b = Buffer; }\n" });
    assert.equal(result.status, 1);
    assert.deepEqual(violations(result), [
      "src/protocol/frame.ts:1: imports node:buffer, but protocol/ may not use Node built-ins (the core is pure: protocol/ imports only itself)",
    ]);
  });

  it('fails when protocol/ imports a package', () => {
    const result = check({ 'src/protocol/kind.ts': "import type { Data } from 'ws';\nexport type Kind = Data;\n" });
    assert.equal(result.status, 1);
    assert.match(violations(result).join('\n'), /^src\/protocol\/kind\.ts:1: imports the package ws, which protocol\/ may not import/);
  });

  it('fails when realtime/ imports node/, even by a dynamic import', () => {
    const result = check({ 'src/realtime/session.ts': "export const open = () => import('../node/websocket.js');\n" });
    assert.equal(result.status, 1);
    assert.match(violations(result).join('\n'), /^src\/realtime\/session\.ts:1: imports \.\.\/node\/websocket\.js .*which realtime\/ may not import/);
  });

  it('fails on a folder of src/ that has no rule', () => {
    const result = check({ 'src/widgets/knob.ts': 'export const knob = 1;\n' });
    assert.equal(result.status, 1);
    assert.match(violations(result).join('\n'), /^src\/widgets\/knob\.ts: src\/widgets\/ is not a layer/);
  });

  it('fails when an app imports src/node instead of the package', () => {
    const result = check({ 'apps/chat/rooms.ts': "import { WebSocket } from '../../src/node/websocket.js';\nexport const rooms = WebSocket;\n" });
    assert.equal(result.status, 1);
    const [line, ...rest] = violations(result);
    assert.deepEqual(rest, []);
    assert.match(line!, /^apps\/chat\/rooms\.ts:1: imports src\/node\/websocket\.ts, which is no public entry point; apps\/ may import package entry points/);
  });

  it('fails when an app imports the source entry file, a form apps/ does not use', () => {
    const result = check({ 'apps/chat/rooms.ts': "export { WebSocket } from '../../src/index.js';\nexport const rooms = 1;\n" });
    assert.equal(result.status, 1);
    assert.match(violations(result).join('\n'), /^apps\/chat\/rooms\.ts:1: imports the source entry point src\/index\.ts, a form apps\/ does not use/);
  });

  it('fails on a package subpath that package.json does not export', () => {
    const result = check({ 'scripts/soak.ts': "import { WebSocket } from 'fullduplex/node';\nexport { WebSocket };\n" });
    assert.equal(result.status, 1);
    assert.match(violations(result).join('\n'), /^scripts\/soak\.ts:1: imports fullduplex\/node, which is not a subpath of package\.json "exports"/);
  });

  it('fails when a bench script reaches into dist/ beyond the built entry points', () => {
    const result = check({ 'bench/servers/ours.mjs': "import { WebSocket } from '../../dist/chunk-x.js';\nexport { WebSocket };\n" });
    assert.equal(result.status, 1);
    assert.match(violations(result).join('\n'), /^bench\/servers\/ours\.mjs:1: imports dist\/chunk-x\.js, which is no public entry point/);
  });

  it('fails when an export has no tsup entry to be built from', () => {
    const result = check({ 'tsup.config.ts': "export default { entry: { index: 'src/index.ts' } };\n" });
    assert.equal(result.status, 1);
    assert.match(violations(result).join('\n'), /^package\.json: exports "\.\/protocol" points to dist\/protocol\.js, but tsup\.config\.ts has no entry "protocol"/);
  });

  it('lists every violation of a tree, not only the first', () => {
    const result = check({
      'src/protocol/frame.ts': "import 'node:zlib';\nimport '../node/websocket.js';\nexport class Frame { kind = 'text'; }\n",
      'apps/chat/rooms.ts': "import '../../src/node/websocket.js';\nexport const rooms = 1;\n",
    });
    assert.equal(result.status, 1);
    const lines = violations(result);
    assert.ok(lines.some((l) => l.startsWith('src/protocol/frame.ts:1: imports node:zlib')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('src/protocol/frame.ts:2: imports ../node/websocket.js')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('apps/chat/rooms.ts:1: imports src/node/websocket.ts')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('import cycle: ')), lines.join('\n'));
    assert.match(result.err, /^layer rule: \d+ violation\(s\)/);
  });
});
