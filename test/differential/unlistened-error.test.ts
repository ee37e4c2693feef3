/**
 * An 'error' on a connection that nobody listens to, differentially: each implementation runs in
 * a child process (an uncaught exception must not take the test runner down with it).
 */
import { describe } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scenario } from './harness.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/unlistened-error.ts', import.meta.url));

describe('errors without a listener', () => {
  scenario('a protocol error on a connection without an error listener', async ({ impl }) => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', FIXTURE, impl.name], { encoding: 'utf8', timeout: 20_000 });
    const uncaught = /Invalid WebSocket frame|invalid opcode/i.test(child.stderr);
    return { status: child.status, stdout: child.stdout.trim(), uncaught };
  });
});
