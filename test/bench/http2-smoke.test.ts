/**
 * The HTTP/2 benchmark's smoke run (part of `npm run bench:smoke`): a few WebSockets over one
 * HTTP/2 connection and as many over TLS connections, against the built dist/. Asserts that
 * both transports opened every WebSocket and echoed, and that the ratios were computed; no timing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('bench/http2-vs-tcp.mjs --smoke measures both transports', { timeout: 120_000 }, () => {
  assert.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/ is built by npm ci (prepare); run npm run build');
  const run = spawnSync(process.execPath, ['bench/http2-vs-tcp.mjs', '--smoke', '--connections', '10'], { cwd: root, encoding: 'utf8', timeout: 110_000 });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  const output = JSON.parse(run.stdout) as {
    results: Record<string, { connections: number; handshakeMs: number; echoMsgsPerSec: number; serverCpuS: number }>;
    http2OverTcp: Record<string, number>;
  };
  assert.deepEqual(Object.keys(output.results), ['tcp', 'http2']);
  for (const [transport, result] of Object.entries(output.results)) {
    assert.equal(result.connections, 10, transport);
    assert.ok(result.echoMsgsPerSec > 0, `${transport}: no echo measured`);
    assert.ok(result.handshakeMs >= 0, transport);
  }
  for (const key of ['handshakeMs', 'heapPerWebSocket', 'rssPerWebSocket', 'echoMsgsPerSec']) {
    assert.equal(typeof output.http2OverTcp[key], 'number', key);
  }
});
