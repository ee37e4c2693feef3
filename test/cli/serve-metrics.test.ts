/**
 * `fdx serve --metrics --admin` as a user runs it: the real binary answers Prometheus scrapes
 * at /metrics (parsed strictly, numbers following the traffic), serves the admin page behind
 * its token (a made-up token printed at start, or the one given), and refuses a short token.
 */
import { once } from 'node:events';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from '../../src/index.js';
import { parsePrometheusText, valueOf } from '../support/prometheus-text.js';
import { exitOf, fdx, startServe, stop, waitFor, withLimit } from './fdx-process.js';

describe('fdx serve --metrics --admin', () => {
  test('answers scrapes at /metrics with numbers that follow the traffic', async () => {
    const { run, base } = await startServe(['--echo', '/echo', '--metrics', '--drain-ms', '0']);
    try {
      const before = parsePrometheusText(await (await fetch(`http://${base}/metrics`)).text());
      assert.equal(valueOf(before, 'fullduplex_connections_open'), 0);
      const ws = new WebSocket(`ws://${base}/echo`);
      await withLimit(once(ws, 'open'), 'open');
      ws.send('ping me');
      await withLimit(once(ws, 'message'), 'echo');
      const during = parsePrometheusText(await (await fetch(`http://${base}/metrics`)).text());
      assert.equal(valueOf(during, 'fullduplex_connections_open'), 1);
      assert.equal(valueOf(during, 'fullduplex_handshakes_total'), 1);
      assert.equal(valueOf(during, 'fullduplex_messages_received_total'), 1);
      assert.equal(valueOf(during, 'fullduplex_messages_sent_total'), 1);
      ws.close();
      await withLimit(once(ws, 'close'), 'close');
      // Without --admin there is no admin page: the static folder (none) answers 404.
      assert.equal((await fetch(`http://${base}/admin`)).status, 404);
    } finally {
      assert.equal((await stop(run)).code, 0);
    }
  });

  test('serves the admin page behind a made-up token it prints', async () => {
    const { run, base } = await startServe(['--admin', '--drain-ms', '0']);
    try {
      const line = await waitFor(run, 'stdout', (text) => /admin http:.*\(token \S+\)\n/.test(text), 'admin line');
      const token = /\(token (\S+)\)/.exec(line)![1]!;
      assert.equal((await fetch(`http://${base}/admin/`)).status, 401);
      const page = await fetch(`http://${base}/admin/`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(page.status, 200);
      const stats = await fetch(`http://${base}/admin/api/stats`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(((await stats.json()) as { realtimeConnections: number }).realtimeConnections, 0);
      // Without --metrics there is no /metrics.
      assert.equal((await fetch(`http://${base}/metrics`)).status, 404);
    } finally {
      assert.equal((await stop(run)).code, 0);
    }
  });

  test('takes the token given, does not print it, and refuses a short one (exit 2)', async () => {
    const { run, base } = await startServe(['--admin-token', 'given-token-123', '--drain-ms', '0']);
    try {
      const line = await waitFor(run, 'stdout', (text) => text.includes('admin http:'), 'admin line');
      assert.ok(!line.includes('given-token-123'));
      assert.equal((await fetch(`http://${base}/admin/api/stats`, { headers: { authorization: 'Bearer given-token-123' } })).status, 200);
    } finally {
      assert.equal((await stop(run)).code, 0);
    }
    const shortRun = fdx(['serve', '--port', '0', '--admin-token', 'short']);
    assert.equal((await exitOf(shortRun)).code, 2);
    assert.match(shortRun.stderr(), /at least 8 characters/);
  });
});
