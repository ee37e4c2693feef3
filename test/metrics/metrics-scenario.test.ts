/**
 * /metrics against a scripted scenario: connections, messages, a failed handshake, a
 * backpressure drop, compression, a topic publication and real-time publications, recoveries
 * and a request timeout, each checked in the Prometheus text parsed by a strict parser
 * (test/support/prometheus-text.ts). Traffic totals are process-wide, so they are checked as
 * the difference between two scrapes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dc from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryBroker } from '../../src/index.js';
import { MetricsCollector, createMetricsHandler, CHANNEL_NAMES } from '../../src/metrics/index.js';
import { RealtimeServer, mountRealtime } from '../../src/realtime.js';
import { closed, nextMessage, openClient, until } from '../support/clients.js';
import { parsePrometheusText, valueOf, type PromFamily } from '../support/prometheus-text.js';
import { rawRequest, startServer, stopServer } from '../support/servers.js';

type Families = Map<string, PromFamily>;

describe('metrics of a scripted scenario, scraped at /metrics', () => {
  let collector: MetricsCollector;
  let metricsServer: http.Server;
  let scrapeUrl: string;

  const scrape = async (): Promise<Families> => {
    const response = await fetch(scrapeUrl);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await response.text());
  };
  const delta = (a: Families, b: Families, name: string, labels: Record<string, string> = {}): number => (valueOf(b, name, labels) ?? 0) - (valueOf(a, name, labels) ?? 0);

  before(async () => {
    collector = new MetricsCollector();
    const handler = createMetricsHandler(collector);
    metricsServer = http.createServer((req, res) => (req.url === '/metrics' ? handler(req, res) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
    scrapeUrl = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}/metrics`;
  });
  after(async () => {
    collector.close();
    await new Promise((resolve) => metricsServer.close(resolve));
  });

  it('counts connections, messages and bytes both ways, and sizes in the histogram', async () => {
    const { wss, url } = await startServer();
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
    const before = await scrape();
    const N = 5;
    const M = 4;
    const clients = await Promise.all(Array.from({ length: N }, () => openClient(url)));
    const echoes = clients.map((ws) => {
      let got = 0;
      return new Promise<void>((resolve) => ws.on('message', () => ++got === M && resolve()));
    });
    for (const ws of clients) for (let i = 0; i < M; i++) ws.send('0123456789'); // 10 bytes
    await Promise.all(echoes);
    const during = await scrape();
    assert.equal(valueOf(during, 'fullduplex_connections_open'), N);
    assert.equal(delta(before, during, 'fullduplex_handshakes_total'), N);
    assert.equal(delta(before, during, 'fullduplex_connections_opened_total'), N);
    // Server and clients are both ours: N*M messages each way on each side.
    assert.equal(delta(before, during, 'fullduplex_messages_received_total'), 2 * N * M);
    assert.equal(delta(before, during, 'fullduplex_messages_sent_total'), 2 * N * M);
    assert.equal(delta(before, during, 'fullduplex_received_bytes_total'), 2 * N * M * 10);
    assert.equal(delta(before, during, 'fullduplex_sent_bytes_total'), 2 * N * M * 10);
    // 10 bytes: in the le="15" bucket, not in le="3".
    assert.equal(delta(before, during, 'fullduplex_message_size_bytes_bucket', { direction: 'in', le: '15' }), 2 * N * M);
    assert.equal(delta(before, during, 'fullduplex_message_size_bytes_bucket', { direction: 'in', le: '3' }), 0);
    assert.equal(delta(before, during, 'fullduplex_message_size_bytes_count', { direction: 'out' }), 2 * N * M);
    await Promise.all(clients.map((ws) => (ws.close(), closed(ws))));
    await until(() => wss.clients.size === 0, 'server sides closed');
    const afterClose = await scrape();
    assert.equal(valueOf(afterClose, 'fullduplex_connections_open'), 0);
    assert.equal(delta(before, afterClose, 'fullduplex_connections_closed_total'), N);
    await stopServer(wss);
  });

  it('counts a failed handshake by its reason', async () => {
    const { wss, port } = await startServer();
    const before = await scrape();
    const answer = await rawRequest(
      port,
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 426/);
    const after = await scrape();
    assert.equal(delta(before, after, 'fullduplex_handshake_failures_total', { reason: 'WS_ERR_HANDSHAKE_VERSION' }), 1);
    assert.equal(delta(before, after, 'fullduplex_handshakes_total'), 0);
    await stopServer(wss);
  });

  it('counts backpressure drops by policy, and shows bytes waiting in the send buffer', async () => {
    const { wss, url } = await startServer({ maxBackpressure: 1024, backpressurePolicy: 'drop' });
    const big = Buffer.alloc(64 * 1024, 1);
    let results: string[] = [];
    let waiting = -1;
    const before = await scrape();
    const scraped = new Promise<Families>((resolve) => {
      wss.on('connection', (ws) => {
        // Three sends in one tick: the first goes, the other two find it waiting and are dropped.
        results = [ws.send(big), ws.send(big), ws.send(big)] as unknown as string[];
        waiting = ws.bufferedAmount;
        // Scraped in the same tick, before the write: the first message waits in the buffer.
        resolve(parsePrometheusText(collector.text()));
      });
    });
    const client = await openClient(url);
    const during = await scraped;
    await nextMessage(client);
    assert.deepEqual(results.slice(1), ['dropped', 'dropped']);
    assert.ok(waiting >= big.length);
    assert.ok(valueOf(during, 'fullduplex_send_buffer_bytes')! >= big.length);
    const after = await scrape();
    assert.equal(delta(before, after, 'fullduplex_backpressure_actions_total', { policy: 'drop', action: 'dropped' }), 2);
    client.close();
    await closed(client);
    await stopServer(wss);
  });

  it('counts bytes through permessage-deflate and the compression ratio', async () => {
    const { wss, url } = await startServer({ perMessageDeflate: true });
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(String(data))));
    const before = await scrape();
    const client = await openClient(url, undefined, { perMessageDeflate: true });
    const text = 'abcdefgh'.repeat(500); // 4000 bytes, above the 1024-byte threshold, very compressible
    client.send(text);
    const echo = await nextMessage(client);
    assert.equal(String(echo.data), text);
    const after = await scrape();
    // The client deflated it, the server inflated it, and the same back.
    assert.equal(delta(before, after, 'fullduplex_compression_bytes_total', { direction: 'deflate', stage: 'input' }), 2 * text.length);
    assert.equal(delta(before, after, 'fullduplex_compression_bytes_total', { direction: 'inflate', stage: 'output' }), 2 * text.length);
    assert.ok(valueOf(after, 'fullduplex_compression_ratio', { direction: 'deflate' })! > 5);
    client.close();
    await closed(client);
    await stopServer(wss);
  });

  it('counts topics, their subscriptions and publications', async () => {
    const { wss, url } = await startServer();
    wss.on('connection', (ws) => ws.subscribe('news'));
    const before = await scrape();
    const a = await openClient(url);
    const b = await openClient(url);
    await until(() => wss.subscriberCount('news') === 2, 'two subscribers');
    const during = await scrape();
    assert.equal(valueOf(during, 'fullduplex_topics'), 1);
    assert.equal(valueOf(during, 'fullduplex_topic_subscriptions'), 2);
    const got = Promise.all([nextMessage(a), nextMessage(b)]);
    wss.publish('news', 'hello');
    await got;
    const after = await scrape();
    assert.equal(delta(before, after, 'fullduplex_topic_publishes_total'), 1);
    for (const ws of [a, b]) ws.close();
    await Promise.all([closed(a), closed(b)]);
    await stopServer(wss);
  });

  it('counts broker publications of the topics, and the failures by code', async () => {
    const broker = new MemoryBroker();
    const { wss } = await startServer({ broker });
    const before = await scrape();
    await wss.publishAsync('t', 'one');
    await wss.publishAsync('t', 'two');
    await broker.close();
    await assert.rejects(wss.publishAsync('t', 'three'), { code: 'BROKER_CLOSED' });
    const after = await scrape();
    assert.equal(delta(before, after, 'fullduplex_broker_publishes_total'), 3);
    assert.equal(delta(before, after, 'fullduplex_broker_failures_total', { code: 'BROKER_CLOSED' }), 1);
    assert.equal(delta(before, after, 'fullduplex_topic_publishes_total'), 3);
    await stopServer(wss);
  });

  it('counts real-time publications, channels, recoveries (hit and miss), timed-out requests and presence', async () => {
    const realtime = new RealtimeServer({ requestTimeoutMs: 100 });
    const wss = mountRealtime(realtime, { port: 0 });
    await new Promise<void>((resolve) => wss.on('listening', resolve));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const before = await scrape();
    const ws = await openClient(url, 'fdx.v1');
    const replies = new Map<number, any>();
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.type === 'reply') replies.set(m.id, m);
    });
    const ask = async (message: Record<string, unknown> & { id: number }): Promise<any> => {
      ws.send(JSON.stringify(message));
      await until(() => replies.has(message.id), `reply ${message.id}`);
      return replies.get(message.id);
    };
    await ask({ type: 'connect', id: 1 });
    const sub = await ask({ type: 'subscribe', id: 2, channel: 'room' });
    await ask({ type: 'publish', id: 3, channel: 'room', data: { n: 1 } });
    await ask({ type: 'publish', id: 4, channel: 'room', data: { n: 2 } });
    const epoch = sub.result.position.epoch;
    await ask({ type: 'subscribe', id: 5, channel: 'other', since: { offset: '0', epoch: 'not-an-epoch' } }); // a miss
    await ask({ type: 'subscribe', id: 6, channel: 'room', since: { offset: '1', epoch } }); // a hit
    const connection = [...realtime.connections.values()][0]!;
    await assert.rejects(connection.request('nobody-answers', {}), { code: 'TIMEOUT' });
    dc.channel(CHANNEL_NAMES.realtimePresence).publish({ channel: 'room', members: 3 });
    const after = await scrape();
    assert.equal(delta(before, after, 'fullduplex_realtime_publishes_total'), 2);
    assert.equal(valueOf(after, 'fullduplex_realtime_connections'), 1);
    assert.equal(valueOf(after, 'fullduplex_realtime_channels'), 2);
    assert.equal(valueOf(after, 'fullduplex_realtime_subscriptions'), 2);
    assert.equal(delta(before, after, 'fullduplex_realtime_recoveries_total', { result: 'hit' }), 1);
    assert.equal(delta(before, after, 'fullduplex_realtime_recoveries_total', { result: 'miss' }), 1);
    assert.equal(delta(before, after, 'fullduplex_realtime_ack_timeouts_total', { side: 'client' }), 1);
    assert.equal(valueOf(after, 'fullduplex_realtime_presence_members'), 3);
    const snapshot = collector.snapshot();
    assert.deepEqual(snapshot.busiestChannels.find((c) => c.channel === 'room'), { channel: 'room', subscribers: 1, publications: 2 });
    ws.close();
    await closed(ws);
    await realtime.close();
    await new Promise((resolve) => wss.close(resolve));
    const gone = await scrape();
    assert.equal(valueOf(gone, 'fullduplex_realtime_connections'), 0);
  });

  it('measures the event loop delay as a summary', async () => {
    const start = Date.now();
    while (Date.now() - start < 60); // block the loop once
    await new Promise((resolve) => setTimeout(resolve, 50));
    const families = await scrape();
    assert.equal(families.get('fullduplex_event_loop_lag_seconds')?.type, 'summary');
    assert.ok(valueOf(families, 'fullduplex_event_loop_lag_seconds_count')! > 0);
    assert.ok(valueOf(families, 'fullduplex_event_loop_lag_max_seconds')! >= 0.04);
  });

  it('answers 405 to methods other than GET and HEAD', async () => {
    const response = await fetch(scrapeUrl, { method: 'POST' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, HEAD');
  });

  it('stops counting once closed', async () => {
    const other = new MetricsCollector();
    other.close();
    const { wss, port } = await startServer();
    await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n');
    assert.equal(valueOf(parsePrometheusText(other.text()), 'fullduplex_handshake_failures_total', { reason: 'WS_ERR_HANDSHAKE_KEY' }), undefined);
    await stopServer(wss);
  });
});

describe('the Prometheus text parser used by these tests', () => {
  it('refuses samples without a TYPE, split families, and non-cumulative buckets', () => {
    assert.throws(() => parsePrometheusText('x 1\n'), /no TYPE/);
    assert.throws(() => parsePrometheusText('# TYPE a counter\na 1\n# TYPE b gauge\nb 1\na 2\n'), /not together/);
    assert.throws(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 0\n'), /not cumulative/);
    assert.throws(() => parsePrometheusText('# TYPE a counter\na 1'), /newline/);
    assert.throws(() => parsePrometheusText('# TYPE a counter\na{x="1"} 1\na{x="1"} 2\n'), /twice/);
    const ok = parsePrometheusText('# HELP a A \\\\ b\n# TYPE a gauge\na{x="q\\"\\n"} -1.5e3\n');
    assert.equal(valueOf(ok, 'a', { x: 'q"\n' }), -1500);
  });

  it('reads every family of the collector as well-formed, with HELP and TYPE', () => {
    const collector = new MetricsCollector();
    const families = parsePrometheusText(collector.text());
    collector.close();
    assert.ok(families.size >= 25);
    for (const family of families.values()) {
      assert.ok(family.help.length > 0, `${family.name} has help`);
      assert.notEqual(family.type, 'untyped');
      assert.match(family.name, /^fullduplex_/);
    }
  });
});
