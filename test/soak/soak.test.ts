/**
 * The one-minute soak, as CI runs it: scripts/soak.ts in a child process (`--minutes 1`), which
 * churns thousands of connections against one server and exits non-zero if a message was lost
 * or corrupted, the server's memory grew, or a socket or timer was left behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('the one-minute soak passes: nothing lost or corrupted, memory flat, nothing left behind', { timeout: 5 * 60_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', 'scripts/soak.ts', '--minutes', '1'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, output);
  assert.match(output, /^soak PASSED/m, output);
  assert.doesNotMatch(output, /^FAIL/m, output);
  // The run really churned: thousands of connections, messages both ways.
  const connections = Number(/^connections: (\d+)/m.exec(output)?.[1] ?? 0);
  assert.ok(connections >= 1000, `only ${connections} connections:\n${output}`);
});
