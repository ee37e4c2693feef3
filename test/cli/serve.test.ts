/**
 * `fdx serve` as a user runs it: the real binary, its static folder over HTTP, its endpoints
 * (fdx.v1, echo, plain topics, through Redis across two processes), a taken port, and the
 * drain on SIGTERM and SIGINT.
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from '../../src/index.js';
import { createClient } from '../../src/client.js';
import { exitOf, fdx, startServe, stop, waitFor, withLimit, type Fdx } from './fdx-process.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with the path sent as it is (no normalisation by a URL parser). */
function get(base: string, path: string, method = 'GET'): Promise<Answer> {
  const [host, port] = base.split(':');
  return withLimit(
    new Promise<Answer>((resolve, reject) => {
      const req = httpRequest({ host, port: Number(port), path, method }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    }),
    `answer to ${method} ${path}`,
  );
}

async function open(url: string, protocols?: string[]): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  await withLimit(once(ws, 'open'), `open ${url}`);
  return ws;
}

describe('fdx serve: the static folder', () => {
  let dir = '';
  let outside = '';
  let run: Fdx;
  let base = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fdx-static-'));
    outside = mkdtempSync(join(tmpdir(), 'fdx-outside-'));
    writeFileSync(join(dir, 'index.html'), '<h1>home</h1>');
    writeFileSync(join(dir, 'style.css'), 'body{}');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'data.json'), '{"a":1}');
    writeFileSync(join(dir, 'blob.bin'), Buffer.from([0, 1, 2]));
    writeFileSync(join(dir, 'a b.txt'), 'spaced');
    writeFileSync(join(dir, '.env'), 'SECRET=1');
    mkdirSync(join(dir, 'docs'));
    writeFileSync(join(dir, 'docs', 'index.html'), '<p>docs</p>');
    mkdirSync(join(dir, 'empty'));
    writeFileSync(join(outside, 'secret.txt'), 'outside');
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'escape.txt'));
    ({ run, base } = await startServe(['--static', dir]));
  });
  after(async () => {
    await stop(run);
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  test('serves files with their content types, and a folder with its index.html', async () => {
    const expected: Array<[string, string, string]> = [
      ['/', 'text/html; charset=utf-8', '<h1>home</h1>'],
      ['/style.css', 'text/css; charset=utf-8', 'body{}'],
      ['/app.js', 'text/javascript; charset=utf-8', 'console.log(1)'],
      ['/data.json', 'application/json', '{"a":1}'],
      ['/blob.bin', 'application/octet-stream', '\0\x01\x02'],
      ['/a%20b.txt', 'text/plain; charset=utf-8', 'spaced'],
      ['/docs/', 'text/html; charset=utf-8', '<p>docs</p>'],
      ['/docs', 'text/html; charset=utf-8', '<p>docs</p>'],
      ['/style.css?v=2', 'text/css; charset=utf-8', 'body{}'],
    ];
    for (const [path, type, body] of expected) {
      const answer = await get(base, path);
      assert.equal(answer.status, 200, path);
      assert.equal(answer.headers['content-type'], type, path);
      assert.equal(answer.body, body, path);
      assert.equal(answer.headers['content-length'], String(Buffer.byteLength(body)), path);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', path);
    }
  });

  test('answers HEAD with the headers and no body', async () => {
    const answer = await get(base, '/app.js', 'HEAD');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-length'], '14');
    assert.equal(answer.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(answer.body, '');
  });

  test('answers other methods with 405 and Allow: GET, HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const answer = await get(base, '/', method);
      assert.equal(answer.status, 405, method);
      assert.equal(answer.headers.allow, 'GET, HEAD', method);
    }
  });

  test('never serves a path outside the folder: 403 for "..", encoded or not, and for a link out', async () => {
    for (const path of ['/../etc/passwd', '/docs/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2fetc%2fpasswd', '/docs/..%5c..%5cetc', '/escape.txt']) {
      const answer = await get(base, path);
      assert.equal(answer.status, 403, path);
      assert.doesNotMatch(answer.body, /root:|outside/, path);
    }
  });

  test('answers 404 for missing files, hidden files and a folder without index.html, 400 for a bad path', async () => {
    for (const path of ['/missing.txt', '/.env', '/docs/.hidden', '/empty/']) assert.equal((await get(base, path)).status, 404, path);
    for (const path of ['/%E0%A4%A', '/a%00b']) assert.equal((await get(base, path)).status, 400, path);
  });

  test('without --static, plain requests get 404', async () => {
    const other = await startServe();
    try {
      assert.equal((await get(other.base, '/')).status, 404);
    } finally {
      await stop(other.run);
    }
  });
});

