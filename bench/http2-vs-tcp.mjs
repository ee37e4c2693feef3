// WebSockets over one HTTP/2 connection (RFC 8441) against as many TCP connections: for N
// WebSockets (1,000 by default), the time to open them all, the server's memory per WebSocket
// (heap and RSS, after a forced GC, over the server's idle baseline), and echo throughput
// (every WebSocket keeps a window of messages in flight). Both runs use TLS (wss:, ALPN), as a
// browser would. The server runs in a child process so that the load generator (this process,
// our own client) is measured apart; both CPU uses are reported beside the result.
// Usage: node bench/http2-vs-tcp.mjs [--smoke] [--connections N] [--seconds S] [--out FILE]
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from '../dist/index.js';

const fixture = (name) => readFileSync(fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url)));
const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);

// ------------------------------------------------------------------ the server (child)
if (argv[0] === '--serve') {
  const transport = argv[1];
  const tls = { cert: fixture('cert.pem'), key: fixture('key.pem') };
  const server =
    transport === 'http2'
      ? http2.createSecureServer({ ...tls, settings: { enableConnectProtocol: true, maxConcurrentStreams: 100_000 } })
      : https.createServer(tls);
  const wss = new WebSocketServer({ server, pingIntervalMs: 0, maxStreamsPerSession: 0 });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const memory = () => {
    globalThis.gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    return { heapUsed, rss };
  };
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, baseline: memory() }));
  process.on('message', (message) => {
    if (message === 'memory') process.send({ memory: memory(), clients: wss.clients.size });
    if (message === 'cpu') process.send({ cpu: process.cpuUsage() });
  });
} else {
  await main();
}

function ask(child, message, key) {
  return new Promise((resolve) => {
    const on = (reply) => {
      if (!(key in reply)) return;
      child.off('message', on);
      resolve(reply);
    };
    child.on('message', on);
    child.send(message);
  });
}

async function measure(transport, connections, seconds, window) {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', transport], { execArgv: ['--expose-gc'] });
  const { port, baseline } = await new Promise((resolve) => child.once('message', resolve));
  const url = `wss://127.0.0.1:${port}/`;
  const options = { rejectUnauthorized: false, perMessageDeflate: false, ...(transport === 'http2' ? { http2: true } : {}) };

  const clientCpu0 = process.cpuUsage();
  const serverCpu0 = (await ask(child, 'cpu', 'cpu')).cpu;
  const t0 = performance.now();
  const sockets = await Promise.all(
    Array.from({ length: connections }, () => {
      const ws = new WebSocket(url, options);
      return new Promise((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    }),
  );
  const handshakeMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 200));
  const { memory, clients } = await ask(child, 'memory', 'memory');
  if (clients !== connections) throw new Error(`the server holds ${clients} of ${connections} WebSockets`);

  // Echo: every WebSocket keeps `window` 32-byte messages in flight for `seconds`.
  const payload = Buffer.alloc(32, 'x');
  let echoed = 0;
  let running = true;
  for (const ws of sockets) {
    ws.on('message', () => {
      echoed++;
      if (running) ws.send(payload);
    });
  }
  const e0 = performance.now();
  for (const ws of sockets) for (let i = 0; i < window; i++) ws.send(payload);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  const echoSeconds = (performance.now() - e0) / 1000;
  const counted = echoed;
  const clientCpu = process.cpuUsage(clientCpu0);
  const serverCpu = (await ask(child, 'cpu', 'cpu')).cpu;

  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise((resolve) => {
          ws.once('close', resolve);
          ws.close();
        }),
    ),
  );
  child.kill();
  const perSocket = (a, b) => Math.round((a - b) / connections);
  return {
    transport,
    connections,
    handshakeMs: Math.round(handshakeMs),
    heapPerWebSocket: perSocket(memory.heapUsed, baseline.heapUsed),
    rssPerWebSocket: perSocket(memory.rss, baseline.rss),
    echoMsgsPerSec: Math.round(counted / echoSeconds),
    serverCpuS: Number(((serverCpu.user + serverCpu.system - serverCpu0.user - serverCpu0.system) / 1e6).toFixed(2)),
    generatorCpuS: Number(((clientCpu.user + clientCpu.system) / 1e6).toFixed(2)),
    wallS: Number(((performance.now() - t0) / 1000).toFixed(2)),
  };
}

async function main() {
  const smoke = argv.includes('--smoke');
  const connections = Number(option('--connections', smoke ? 20 : 1000));
  const seconds = Number(option('--seconds', smoke ? 0.5 : 5));
  const window = 4;
  const results = {};
  for (const transport of ['tcp', 'http2']) results[transport] = await measure(transport, connections, seconds, window);
  const ratio = (key) => Number((results.http2[key] / results.tcp[key]).toFixed(2));
  const output = {
    scenario: 'http2-vs-tcp',
    title: `${connections} WebSockets over one HTTP/2 connection vs ${connections} TLS connections`,
    profile: smoke ? 'smoke' : 'full',
    node: process.version,
    results,
    http2OverTcp: {
      handshakeMs: ratio('handshakeMs'),
      heapPerWebSocket: ratio('heapPerWebSocket'),
      rssPerWebSocket: ratio('rssPerWebSocket'),
      echoMsgsPerSec: ratio('echoMsgsPerSec'),
    },
  };
  const json = `${JSON.stringify(output, null, 2)}\n`;
  const out = option('--out', null);
  if (out) writeFileSync(out, json);
  process.stdout.write(json);
  process.exit(0);
}
