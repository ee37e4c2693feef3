/**
 * `fdx connect` on a terminal: the real binary in a pseudo-terminal made by tmux (a server of
 * its own, on a socket named for this process), driven with send-keys and read with
 * capture-pane. Line editing, history, marks, colour and NO_COLOR, /ping, Ctrl-D and Ctrl-C.
 * tmux is required: .ci/run installs it; without it these tests fail, they do not skip.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import { BIN, ROOT, STEP_LIMIT_MS } from './fdx-process.js';

const SOCKET = `fdx-cli-test-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

/** The pane's text; with `escapes`, colours included as SGR sequences. */
function screen(session: string, escapes = false): string {
  return tmux('capture-pane', '-p', '-t', session, ...(escapes ? ['-e'] : []));
}

async function until(session: string, check: (text: string) => boolean, what: string): Promise<string> {
  const end = Date.now() + STEP_LIMIT_MS;
  for (;;) {
    const text = screen(session);
    if (check(text)) return text;
    if (Date.now() > end) throw new Error(`no ${what} within ${STEP_LIMIT_MS} ms; screen:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Presses keys one at a time, as a person types: readline applies an editing key that arrives
 * in the same read as the text before it to the screen but not to the line (Node 20).
 */
async function press(session: string, ...keys: string[]): Promise<void> {
  for (const key of keys) {
    tmux('send-keys', '-t', session, key);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Starts `fdx connect URL` in a new tmux session; the shell prints EXIT=<code> when it ends. */
function startSession(name: string, url: string, env: Record<string, string | undefined>): void {
  const exports = Object.entries(env)
    .map(([key, value]) => (value === undefined ? `unset ${key};` : `export ${key}=${quote(value)};`))
    .join(' ');
  const command = `cd ${quote(ROOT)}; ${exports} ${quote(process.execPath)} ${quote(BIN)} connect ${quote(url)}; echo "EXIT=$?"; sleep 600`;
  tmux('new-session', '-d', '-s', name, '-x', '150', '-y', '40', command);
}

describe('fdx connect on a terminal (tmux)', () => {
  let url = '';
  const received: string[] = [];
  const http = createServer();
  const wss = new WebSocketServer({ server: http });

  before(async () => {
    assert.ok(execFileSync('sh', ['-c', 'command -v tmux || true'], { encoding: 'utf8' }).trim() !== '', 'tmux is needed for these tests (.ci/run installs it)');
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => {
        received.push(String(data));
        ws.send(isBinary ? data : `echo: ${data}`, { binary: isBinary });
      });
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    try {
      tmux('kill-server');
    } catch {
      // no session left
    }
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    http.close();
  });

  test('marks received lines, edits the line, recalls history, colours, pings, and exits 0 on Ctrl-D', async () => {
    startSession('main', url, { NO_COLOR: undefined, TERM: 'xterm-256color' });
    await until('main', (t) => /\* connected to ws:\/\/127\.0\.0\.1:\d+/.test(t), 'connected line');
    await press('main', 'hello', 'Enter');
    await until('main', (t) => t.includes('< echo: hello'), 'the echo of hello');
    assert.match(screen('main'), /^> hello$/m, 'the sent line stays on screen behind the prompt mark');

    // Line editing: type "wrld", move left three characters, insert "o".
    await press('main', 'wrld', 'Left', 'Left', 'Left', 'o', 'Enter');
    await until('main', (t) => t.includes('< echo: world'), 'the echo of world');

    // History: Up twice recalls "hello".
    await press('main', 'Up', 'Up', 'Enter');
    await until('main', (t) => (t.match(/< echo: hello/g) ?? []).length === 2, 'the echo of the recalled line');
    assert.deepEqual(received.slice(-3), ['hello', 'world', 'hello']);

    // Received lines are green, status lines dim.
    const coloured = screen('main', true);
    assert.match(coloured, /\x1b\[32m< echo: hello/);
    assert.match(coloured, /\x1b\[2m\* connected to/);

    await press('main', '/ping', 'Enter');
    await until('main', (t) => /\* pong "1" in \d+\.\d{3} ms/.test(t), 'the ping time');

    await press('main', 'C-d');
    const end = await until('main', (t) => /EXIT=\d+/.test(t), 'the exit');
    assert.match(end, /\* closed: 1000/);
    assert.match(end, /EXIT=0/);
  });

  test('prints no colour with NO_COLOR and closes cleanly on Ctrl-C', async () => {
    startSession('plain', url, { NO_COLOR: '1', TERM: 'xterm-256color' });
    await until('plain', (t) => t.includes('* connected to'), 'connected line');
    await press('plain', '{"a":1}', 'Enter');
    await until('plain', (t) => t.includes('< echo: {"a":1}'), 'the echo');
    assert.doesNotMatch(screen('plain', true), /\x1b\[(?:2|3[0-9])m/, 'no colour escapes');
    await press('plain', 'C-c');
    const end = await until('plain', (t) => /EXIT=\d+/.test(t), 'the exit');
    assert.match(end, /closing/);
    assert.match(end, /EXIT=0/);
  });
});