describe('fdx serve: endpoints on one port', () => {
  let run: Fdx;
  let base = '';
  before(async () => {
    ({ run, base } = await startServe(['--echo', '/echo', '--topics', '/t']));
  });
  after(() => stop(run));

  test('prints the address and every endpoint on one line', () => {
    assert.match(run.stdout(), new RegExp(`^listening on http://${base} \\(realtime ws://${base}/rt, echo ws://${base}/echo, topics ws://${base}/t/NAME, no static folder\\)\\n$`));
  });

  test('echoes on --echo PATH, text as text and binary as binary', async () => {
    const ws = await open(`ws://${base}/echo`);
    ws.send('hi');
    const [text, textIsBinary] = await withLimit(once(ws, 'message'), 'echo');
    assert.equal(String(text), 'hi');
    assert.equal(textIsBinary, false);
    ws.send(Buffer.from([9, 8]));
    const [bytes, bytesIsBinary] = await withLimit(once(ws, 'message'), 'echo');
    assert.deepEqual(Buffer.from(bytes as Buffer), Buffer.from([9, 8]));
    assert.equal(bytesIsBinary, true);
    ws.close();
  });

  test('speaks fdx.v1 at /rt: subscribe and publish with fullduplex/client', async () => {
    const client = createClient(`ws://${base}/rt`, { WebSocket: WebSocket as never });
    try {
      const got = new Promise<unknown>((resolve) => client.subscribe('news', (data) => resolve(data)));
      await withLimit(new Promise<void>((resolve) => client.on('subscribed', () => resolve())), 'subscription');
      await client.publish('news', { text: 'hello' });
      assert.deepEqual(await withLimit(got, 'publication'), { text: 'hello' });
    } finally {
      client.close();
    }
  });

  test('delivers a message sent to a plain topic to its other subscribers only', async () => {
    const a = await open(`ws://${base}/t/room%201`);
    const b = await open(`ws://${base}/t/room%201`);
    const other = await open(`ws://${base}/t/room2`);
    const seenByOther: string[] = [];
    const seenByA: string[] = [];
    other.on('message', (d) => seenByOther.push(String(d)));
    a.on('message', (d) => seenByA.push(String(d)));
    const got = withLimit(once(b, 'message'), 'topic message');
    a.send('to room 1');
    assert.equal(String((await got)[0]), 'to room 1');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seenByOther, []);
    assert.deepEqual(seenByA, []);
    for (const ws of [a, b, other]) ws.close();
  });

  test('answers an upgrade on any other path with 404', async () => {
    for (const path of ['/', '/nope', '/t', '/t/']) {
      const ws = new WebSocket(`ws://${base}${path}`);
      const [error] = await withLimit(once(ws, 'error'), `refusal of ${path}`);
      assert.match(String((error as Error).message), /404/, path);
    }
  });
});

