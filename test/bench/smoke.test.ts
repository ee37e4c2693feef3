/**
 * The benchmark suite's smoke run (`npm run bench:smoke` without the build step): every
 * scenario once, small and short, on every implementation of its group (the WebSocket servers,
 * or for the channel scenario the real-time layer, plain topics and socket.io). Asserts that
 * each produced a result with traffic and no errors, so no benchmark rots; it asserts no timing.
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
  'echo-topic-32',
  'echo-binary-16k',
  'latency-32',
  'idle-10k',
  'idle-topic-10k',
  'accept-burst-10k',
  'capacity-1-process',
  'capacity-100k',
  'fanout-10k',
  'echo-deflate-json',
  'fanout-deflate-json',
  'channel-fanout-10k',
  'presence-storm-10k',
  'presence-count-storm-10k',
];
const IMPLEMENTATIONS = ['fullduplex', 'ws', 'uws', 'bun', 'raw', 'raw-bytes'];
/** The byte echo runs the echo loads only (it cannot fan out or answer pings). */
const ECHO_ONLY = ['raw-bytes'];
const CHANNEL_IMPLEMENTATIONS = ['realtime', 'topics', 'socketio'];
const GROUPS: Record<string, string[]> = { channel: CHANNEL_IMPLEMENTATIONS, presence: ['presence'] };

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
  members?: number;
  presenceMessages?: number;
  perJoinMessages?: number;
  completeMs?: number;
}
interface Scenario {
  id: string;
  group?: string;
  title: string;
  kind: 'load' | 'idle' | 'storm';
  load: { kind: string } | null;
  deflate: boolean;
  connections: number;
  excluded: { id: string; reason: string }[];
  references?: { key: string; id: string; label: string }[];
  results: Record<string, { rounds: Round[]; ratios?: Record<string, Record<string, number | null>> }>;
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
      const group = GROUPS[scenario.group ?? ''] ?? IMPLEMENTATIONS;
      const runs = group.filter((id) => !ECHO_ONLY.includes(id) || scenario.load?.kind === 'echo');
      const expected = runs.filter((id) => !scenario.excluded.some((e) => e.id === id));
      assert.deepEqual(Object.keys(scenario.results).sort(), [...expected].sort(), scenario.id);
      // Only the node:net floors lack permessage-deflate.
      assert.deepEqual(
        scenario.excluded.map((e) => e.id),
        scenario.deflate ? runs.filter((id) => id === 'raw' || id === 'raw-bytes') : [],
      );
      for (const [id, { rounds }] of Object.entries(scenario.results)) {
        const where = `${scenario.id} on ${id}`;
        assert.equal(rounds.length, 1, where);
        const round = rounds[0];
        assert.ok(!round.failed, `${where}: ${round.error}`);
        assert.equal(round.errors, 0, `${where}: ${round.errorSamples?.join('; ')}`);
        if (scenario.kind === 'idle') {
          assert.equal(round.held, scenario.connections, where);
        } else if (scenario.kind === 'storm') {
          // Every member's view completed, with far fewer messages than a broadcast per join.
          assert.equal(round.members, scenario.connections, where);
          assert.ok((round.completeMs ?? 0) > 0, `${where}: no view completed`);
          assert.ok((round.presenceMessages ?? 0) >= scenario.connections, `${where}: each member got at least its snapshot`);
          assert.ok(round.presenceMessages! < round.perJoinMessages! / 10, `${where}: ${round.presenceMessages} messages against ${round.perJoinMessages} per join`);
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
    // The channel scenario compares the real-time layer with plain topics and socket.io.
    const channel = results.scenarios.find((s) => s.id === 'channel-fanout-10k')!;
    assert.deepEqual(
      channel.references?.map((r) => r.id),
      ['topics', 'socketio'],
    );
    for (const key of ['deliveriesPerSec', 'serverCpuUs']) {
      assert.ok((channel.results.realtime!.ratios?.vsTopics?.[key] ?? 0) > 0, `realtime ÷ topics, ${key}`);
      assert.ok((channel.results.realtime!.ratios?.vsSocketio?.[key] ?? 0) > 0, `realtime ÷ socket.io, ${key}`);
    }

    const table = spawnSync(process.execPath, ['bench/table.mjs', out, '--print'], { cwd: root, encoding: 'utf8' });
    assert.equal(table.status, 0, table.stderr);
    for (const scenario of results.scenarios) assert.ok(table.stdout.includes(scenario.title), scenario.title);
    for (const label of ['fullduplex', 'ws', 'uWebSockets.js', 'Bun', 'node:net floor', 'node:net byte echo', 'fullduplex/realtime', 'fullduplex topics', 'socket.io', 'fullduplex/realtime presence']) {
      assert.ok(table.stdout.includes(`| ${label} |`), label);
    }
    assert.ok(table.stdout.includes('| × topics | × socket.io |'), 'the channel scenario shows its ratios');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
