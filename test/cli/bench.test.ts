/**
 * `fdx bench` through the real binary, against servers whose behaviour is known: ws and
 * fullduplex echoing, an echo that answers after 20 ms, one that stalls once (coordinated
 * omission), `fdx serve` for fan-out and fdx.v1 publish; the --json schema, the --html plots,
 * merged --workers and the source addresses the server sees. Runs are short: numbers are
 * checked against bands wide enough for a busy machine, never against a speed.
 */
import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer } from '../../src/index.js';
import type { BenchResult } from '../../src/loadgen/bench-run.js';
import { LatencyHistogram } from '../../src/loadgen/latency-histogram.js';
import { fdx, startServe, stop, withLimit, type Fdx } from './fdx-process.js';

const RUN_LIMIT_MS = 120_000;
const dir = mkdtempSync(join(tmpdir(), 'fdx-bench-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Server {
  url: string;
  remoteAddresses: Set<string>;
  /** The X-Token header of each upgrade request that had one. */
  tokens: string[];
  close(): Promise<void>;
}

/** A ws or fullduplex server on a free port whose connections answer with `onMessage`. */
async function server(kind: 'ws' | 'fullduplex', onMessage: (send: (data: Buffer, binary: boolean) => void, data: Buffer, binary: boolean) => void): Promise<Server> {
  // Both servers have the same ws-shaped surface; typed loosely to use either.
  const wss: any = kind === 'ws' ? new WsServer({ port: 0, host: '127.0.0.1' }) : new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const remoteAddresses = new Set<string>();
  const tokens: string[] = [];
  wss.on('connection', (ws: any, request: any) => {
    remoteAddresses.add(request.socket.remoteAddress);
    if (request.headers['x-token']) tokens.push(request.headers['x-token']);
    ws.on('error', () => {});
    ws.on('message', (data: Buffer, binary: boolean) => onMessage((d, b) => ws.send(d, { binary: b }), data, binary));
  });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    remoteAddresses,
    tokens,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

const echo = (send: (data: Buffer, binary: boolean) => void, data: Buffer, binary: boolean): void => send(data, binary);

async function bench(args: string[]): Promise<{ code: number | null; result: BenchResult; run: Fdx }> {
  const run = fdx(['bench', ...args, '--json']);
  const exit = await withLimit(run.exited, `exit of fdx bench ${args.join(' ')}; stderr: ${run.stderr()}`, RUN_LIMIT_MS);
  let result: BenchResult;
  try {
    result = JSON.parse(run.stdout()) as BenchResult;
  } catch {
    throw new Error(`not JSON (exit ${exit.code}): ${run.stdout()}\n${run.stderr()}`);
  }
  return { code: exit.code, result, run };
}

const SHORT = ['--duration', '1.5', '--warmup', '0.3'];

/** The latency summary is ordered as percentiles must be, and its histogram holds its samples. */
function assertLatency(result: BenchResult): void {
  const l = result.latency;
  assert.ok(l.samples > 0, 'latency recorded');
  const ordered = [l.p50Us, l.p90Us, l.p99Us, l.p999Us, l.p9999Us, l.maxUs] as number[];
  for (const v of ordered) assert.equal(typeof v, 'number');
  assert.deepEqual([...ordered].sort((a, b) => a - b), ordered, 'p50 <= p90 <= p99 <= p99.9 <= p99.99 <= max');
  assert.equal(LatencyHistogram.decode(l.histogram).count, l.samples, 'the histogram in the JSON holds every sample');
  assert.equal(result.generator.samplesPerWorker.reduce((a, b) => a + b, 0), l.samples, 'the workers\' histograms add up');
}

describe('fdx bench', () => {
  for (const kind of ['ws', 'fullduplex'] as const) {
    test(`echo against ${kind}: every connection opens, replies are counted and timed, the JSON has its schema`, async () => {
      const target = await server(kind, echo);
      try {
        const { code, result, run } = await bench([target.url, '--connections', '3', '--inflight', '2', '--size', '64', '-H', 'X-Token: s3cret', ...SHORT]);
        assert.equal(code, 0, run.stderr());
        assert.deepEqual(target.tokens, ['s3cret', 's3cret', 's3cret'], 'each upgrade request carries the header');
        assert.deepEqual(result.options.headers, ['X-Token'], 'the report names the header');
        assert.ok(!run.stdout().includes('s3cret'), 'the report does not show its value');
        assert.equal(result.schema, 1);
        assert.equal(result.scenario, 'echo');
        assert.equal(result.url, target.url);
        assert.deepEqual(Object.keys(result).sort(), ['connections', 'errors', 'generator', 'latency', 'latencyFrom', 'measuredS', 'options', 'scenario', 'schema', 'startedAt', 'throughput', 'timeline', 'url']);
        assert.equal(result.connections.opened, 3);
        assert.equal(result.connections.failed, 0);
        assert.ok(result.throughput.messagesPerSec > 0);
        assert.ok(result.measuredS >= 1.4 && result.measuredS < 10, `measured ${result.measuredS} s`);
        assertLatency(result);
        assert.deepEqual(result.errors, { total: 0, byKind: {}, samples: [] });
        assert.equal(result.generator.workers, 1);
        assert.equal(result.generator.cpuPerWorker.length, 1);
        assert.ok(result.generator.cpuPerWorker[0]! > 0 && result.generator.cpuPerWorker[0]! < 1.5);
        assert.ok(result.timeline.length >= 1, 'a point each second');
        assert.ok(result.timeline.every((p) => p.open === 3));
        assert.ok(result.latency.distribution.length > 4);
        assert.equal(result.latency.distribution.at(-1)![0], 100);
      } finally {
        await target.close();
      }
    });
  }

  test('a server that answers after 20 ms yields latencies in the 20 ms band', async () => {
    const target = await server('ws', (send, data, binary) => setTimeout(() => send(data, binary), 20));
    try {
      const { code, result } = await bench([target.url, '--connections', '2', '--inflight', '1', '--duration', '2', '--warmup', '0.3']);
      assert.equal(code, 0);
      const p50Ms = result.latency.p50Us! / 1000;
      assert.ok(p50Ms >= 19.5 && p50Ms < 80, `p50 ${p50Ms} ms`);
      assert.ok(result.latency.p90Us! / 1000 >= 19.5, 'nothing below the delay');
      // Closed loop, one in flight on each of 2 connections: at most 2 / 20 ms = 100 messages/s.
      assert.ok(result.throughput.messagesPerSec <= 105 && result.throughput.messagesPerSec > 10, `${result.throughput.messagesPerSec}/s`);
    } finally {
      await target.close();
    }
  });

  test('open loop against a server that stalls once: the stall shows in the corrected percentiles, not in the uncorrected ones', async () => {
    const STALL_MS = 400;
    let received = 0;
    const target = await server('ws', (send, data, binary) => {
      received += 1;
      if (received === 100) {
        const until = Date.now() + STALL_MS;
        while (Date.now() < until) {
          // the server's event loop is blocked, as in a long GC pause
        }
      }
      send(data, binary);
    });
    try {
      const { code, result } = await bench([target.url, '--scenario', 'rate', '--rate', '200', '--connections', '1', '--inflight', '1', '--duration', '3', '--warmup', '0']);
      assert.equal(code, 0);
      assert.ok(received >= 100, 'the stall happened');
      const corrected = result.latency;
      const raw = result.uncorrectedLatency!;
      assert.equal(raw.samples, corrected.samples);
      // ~80 messages fell due during the stall: they waited for it from when they were due.
      assert.ok(corrected.p99Us! >= 250_000, `corrected p99 ${corrected.p99Us} µs`);
      // Measured from the actual send only the one message in flight saw the stall.
      assert.ok(raw.maxUs! >= 300_000, `uncorrected max ${raw.maxUs} µs`);
      assert.ok(raw.p99Us! < corrected.p99Us! / 2, `uncorrected p99 ${raw.p99Us} µs against corrected ${corrected.p99Us} µs`);
    } finally {
      await target.close();
    }
  });

  test('--workers 2 runs two generator processes whose histograms merge, from the source addresses given', async () => {
    const target = await server('fullduplex', echo);
    try {
      const { code, result } = await bench([target.url, '--workers', '2', '--connections', '8', '--source-addresses', '4', ...SHORT]);
      assert.equal(code, 0);
      assert.equal(result.connections.opened, 8);
      assert.equal(result.generator.workers, 2);
      assert.equal(result.generator.cpuPerWorker.length, 2);
      assert.ok(result.generator.samplesPerWorker.every((n) => n > 0), `${result.generator.samplesPerWorker}`);
      assertLatency(result);
      assert.deepEqual(result.options.sourceAddresses, ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']);
      assert.deepEqual([...target.remoteAddresses].sort(), ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']);
    } finally {
      await target.close();
    }
  });

  test('--source-addresses LIST: the server sees connections from those addresses only; --html writes the plots', async () => {
    const target = await server('fullduplex', echo);
    const html = join(dir, 'report.html');
    try {
      const { code } = await bench([target.url, '--connections', '4', '--source-addresses', '127.0.0.7,127.0.0.8', '--html', html, ...SHORT]);
      assert.equal(code, 0);
      assert.deepEqual([...target.remoteAddresses].sort(), ['127.0.0.7', '127.0.0.8']);
      const page = readFileSync(html, 'utf8');
      assert.match(page, /^<!doctype html>/);
      for (const id of ['latency-distribution', 'throughput-over-time', 'latency-over-time']) {
        assert.match(page, new RegExp(`<svg id="${id}"[^>]*>.*?<path d="M[0-9.]+,[0-9.]+ L`, 's'), id);
      }
      assert.match(page, /p99\.99/);
      assert.doesNotMatch(page, /<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'self-contained: nothing loaded from elsewhere');
    } finally {
      await target.close();
    }
  });

  test('connect opens and closes connections in a loop; hold keeps them and pings each at the end', async () => {
    const target = await server('fullduplex', echo);
    try {
      const connect = await bench([target.url, '--scenario', 'connect', '--connections', '2', ...SHORT]);
      assert.equal(connect.code, 0, JSON.stringify(connect.result.errors));
      assert.ok(connect.result.throughput.messagesPerSec > 0);
      assert.ok(connect.result.latency.samples > 1);
      const hold = await bench([target.url, '--scenario', 'hold', '--connections', '60', ...SHORT]);
      assert.equal(hold.code, 0, JSON.stringify(hold.result.errors));
      assert.equal(hold.result.held, 60);
      assert.equal(hold.result.latency.samples, 60, 'one ping round trip each');
    } finally {
      await target.close();
    }
  });

  test('fanout through fdx serve --topics and publish through its fdx.v1 endpoint: every subscriber gets each publication, timed from its publish time', async () => {
    const serve = await startServe(['--topics', '/t']);
    try {
      const fanout = await bench([`ws://${serve.base}/t/news`, '--scenario', 'fanout', '--connections', '6', '--rate', '100', '--size', '64', ...SHORT]);
      assert.equal(fanout.code, 0, JSON.stringify(fanout.result.errors));
      // fdx serve --topics sends a publication to the topic's other subscribers: 5 of 6.
      const perPublication = fanout.result.throughput.deliveriesPerPublication!;
      assert.ok(Math.abs(perPublication - 5) < 0.5, `${perPublication} deliveries per publication`);
      assert.ok(fanout.result.throughput.publicationsPerSec! > 50, `${fanout.result.throughput.publicationsPerSec}/s`);
      assert.ok(fanout.result.latency.samples > 100);

      const publish = await bench([`ws://${serve.base}/rt`, '--scenario', 'publish', '--connections', '5', '--rate', '20', '--channel', 'room:1', ...SHORT]);
      assert.equal(publish.code, 0, JSON.stringify(publish.result.errors));
      // The publisher does not subscribe: 4 subscribers.
      assert.ok(Math.abs(publish.result.throughput.deliveriesPerPublication! - 4) < 0.5, `${publish.result.throughput.deliveriesPerPublication}`);
      assert.ok(publish.result.latency.samples > 20);
    } finally {
      await stop(serve.run);
    }
  });

  describe('over wss://', () => {
    const certFile = new URL('../fixtures/cert.pem', import.meta.url).pathname;
    let target: { url: string; handshakes: number; close(): Promise<void> };
    before(async () => {
      const https = createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(new URL('../fixtures/key.pem', import.meta.url)) });
      const wss = new WebSocketServer({ server: https });
      const state = { handshakes: 0 };
      wss.on('connection', (ws) => {
        state.handshakes++;
        ws.on('message', (data, binary) => ws.send(data, { binary }));
      });
      await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
      target = {
        url: `wss://localhost:${(https.address() as AddressInfo).port}/`,
        get handshakes() {
          return state.handshakes;
        },
        close: () =>
          new Promise((resolve) => {
            for (const client of wss.clients) client.terminate();
            wss.close();
            https.close(() => resolve());
          }),
      };
    });
    after(() => target.close());

    test('echo with --ca: the certificate is checked against it, every connection opens and echoes', async () => {
      const before = target.handshakes;
      const { code, result } = await bench([target.url, '--connections', '3', '--ca', certFile, ...SHORT]);
      assert.equal(code, 0, JSON.stringify(result.errors));
      assert.equal(result.connections.opened, 3);
      assert.equal(target.handshakes - before, 3, 'the server saw three TLS handshakes and upgrades');
      assert.deepEqual(result.options.tls, { rejectUnauthorized: true }, 'the report says certificates were checked, never the CA');
      assert.ok(result.throughput.messagesPerSec > 0);
      assertLatency(result);
    });

    test('a certificate nobody vouches for: no connection, exit 1, counted as connect errors', async () => {
      const { code, result } = await bench([target.url, '--connections', '2', '--duration', '0.5', '--warmup', '0']);
      assert.equal(code, 1);
      assert.equal(result.connections.opened, 0);
      assert.equal(result.errors.byKind.connect, 2);
    });

    test('--insecure accepts it and says so in the report', async () => {
      const { code, result } = await bench([target.url, '--connections', '2', '--insecure', ...SHORT]);
      assert.equal(code, 0, JSON.stringify(result.errors));
      assert.equal(result.connections.opened, 2);
      assert.deepEqual(result.options.tls, { rejectUnauthorized: false });
    });
  });

  test('no server: exit 1 and the connect errors counted by kind', async () => {
    const target = await server('ws', echo);
    const url = target.url;
    await target.close();
    const { code, result } = await bench([url, '--connections', '2', '--duration', '0.5', '--warmup', '0']);
    assert.equal(code, 1);
    assert.equal(result.connections.opened, 0);
    assert.equal(result.errors.byKind.connect, 2);
  });

  const mistakes: Array<{ args: string[]; stderr: RegExp }> = [
    { args: [], stderr: /^fdx: missing URL/ },
    { args: ['http://127.0.0.1:1/'], stderr: /must start with ws:\/\/ or wss:\/\// },
    { args: ['wss://127.0.0.1:1/', '--ca', '/nonexistent/ca.pem'], stderr: /cannot read --ca \/nonexistent\/ca\.pem: ENOENT/ },
    { args: ['ws://127.0.0.1:1/', '--scenario', 'soak'], stderr: /--scenario must be one of echo, rate, connect, hold, fanout, publish/ },
    { args: ['ws://127.0.0.1:1/', '--duration', 'ten'], stderr: /--duration must be a number of seconds/ },
    { args: ['ws://127.0.0.1:1/', '--source-addresses', 'nowhere'], stderr: /--source-addresses wants IP addresses or a count/ },
    { args: ['ws://example.com/', '--source-addresses', '2'], stderr: /must name 127\.x\.x\.x or localhost/ },
  ];
  for (const { args, stderr } of mistakes) {
    test(`exits 2 with a usage line for: fdx bench ${args.join(' ')}`, async () => {
      const run = fdx(['bench', ...args]);
      const exit = await withLimit(run.exited, 'exit', RUN_LIMIT_MS);
      assert.equal(exit.code, 2);
      assert.match(run.stderr(), stderr);
      assert.match(run.stderr(), /Run "fdx bench --help" for usage/);
    });
  }
});