describe('fdx serve: plain topics through Redis', () => {
  test('two processes with the same --redis share a topic', async () => {
    const prefix = `fdx-cli-test-${process.pid}-${Date.now()}:`;
    const one = await startServe(['--topics', '/t', '--redis', 'redis://127.0.0.1:6379', '--redis-prefix', prefix]);
    const two = await startServe(['--topics', '/t', '--redis', 'redis://127.0.0.1:6379', '--redis-prefix', prefix]);
    try {
      assert.match(one.run.stdout(), /topics ws:\/\/.*\/t\/NAME \(through Redis\)/);
      const sender = await open(`ws://${one.base}/t/shared`);
      const receiver = await open(`ws://${two.base}/t/shared`);
      const received: string[] = [];
      receiver.on('message', (d) => received.push(String(d)));
      // The receiver's broker subscription is confirmed asynchronously: send until it arrives.
      const deadline = Date.now() + 20_000;
      while (received.length === 0 && Date.now() < deadline) {
        sender.send('across processes');
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(received[0], 'across processes');
      sender.close();
      receiver.close();
    } finally {
      await stop(one.run);
      await stop(two.run);
    }
  });
});

describe('fdx serve: start and stop', () => {
  test('exits 1 with one clean line when the port is taken', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as AddressInfo).port;
    try {
      const run = fdx(['serve', '--port', String(port)]);
      assert.deepEqual(await exitOf(run), { code: 1, signal: null });
      assert.equal(run.stderr(), `fdx: cannot listen on 127.0.0.1:${port}: the port is taken (EADDRINUSE)\n`);
      assert.equal(run.stdout(), '');
    } finally {
      blocker.close();
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`on ${signal} drains real-time clients (drain, then 1012), closes plain ones with 1001, and exits 0`, async () => {
      const { run, base } = await startServe(['--echo', '/echo', '--drain-ms', '0']);
      const rt = await open(`ws://${base}/rt`, ['fdx.v1']);
      const rtMessages: string[] = [];
      rt.on('message', (d) => rtMessages.push(String(d)));
      rt.send(JSON.stringify({ type: 'connect', id: 1 }));
      await withLimit(once(rt, 'message'), 'connect reply');
      const echo = await open(`ws://${base}/echo`);
      const rtClosed = once(rt, 'close');
      const echoClosed = once(echo, 'close');
      const exit = await stop(run, signal);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.equal((await withLimit(rtClosed, 'rt close'))[0], 1012);
      assert.equal((await withLimit(echoClosed, 'echo close'))[0], 1001);
      assert.ok(rtMessages.some((m) => JSON.parse(m).type === 'drain'), `drain among ${rtMessages.join(' ')}`);
      assert.match(run.stderr(), new RegExp(`fdx: ${signal}, draining`));
    });
  }

  test('an fdx connect --realtime client of a draining server exits 0 (1012 is a clean close)', async () => {
    const { run, base } = await startServe(['--drain-ms', '0']);
    const client = fdx(['connect', `ws://${base}/rt`, '--realtime']);
    await waitFor(client, 'stderr', (text) => text.includes('online as'), 'online');
    await stop(run);
    assert.deepEqual(await exitOf(client), { code: 0, signal: null }, client.stderr());
    assert.match(client.stderr(), /closed: 1012/);
  });

  const mistakes: Array<{ args: string[]; stderr: RegExp }> = [
    { args: ['--static', '/nonexistent/folder'], stderr: /--static \/nonexistent\/folder is not a folder/ },
    { args: ['--echo', 'echo'], stderr: /--echo must be a path starting with "\/"/ },
    { args: ['--echo', '/rt'], stderr: /the endpoints need different paths/ },
    { args: ['--redis', 'localhost:6379'], stderr: /--redis wants redis:\/\/HOST:PORT/ },
    { args: ['--port', '70000'], stderr: /--port must be between 0 and 65535/ },
    { args: ['extra'], stderr: /unexpected argument 'extra'/ },
  ];
  for (const { args, stderr } of mistakes) {
    test(`exits 2 with a usage line for: fdx serve ${args.join(' ')}`, async () => {
      const run = fdx(['serve', ...args]);
      assert.deepEqual(await exitOf(run), { code: 2, signal: null });
      assert.match(run.stderr(), stderr);
      assert.match(run.stderr(), /Run "fdx serve --help" for usage\./);
      assert.equal(run.stdout(), '');
    });
  }

  test('its help says the real-time layer has no Redis engine yet', async () => {
    const run = fdx(['help', 'serve']);
    assert.deepEqual(await exitOf(run), { code: 0, signal: null });
    assert.match(run.stdout().replace(/\s+/g, ' '), /The real-time layer has no Redis engine yet/);
  });
});
