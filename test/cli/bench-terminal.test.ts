/**
 * `fdx bench` on a terminal: the live progress line (rate, p50/p99, errors, time left) while
 * it runs, rewritten in place and erased before the final table. The real binary in a tmux
 * pane (a tmux server of its own); tmux is required: .ci/run installs it.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import { BIN, ROOT } from './fdx-process.js';

const SOCKET = `fdx-bench-test-${process.pid}`;
const LIMIT_MS = 90_000;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

after(() => {
  try {
    tmux('kill-server');
  } catch {
    // no session was started
  }
});

async function until(check: (screen: string) => boolean, what: string): Promise<string> {
  const end = Date.now() + LIMIT_MS;
  for (;;) {
    const screen = tmux('capture-pane', '-p', '-t', 'bench');
    if (check(screen)) return screen;
    if (Date.now() > end) throw new Error(`no ${what} within ${LIMIT_MS} ms; screen:\n${screen}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('a progress line shows rate, p50/p99, errors and the time left, then gives way to the table', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  await once(wss, 'listening');
  try {
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
    const command = `cd ${quote(ROOT)}; ${quote(process.execPath)} ${quote(BIN)} bench ${quote(url)} --duration 4 --warmup 0.5 --connections 2; echo "EXIT=$?"; sleep 600`;
    tmux('new-session', '-d', '-s', 'bench', '-x', '160', '-y', '50', command);
    const live = await until((s) => /\[echo\] measuring \d+\/5 s \(\d+ s left\)/.test(s), 'progress line');
    assert.match(live, /[0-9,]+\/s {2}p50 [0-9.]+ ms {2}p99 [0-9.]+ ms {2}errors 0 {2}open 2 {2}cpu \d+%/);
    const done = await until((s) => s.includes('EXIT='), 'exit');
    assert.match(done, /EXIT=0/);
    assert.doesNotMatch(done, /measuring/, 'the progress line is erased');
    for (const row of ['p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max', 'Errors: none', 'Generator CPU']) assert.ok(done.includes(row), row);
  } finally {
    wss.close();
  }
});
