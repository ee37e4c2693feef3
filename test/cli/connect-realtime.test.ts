/**
 * `fdx connect --realtime` through pipes against `fdx serve`'s fdx.v1 endpoint: subscribe,
 * publish, request, publications between two processes, --exit-after, --reconnect after a
 * drain, and a server that does not speak fdx.v1.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from '../../src/index.js';
import { exitOf, fdx, startServe, stop, waitFor, type Fdx } from './fdx-process.js';

describe('fdx connect --realtime', () => {
  let serve: Fdx;
  let url = '';
  before(async () => {
    const started = await startServe();
    serve = started.run;
    url = `ws://${started.base}/rt`;
  });
  after(() => stop(serve));

  test('subscribes, publishes, prints the publication and the reply, reports a request error, and exits 0', async () => {
    const run = fdx(['connect', url, '--realtime'], { input: '/sub news\n/pub news {"text":"hi"}\n/req no-such-event {"a":1}\n' });
    assert.deepEqual(await exitOf(run), { code: 0, signal: null }, run.stderr());
    const lines = run.stdout().trimEnd().split('\n');
    assert.ok(lines.includes('pub news {"text":"hi"}'), run.stdout());
    assert.ok(lines.some((line) => /^reply pub news \{"offset":"\d+","epoch":"[^"]+"\}$/.test(line)), run.stdout());
    assert.match(run.stderr(), /online as \S+/);
    assert.match(run.stderr(), /subscribed to news/);
    assert.match(run.stderr(), /error UNKNOWN_EVENT no-such-event/);
    assert.match(run.stderr(), /closed: 1000/);
  });

  test('a subscriber in one process gets what another publishes, and --exit-after 1 ends it', async () => {
    const subscriber = fdx(['connect', url, '--realtime', '--exit-after', '1']);
    subscriber.child.stdin.write('/sub room:7\n');
    await waitFor(subscriber, 'stderr', (text) => text.includes('subscribed to room:7'), 'the subscription');
    const publisher = fdx(['connect', url, '--realtime', '--json'], { input: '/pub room:7 "from afar"\n' });
    assert.deepEqual(await exitOf(publisher), { code: 0, signal: null }, publisher.stderr());
    assert.match(publisher.stdout(), /^reply pub room:7 \{\n {2}"offset": "\d+",\n {2}"epoch": "[^"]+"\n\}\n$/);
    assert.deepEqual(await exitOf(subscriber), { code: 0, signal: null }, subscriber.stderr());
    assert.equal(subscriber.stdout(), 'pub room:7 "from afar"\n');
  });

  test('refuses a line that is not a command, and data that is not JSON', async () => {
    const run = fdx(['connect', url, '--realtime'], { input: 'hello\n/pub news {oops\n' });
    assert.deepEqual(await exitOf(run), { code: 0, signal: null });
    assert.match(run.stderr(), /with --realtime, lines are commands/);
    assert.match(run.stderr(), /not JSON, not sent: \{oops/);
    assert.equal(run.stdout(), '');
  });

  test('--reconnect comes back after a drain, resubscribes, and keeps working', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = String((probe.address() as AddressInfo).port);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const first = await startServe(['--port', port, '--drain-ms', '0']);
    const client = fdx(['connect', `ws://127.0.0.1:${port}/rt`, '--realtime', '--reconnect']);
    client.child.stdin.write('/sub news\n');
    await waitFor(client, 'stderr', (text) => text.includes('subscribed to news'), 'the subscription');
    await stop(first.run);
    await waitFor(client, 'stderr', (text) => text.includes('closed: 1012'), 'the drain');
    const second = await startServe(['--port', port]);
    try {
      await waitFor(client, 'stderr', (text) => (text.match(/subscribed to news/g) ?? []).length === 2, 'the resubscription');
      client.child.stdin.end('/pub news "back"\n');
      assert.deepEqual(await exitOf(client), { code: 0, signal: null }, client.stderr());
      assert.match(client.stdout(), /^pub news "back"$/m);
      assert.equal((client.stderr().match(/online as/g) ?? []).length, 2);
    } finally {
      await stop(second.run);
    }
  });

  test('exits 1 when the server does not pick fdx.v1', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, handleProtocols: () => false });
    wss.on('connection', (ws) => ws.on('error', () => {}));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    try {
      const run = fdx(['connect', `ws://127.0.0.1:${(http.address() as AddressInfo).port}`, '--realtime'], { input: '/sub x\n' });
      assert.deepEqual(await exitOf(run), { code: 1, signal: null });
      assert.match(run.stderr(), /cannot connect to .*does not speak fdx\.v1/);
    } finally {
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.close();
    }
  });
});
