/**
 * The benchmark suite's smoke run (`npm run bench:smoke` without the build step): every
 * scenario once, small and short, on every implementation. Asserts that each produced a result
 * with traffic and no errors, so no benchmark rots; it asserts no timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const installed = existsSync(join(root, 'bench', 'node_modules'));
// CI installs bench/ (see .ci/run), so this skip never applies there.
const skip = !installed && !process.env.CI ? 'bench/ dependencies are not installed: npm ci --prefix bench' : false;

const SCENARIOS = [
  'echo-text-32',
  'echo-binary-16k',
  'latency-32',
  'idle-10k',
  'capacity-1-process',
  'capacity-4-processes',
  'fanout-10k',
  'echo-deflate-json',
  'fanout-deflate-json',
];
const IMPLEMENTATIONS = ['fullduplex', 'ws', 'uws', 'bun', 'raw'];

interface Round {
  failed?: boolean;
  error?: string;
  errors: number;
  errorSamples?: string[];
  msgsPerSec?: number;
  deliveriesPerSec?: number;
  held?: number;
  samples?: number;
  compressedShare?: number;
}
interface Scenario {
  id: string;
  title: string;
  kind: 'load' | 'idle';
  deflate: boolean;
  connections: number;
  excluded: { id: string; reason: string }[];
  results: Record<string, { rounds: Round[] }>;
}

test('the smoke run measures every scenario on every implementation without errors', { skip, timeout: 360_000 }, () => {
  assert.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/ is built by npm ci (prepare); run npm run build');
  const dir = mkdtempSync(join(tmpdir(), 'fdx-bench-'));
  try {
    const out = join(dir, 'smoke.json');
    const run = spawnSync(process.execPath, ['bench/run.mjs', '--smoke', '--out', out], {
      cwd: root,
      encoding: 'utf8',
      timeout: 330_000,
    });
    assert.equal(run.status, 0, `bench/run.mjs failed:\n${run.stdout}\n${run.stderr}`);
    const results = JSON.parse(readFileSync(out, 'utf8')) as { skipped: object; scenarios: Scenario[] };

    assert.deepEqual(results.skipped, {}, 'an implementation could not run');
    assert.deepEqual(
      results.scenarios.map((s) => s.id),
      SCENARIOS,
    );
    for (const scenario of results.scenarios) {
      const expected = IMPLEMENTATIONS.filter((id) => !scenario.excluded.some((e) => e.id === id));
      assert.deepEqual(Object.keys(scenario.results).sort(), [...expected].sort(), scenario.id);
      // Only the node:net floor lacks permessage-deflate.
      assert.deepEqual(
        scenario.excluded.map((e) => e.id),
        scenario.deflate ? ['raw'] : [],
      );
      for (const [id, { rounds }] of Object.entries(scenario.results)) {
        const where = `${scenario.id} on ${id}`;
        assert.equal(rounds.length, 1, where);
        const round = rounds[0];
        assert.ok(!round.failed, `${where}: ${round.error}`);
        assert.equal(round.errors, 0, `${where}: ${round.errorSamples?.join('; ')}`);
        if (scenario.kind === 'idle') {
          assert.equal(round.held, scenario.connections, where);
        } else {
          const rate = round.msgsPerSec ?? round.deliveriesPerSec ?? 0;
          assert.ok(rate > 0, `${where}: no messages measured`);
          assert.ok((round.samples ?? 0) > 0, `${where}: no latency recorded`);
        }
        if (scenario.deflate) {
          assert.ok((round.compressedShare ?? 0) > 0, `${where}: the server sent nothing compressed`);
        }
      }
    }

    const table = spawnSync(process.execPath, ['bench/table.mjs', out, '--print'], { cwd: root, encoding: 'utf8' });
    assert.equal(table.status, 0, table.stderr);
    for (const scenario of results.scenarios) assert.ok(table.stdout.includes(scenario.title), scenario.title);
    for (const label of ['fullduplex', 'ws', 'uWebSockets.js', 'Bun', 'node:net floor']) {
      assert.ok(table.stdout.includes(`| ${label} |`), label);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
