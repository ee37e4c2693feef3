/**
 * fullduplex/metrics registered into a prom-client Registry: our families appear beside the
 * application's own metrics, with the same numbers as our own text, and go away when removed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Registry } from 'prom-client';
import { MetricsCollector, registerMetrics } from '../../src/metrics/index.js';
import { closed, openClient } from '../support/clients.js';
import { parsePrometheusText, valueOf } from '../support/prometheus-text.js';
import { startServer, stopServer } from '../support/servers.js';

describe('registerMetrics into a prom-client Registry', () => {
  it('exposes our families beside the application\'s, with the same numbers as text()', async () => {
    const registry = new Registry();
    const own = new Counter({ name: 'app_requests_total', help: 'The application\'s own counter.', registers: [registry] });
    own.inc(3);
    const collector = new MetricsCollector();
    const unregister = registerMetrics(registry, collector);
    const { wss, url } = await startServer();
    const a = await openClient(url);
    const b = await openClient(url);
    const families = parsePrometheusText(await registry.metrics());
    assert.equal(valueOf(families, 'app_requests_total'), 3);
    assert.equal(valueOf(families, 'fullduplex_connections_open'), 2);
    assert.equal(valueOf(families, 'fullduplex_handshakes_total'), 2);
    assert.equal(families.get('fullduplex_message_size_bytes')?.type, 'histogram');
    assert.equal(families.get('fullduplex_event_loop_lag_seconds')?.type, 'summary');
    // Same families, same series, as our own text.
    const ours = parsePrometheusText(collector.text());
    for (const name of ['fullduplex_connections_open', 'fullduplex_handshakes_total', 'fullduplex_messages_sent_total']) {
      assert.equal(valueOf(families, name), valueOf(ours, name), name);
    }
    assert.deepEqual(
      families.get('fullduplex_message_size_bytes')!.samples.map((s) => s.name + JSON.stringify(s.labels)),
      ours.get('fullduplex_message_size_bytes')!.samples.map((s) => s.name + JSON.stringify(s.labels)),
    );
    const json = await registry.getMetricsAsJSON();
    assert.ok(json.some((m) => m.name === 'fullduplex_topics'));
    unregister();
    const left = parsePrometheusText(await registry.metrics());
    assert.deepEqual([...left.keys()], ['app_requests_total']);
    for (const ws of [a, b]) ws.close();
    await Promise.all([closed(a), closed(b)]);
    await stopServer(wss);
    collector.close();
  });

  it('refuses a second registration of the same names, as prom-client does for its own', () => {
    const registry = new Registry();
    const collector = new MetricsCollector();
    registerMetrics(registry, collector);
    assert.throws(() => registerMetrics(registry, collector), /already been registered/);
    collector.close();
  });
});
