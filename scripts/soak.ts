/**
 * Soak test: `npm run soak -- --minutes N [--connections C] [--clients P] [--seed S]`.
 *
 * This process runs a fullduplex WebSocketServer; P child processes (this file with --role client)
 * keep C connections open between them with fullduplex's client, each living a random few
 * seconds and closing in a random way (the client's close, the server's close, or an abrupt
 * reset), so thousands of connections come and go. Every message carries a sequence number and
 * a CRC-32 of its payload, in both directions; some are text, some binary, some fragmented,
 * some compressed (half the connections negotiate permessage-deflate), and some go to a topic
 * through wss.publish and reach every subscriber. Each orderly close ends with a count exchange,
 * so a lost message anywhere (direct or on a topic) is noticed, not only a corrupted one.
 *
 * Phases: warm-up churn, then every client closes (the baseline is measured with no connection
 * open, heap after forced GC), the main churn, then every client closes again (the end is
 * measured the same way). The run fails (exit 1) if any message was lost, corrupted or out of
 * order, if any connection closed otherwise than its plan, if the heap after GC at the end grew
 * past the baseline by more than the stated bound, or if sockets or timers are left behind.
 * Traffic stays on 127.0.0.0/8; every loop is bounded in count and time.
 */
import { createHook } from 'node:async_hooks';
import { fork, type ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { crc32 } from 'node:zlib';
import WebSocket, { WebSocketServer } from 'fullduplex';

// ---------------------------------------------------------------------------------- wire format
//
// Data messages, each direction numbered from 1 on its connection:
//   binary  [kind 1][seq u32][crc u32][payload]                data
//           [kind 2][seq u32][crc u32][topic u8][payload]      client asks the server to publish
//   text    "D <seq> <crc> <payload>"                          data
// Topic messages, server to subscribers, numbered per topic:
//   binary  [kind 3][topic u8][topicSeq u32][crc u32][payload]
// Control messages (JSON text, not numbered):
//   {"t":"sub","topic":n,"seq":s}   server: subscribed; topic messages after s follow
//   {"t":"bye","sent":n,"topics":{...}}   the closing side: I sent n, and (server) the last topic seqs
//   {"t":"ack","sent":n,"topics":{...}}   the other side: all seen; I sent n
//   {"t":"close-me"}                client: start the server-side close

const KIND_DATA = 1;
const KIND_PUBLISH = 2;
const KIND_TOPIC = 3;
const TOPICS = 16;
const HEADER = 9;

type CloseMode = 'client' | 'server' | 'abrupt';

interface Stats {
  connections: number;
  closedByClient: number;
  closedByServer: number;
  abrupt: number;
  /** Data messages on connections closed in order: every one must arrive. */
  sent: number;
  received: number;
  /** The same on connections reset on purpose (whatever was in flight may be lost). */
  sentAbrupt: number;
  receivedAbrupt: number;
  topicReceived: number;
  published: number;
  fragmented: number;
  compressedConnections: number;
  bytesSent: number;
  bytesReceived: number;
  failures: number;
  failureSamples: string[];
}

function emptyStats(): Stats {
  return {
    connections: 0,
    closedByClient: 0,
    closedByServer: 0,
    abrupt: 0,
    sent: 0,
    received: 0,
    sentAbrupt: 0,
    receivedAbrupt: 0,
    topicReceived: 0,
    published: 0,
    fragmented: 0,
    compressedConnections: 0,
    bytesSent: 0,
    bytesReceived: 0,
    failures: 0,
    failureSamples: [],
  };
}

function fail(stats: Stats, what: string): void {
  stats.failures++;
  if (stats.failureSamples.length < 20) stats.failureSamples.push(what);
}

/** A deterministic generator (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Payload pools: compressible text (with 2-, 3- and 4-byte characters) and incompressible bytes. */
const WORDS = ['soak', 'frame', 'fragment', 'mask', 'déjà', 'vu', 'naïve', '€uro', '漢字', 'テスト', '😀', '𝄞', 'ok', 'close', 'ping'];
function textPayload(rnd: () => number, size: number): string {
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const word = WORDS[Math.floor(rnd() * WORDS.length)]!;
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ');
}
const BYTES = Buffer.alloc(1 << 20);
for (let i = 0, x = 0x9e3779b9; i < BYTES.length; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  BYTES[i] = x & 0xff;
}
function binaryPayload(rnd: () => number, size: number): Buffer {
  const start = Math.floor(rnd() * (BYTES.length - size));
  return rnd() < 0.5 ? BYTES.subarray(start, start + size) : Buffer.from(textPayload(rnd, size)).subarray(0, size);
}
/** Mostly small messages, some of a few KiB, a few up to 64 KiB. */
function payloadSize(rnd: () => number): number {
  const r = rnd();
  if (r < 0.7) return Math.floor(rnd() * 200);
  if (r < 0.95) return 200 + Math.floor(rnd() * 8000);
  return 8192 + Math.floor(rnd() * 57344);
}

function binaryMessage(kind: number, seq: number, payload: Buffer, topic = -1): Buffer {
  const extra = topic >= 0 ? 1 : 0;
  const out = Buffer.allocUnsafe(HEADER + extra + payload.length);
  out[0] = kind;
  out.writeUInt32BE(seq, 1);
  out.writeUInt32BE(crc32(payload), 5);
  if (extra) out[HEADER] = topic;
  payload.copy(out, HEADER + extra);
  return out;
}

function topicMessage(topic: number, seq: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(10 + payload.length);
  out[0] = KIND_TOPIC;
  out[1] = topic;
  out.writeUInt32BE(seq, 2);
  out.writeUInt32BE(crc32(payload), 6);
  payload.copy(out, 10);
  return out;
}

/** One numbered stream: checks that messages arrive in order, each intact. */
class Inbound {
  count = 0;
  check(stats: Stats, where: string, seq: number, crc: number, payload: Uint8Array): void {
    if (seq !== this.count + 1) fail(stats, `${where}: message ${seq} arrived after ${this.count}`);
    else if (crc32(payload) !== crc) fail(stats, `${where}: message ${seq} corrupted`);
    this.count = seq;
  }
}

/** Parses a data message (either direction); returns null for control messages. */
function readData(data: Buffer, isBinary: boolean): { kind: number; seq: number; crc: number; topic: number; payload: Uint8Array } | { control: Record<string, unknown> } | 'malformed' {
  if (isBinary) {
    if (data.length < HEADER) return 'malformed';
    const kind = data[0]!;
    if (kind === KIND_TOPIC) {
      if (data.length < 10) return 'malformed';
      return { kind, topic: data[1]!, seq: data.readUInt32BE(2), crc: data.readUInt32BE(6), payload: data.subarray(10) };
    }
    const topic = kind === KIND_PUBLISH ? data[HEADER]! : -1;
    return { kind, seq: data.readUInt32BE(1), crc: data.readUInt32BE(5), topic, payload: data.subarray(HEADER + (topic >= 0 ? 1 : 0)) };
  }
  const text = data.toString('utf8');
  if (text.startsWith('{')) {
    try {
      return { control: JSON.parse(text) as Record<string, unknown> };
    } catch {
      return 'malformed';
    }
  }
  const m = /^D (\d+) (\d+) /.exec(text);
  if (!m) return 'malformed';
  return { kind: KIND_DATA, seq: Number(m[1]), crc: Number(m[2]), topic: -1, payload: Buffer.from(text.slice(m[0].length)) };
}

/**
 * Sends one numbered data message on `ws`: text or binary, whole or in fragments. `seq` is
 * the message's number. Counts it as sent on an orderly or an abrupt connection.
 */
function sendData(ws: WebSocket, rnd: () => number, seq: number, stats: Stats, abrupt: boolean, topic = -1): void {
  const size = payloadSize(rnd);
  let message: Buffer | string;
  if (topic < 0 && rnd() < 0.3) {
    const body = textPayload(rnd, size);
    message = `D ${seq} ${crc32(Buffer.from(body))} ${body}`;
  } else {
    message = binaryMessage(topic >= 0 ? KIND_PUBLISH : KIND_DATA, seq, binaryPayload(rnd, size), topic);
  }
  const bytes = typeof message === 'string' ? Buffer.from(message) : message;
  const binary = typeof message !== 'string';
  if (bytes.length > 64 && rnd() < 0.15) {
    // Fragmented: two to five pieces, cut anywhere (inside a UTF-8 character too).
    const pieces = 2 + Math.floor(rnd() * 4);
    const cuts = Array.from({ length: pieces - 1 }, () => 1 + Math.floor(rnd() * (bytes.length - 1))).sort((a, b) => a - b);
    let start = 0;
    for (const cut of [...cuts, bytes.length]) {
      ws.send(bytes.subarray(start, cut), { binary, fin: cut === bytes.length });
      start = cut;
    }
    stats.fragmented++;
  } else {
    ws.send(binary ? bytes : (message as string), { binary });
  }
  if (abrupt) stats.sentAbrupt++;
  else stats.sent++;
  stats.bytesSent += bytes.length;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------- client role

interface ClientConn {
  ws: WebSocket;
  id: string;
  mode: CloseMode;
  opened: boolean;
  closing: boolean;
  done: boolean;
  sent: number;
  inbound: Inbound;
  topics: Map<number, number>; // topic -> last seq seen
  nextSendAt: number;
  intervalMs: number;
  endAt: number;
}

async function runClient(index: number, port: number, target: number, seed: number): Promise<void> {
  const rnd = random(seed + index * 7919);
  const stats = emptyStats();
  const conns = new Set<ClientConn>();
  let churning = false;
  let connecting = 0;
  let serial = 0;
  // Source addresses 127.0.<index+1>.2-9: several, so churn never runs out of ephemeral ports.
  const sources = Array.from({ length: 8 }, (_, i) => `127.0.${index + 1}.${i + 2}`);

  const finish = (conn: ClientConn): void => {
    if (conn.done) return;
    conn.done = true;
    conns.delete(conn);
  };

  const open = (): void => {
    const id = `${index}-${++serial}`;
    const r = rnd();
    const mode: CloseMode = r < 0.45 ? 'client' : r < 0.9 ? 'server' : 'abrupt';
    const topics = Array.from({ length: Math.floor(rnd() * 3) }, () => Math.floor(rnd() * TOPICS));
    const deflate = rnd() < 0.5;
    const url = `ws://127.0.0.1:${port}/soak?id=${id}&mode=${mode}&topics=${[...new Set(topics)].join(',')}`;
    const ws = new WebSocket(url, { perMessageDeflate: deflate, localAddress: sources[serial % sources.length], handshakeTimeout: 20_000 });
    const now = Date.now();
    const conn: ClientConn = {
      ws,
      id,
      mode,
      opened: false,
      closing: false,
      done: false,
      sent: 0,
      inbound: new Inbound(),
      topics: new Map(),
      intervalMs: 300 + Math.floor(rnd() * 1700),
      nextSendAt: now,
      endAt: now + 2000 + Math.floor(rnd() * 12_000),
    };
    conns.add(conn);
    connecting++;
    ws.on('open', () => {
      connecting--;
      conn.opened = true;
      stats.connections++;
      if (ws.extensions.includes('permessage-deflate')) stats.compressedConnections++;
    });
    ws.on('error', (error: Error & { code?: string }) => {
      if (!conn.opened) connecting--;
      if (conn.mode === 'abrupt' && conn.closing) return;
      fail(stats, `client ${id}: error ${error.code ?? error.message}`);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => onMessage(conn, data, isBinary));
    ws.on('close', (code: number) => {
      if (conn.mode === 'abrupt' && conn.closing) {
        stats.abrupt++;
      } else if (!conn.closing || code !== 1000) {
        fail(stats, `client ${id}: closed with ${code} (${conn.closing ? 'while closing' : 'unplanned'}, mode ${conn.mode})`);
      }
      finish(conn);
    });
  };

  const onMessage = (conn: ClientConn, data: Buffer, isBinary: boolean): void => {
    stats.bytesReceived += data.length;
    const parsed = readData(data, isBinary);
    if (parsed === 'malformed') return fail(stats, `client ${conn.id}: malformed message`);
    if ('control' in parsed) return onControl(conn, parsed.control);
    if (parsed.kind === KIND_TOPIC) {
      const last = conn.topics.get(parsed.topic);
      if (last === undefined) return fail(stats, `client ${conn.id}: topic ${parsed.topic} message before its subscription`);
      if (parsed.seq !== last + 1) fail(stats, `client ${conn.id}: topic ${parsed.topic} message ${parsed.seq} after ${last}`);
      else if (crc32(parsed.payload) !== parsed.crc) fail(stats, `client ${conn.id}: topic ${parsed.topic} message ${parsed.seq} corrupted`);
      conn.topics.set(parsed.topic, parsed.seq);
      stats.topicReceived++;
      return;
    }
    conn.inbound.check(stats, `client ${conn.id}`, parsed.seq, parsed.crc, parsed.payload);
    if (conn.mode === 'abrupt') stats.receivedAbrupt++;
    else stats.received++;
  };

  const onControl = (conn: ClientConn, control: Record<string, unknown>): void => {
    switch (control.t) {
      case 'sub':
        conn.topics.set(control.topic as number, control.seq as number);
        return;
      case 'ack': // the server's answer to our bye: everything it sent, the last of each topic
      case 'bye': {
        // (bye: the server closes; it sent everything and unsubscribed us already)
        if (control.sent !== conn.inbound.count) fail(stats, `client ${conn.id}: server sent ${String(control.sent)}, ${conn.inbound.count} arrived`);
        const topics = control.topics as Record<string, number>;
        for (const [topic, last] of conn.topics) {
          if (topics[topic] !== last) fail(stats, `client ${conn.id}: topic ${topic} ended at ${topics[topic]}, last seen ${last}`);
        }
        if (control.t === 'ack') {
          stats.closedByClient++;
          conn.ws.close(1000);
        } else {
          conn.closing = true;
          stats.closedByServer++;
          conn.ws.send(JSON.stringify({ t: 'ack', sent: conn.sent }));
        }
        return;
      }
      default:
        fail(stats, `client ${conn.id}: unknown control ${String(control.t)}`);
    }
  };

  /** The end of a connection's life, by its plan. */
  const end = (conn: ClientConn): void => {
    if (conn.closing || !conn.opened) return;
    conn.closing = true;
    if (conn.mode === 'abrupt') conn.ws.terminate();
    else if (conn.mode === 'client') conn.ws.send(JSON.stringify({ t: 'bye', sent: conn.sent }));
    else conn.ws.send(JSON.stringify({ t: 'close-me' }));
  };

  const tick = (): void => {
    const now = Date.now();
    for (const conn of conns) {
      if (!conn.opened || conn.closing || conn.ws.readyState !== WebSocket.OPEN) continue;
      if (!churning || now >= conn.endAt) {
        end(conn);
        continue;
      }
      // Bounded catch-up: at most two messages per tick.
      for (let n = 0; n < 2 && now >= conn.nextSendAt; n++) {
        conn.nextSendAt += conn.intervalMs;
        const topic = rnd() < 0.05 ? Math.floor(rnd() * TOPICS) : -1;
        sendData(conn.ws, rnd, ++conn.sent, stats, conn.mode === 'abrupt', topic);
        if (topic >= 0) stats.published++;
      }
    }
    while (churning && conns.size < target && connecting < 64) open();
  };
  const ticker = setInterval(tick, 50);

  process.on('message', async (command: { cmd: string }) => {
    if (command.cmd === 'churn') {
      churning = true;
    } else if (command.cmd === 'drain') {
      churning = false;
      tick();
      // Bounded: every connection ends within its close exchange; 60 s covers a loaded machine.
      const deadline = Date.now() + 60_000;
      while (conns.size > 0 && Date.now() < deadline) {
        await sleep(100);
        for (const conn of conns) end(conn);
      }
      for (const conn of conns) {
        fail(stats, `client ${conn.id}: still ${conn.opened ? 'open' : 'connecting'} after the drain`);
        conn.ws.terminate();
      }
      conns.clear();
      process.send!({ type: 'drained', index, stats });
    } else if (command.cmd === 'exit') {
      clearInterval(ticker);
      process.disconnect();
    }
  });
  process.send!({ type: 'ready', index });
}

// ---------------------------------------------------------------------------------- server role

interface ServerConn {
  id: string;
  mode: CloseMode;
  sent: number;
  inbound: Inbound;
  closing: boolean;
  topics: number[];
}

function startServer(stats: Stats, seed: number) {
  const rnd = random(seed);
  const topicSeq = new Array<number>(TOPICS).fill(0);
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 256 }, backlog: 4096 });
  const byeTopics = (conn: ServerConn): Record<number, number> => Object.fromEntries(conn.topics.map((t) => [t, topicSeq[t]!]));

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'ws://soak');
    const conn: ServerConn = {
      id: url.searchParams.get('id') ?? '?',
      mode: (url.searchParams.get('mode') ?? 'client') as CloseMode,
      sent: 0,
      inbound: new Inbound(),
      closing: false,
      topics: (url.searchParams.get('topics') ?? '').split(',').filter(Boolean).map(Number),
    };
    stats.connections++;
    if (ws.extensions.includes('permessage-deflate')) stats.compressedConnections++;
    for (const topic of conn.topics) {
      ws.subscribe(`t${topic}`);
      ws.send(JSON.stringify({ t: 'sub', topic, seq: topicSeq[topic] }));
    }
    const unsubscribe = (): void => {
      for (const topic of conn.topics) ws.unsubscribe(`t${topic}`);
    };

    ws.on('error', (error: Error & { code?: string }) => {
      if (conn.mode !== 'abrupt') fail(stats, `server ${conn.id}: error ${error.code ?? error.message}`);
    });
    ws.on('close', (code: number) => {
      if (conn.mode === 'abrupt') {
        if (code !== 1006 && code !== 1000) fail(stats, `server ${conn.id}: abrupt close reported ${code}`);
      } else if (code !== 1000 || !conn.closing) {
        fail(stats, `server ${conn.id}: closed with ${code} (${conn.closing ? 'while closing' : 'unplanned'}, mode ${conn.mode})`);
      }
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      stats.bytesReceived += data.length;
      const parsed = readData(data, isBinary);
      if (parsed === 'malformed') return fail(stats, `server ${conn.id}: malformed message`);
      if ('control' in parsed) {
        const control = parsed.control;
        if (control.t === 'bye' || control.t === 'ack') {
          if (control.sent !== conn.inbound.count) fail(stats, `server ${conn.id}: client sent ${String(control.sent)}, ${conn.inbound.count} arrived`);
        }
        if (control.t === 'bye') {
          // The client closes: unsubscribe first, so the last topic numbers we report are final.
          conn.closing = true;
          unsubscribe();
          ws.send(JSON.stringify({ t: 'ack', sent: conn.sent, topics: byeTopics(conn) }));
        } else if (control.t === 'close-me') {
          conn.closing = true;
          unsubscribe();
          ws.send(JSON.stringify({ t: 'bye', sent: conn.sent, topics: byeTopics(conn) }));
        } else if (control.t === 'ack') {
          ws.close(1000);
        } else {
          fail(stats, `server ${conn.id}: unknown control ${String(control.t)}`);
        }
        return;
      }
      conn.inbound.check(stats, `server ${conn.id}`, parsed.seq, parsed.crc, parsed.payload);
      if (conn.mode === 'abrupt') stats.receivedAbrupt++;
      else stats.received++;
      if (conn.closing) return fail(stats, `server ${conn.id}: data after the client's bye`);
      if (parsed.kind === KIND_PUBLISH) {
        const topic = parsed.topic;
        const message = topicMessage(topic, ++topicSeq[topic]!, Buffer.from(parsed.payload));
        wss.publish(`t${topic}`, message, { binary: true });
        stats.published++;
      }
      // Answer with zero to two numbered messages of our own.
      const answers = Math.floor(rnd() * 3);
      for (let i = 0; i < answers; i++) sendData(ws, rnd, ++conn.sent, stats, conn.mode === 'abrupt');
    });
  });
  return wss;
}

/**
 * Timers alive in this process, unref'd ones included (getActiveResourcesInfo leaves those out,
 * and the library's close timers are unref'd): counted from their creation to their end.
 */
const liveTimers = new Set<number>();
createHook({
  init(asyncId, type) {
    if (type === 'Timeout') liveTimers.add(asyncId);
  },
  destroy(asyncId) {
    liveTimers.delete(asyncId);
  },
}).enable();

/** Lets the destroy hooks of timers that just ended run (they are delivered at the next turn). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  counts.Timeout = liveTimers.size;
  return counts;
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (npm run soak does)');
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

const MiB = 1024 * 1024;
const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

function sum(list: Stats[]): Stats {
  const total = emptyStats();
  for (const s of list) {
    for (const key of Object.keys(total) as Array<keyof Stats>) {
      if (key === 'failureSamples') total.failureSamples.push(...s.failureSamples);
      else (total[key] as number) += s[key] as number;
    }
  }
  return total;
}

async function runServer(minutes: number, connections: number, clients: number, seed: number): Promise<number> {
  const started = Date.now();
  const totalMs = minutes * 60_000;
  const warmupMs = Math.min(20_000, totalMs / 4);
  const stats = emptyStats();
  await settle();
  const before = resources();
  const wss = startServer(stats, seed);
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as AddressInfo).port;
  await settle();
  const listening = resources();
  console.log(`soak: ${minutes} min, ${connections} connections from ${clients} client processes, seed ${seed}, port ${port}`);

  const children: ChildProcess[] = [];
  const clientStats: Stats[] = [];
  const waiting = new Map<string, () => void>();
  const expect = (type: string): Promise<void> => {
    let left = clients;
    return new Promise((resolve) => waiting.set(type, () => --left === 0 && resolve()));
  };
  const ready = expect('ready');
  const self = fileURLToPath(import.meta.url);
  for (let i = 0; i < clients; i++) {
    const child = fork(self, ['--role', 'client', '--index', String(i), '--port', String(port), '--connections', String(Math.ceil(connections / clients)), '--seed', String(seed)]);
    child.on('message', (message: { type: string; index: number; stats?: Stats }) => {
      if (message.stats) clientStats[message.index] = message.stats;
      waiting.get(message.type)?.();
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) fail(stats, `client process ${i} exited with ${code}`);
    });
    children.push(child);
  }
  await ready;
  const broadcast = (cmd: string): void => {
    for (const child of children) if (child.connected) child.send({ cmd });
  };
  const drain = async (): Promise<void> => {
    const drained = expect('drained');
    broadcast('drain');
    await drained;
    const deadline = Date.now() + 30_000;
    while (wss.clients.size > 0 && Date.now() < deadline) await sleep(100);
  };

  // Warm-up: churn, then everyone leaves; the baseline is an empty server after GC.
  broadcast('churn');
  await sleep(warmupMs);
  await drain();
  await settle();
  const base = { heap: heapAfterGc(), clients: wss.clients.size, resources: resources(), connections: stats.connections };

  // Main phase, heap sampled after GC every few seconds.
  broadcast('churn');
  const samples: Array<{ s: number; open: number; heap: number }> = [];
  const mainEnd = started + totalMs;
  while (Date.now() < mainEnd) {
    await sleep(Math.min(5000, Math.max(0, mainEnd - Date.now())));
    samples.push({ s: Math.round((Date.now() - started) / 1000), open: wss.clients.size, heap: heapAfterGc() });
  }
  await drain();
  await settle();
  const end = { heap: heapAfterGc(), clients: wss.clients.size, resources: resources() };

  broadcast('exit');
  await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  await sleep(100);
  await settle();
  const after = resources();

  // Verdicts.
  const client = sum(clientStats.filter(Boolean));
  const verdicts: Array<[ok: boolean, text: string]> = [];
  verdicts.push([clientStats.filter(Boolean).length === clients, `all ${clients} client processes reported`]);
  verdicts.push([stats.failures === 0, `server side: ${stats.failures} lost, corrupted or misordered messages or unplanned closes`]);
  verdicts.push([client.failures === 0, `client side: ${client.failures} lost, corrupted or misordered messages or unplanned closes`]);
  verdicts.push([client.sent === stats.received, `client -> server: ${client.sent} sent, ${stats.received} received intact (orderly connections)`]);
  verdicts.push([stats.sent === client.received, `server -> client: ${stats.sent} sent, ${client.received} received intact (orderly connections)`]);
  verdicts.push([
    stats.receivedAbrupt <= client.sentAbrupt && client.receivedAbrupt <= stats.sentAbrupt,
    `reset connections: ${stats.receivedAbrupt} of ${client.sentAbrupt} and ${client.receivedAbrupt} of ${stats.sentAbrupt} arrived before the resets, each intact and in order`,
  ]);
  verdicts.push([stats.connections === client.connections, `${client.connections} connections opened, ${stats.connections} accepted`]);
  const growth = end.heap - base.heap;
  const bound = Math.max(4 * MiB, base.heap * 0.1);
  verdicts.push([
    growth <= bound,
    `memory flat: heap after GC with no connection open grew ${mib(growth)} (${mib(base.heap)} after warm-up -> ${mib(end.heap)} at the end; bound max(4 MiB, 10%) = ${mib(bound)}) over ${stats.connections - base.connections} connections`,
  ]);
  verdicts.push([base.clients === 0 && end.clients === 0, `server.clients empty after warm-up (${base.clients}) and at the end (${end.clients})`]);
  const same = (a: Record<string, number>, b: Record<string, number>, names: string[]): boolean => names.every((n) => (a[n] ?? 0) === (b[n] ?? 0));
  verdicts.push([
    same(end.resources, listening, ['TCPSocketWrap', 'Timeout']) && same(base.resources, listening, ['TCPSocketWrap', 'Timeout']),
    `no socket or timer left: listening ${JSON.stringify(pick(listening))}, after warm-up ${JSON.stringify(pick(base.resources))}, at the end ${JSON.stringify(pick(end.resources))}`,
  ]);
  verdicts.push([
    same(after, before, ['TCPSocketWrap', 'TCPServerWrap', 'Timeout']),
    `after close: ${JSON.stringify(pick(after))}, as before the server (${JSON.stringify(pick(before))})`,
  ]);

  console.log(`\nconnections: ${stats.connections} (${stats.compressedConnections} with permessage-deflate); closed by client ${client.closedByClient}, by server ${client.closedByServer}, abruptly ${client.abrupt}`);
  console.log(`messages: client -> server ${client.sent + client.sentAbrupt} (${client.fragmented} fragmented, ${mib(client.bytesSent)}), server -> client ${stats.sent + stats.sentAbrupt} (${stats.fragmented} fragmented, ${mib(stats.bytesSent)}), ${stats.published} publications delivered ${client.topicReceived} times`);
  console.log(`heap after GC (s, open connections, heap): ${samples.map((x) => `${x.s}s ${x.open} ${mib(x.heap)}`).join('; ')}`);
  for (const sample of [...stats.failureSamples, ...client.failureSamples].slice(0, 20)) console.log(`  failure: ${sample}`);
  console.log('');
  for (const [ok, text] of verdicts) console.log(`${ok ? 'ok  ' : 'FAIL'} ${text}`);
  const passed = verdicts.every(([ok]) => ok);
  console.log(`\nsoak ${passed ? 'PASSED' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s`);
  return passed ? 0 : 1;
}

function pick(counts: Record<string, number>): Record<string, number> {
  return { TCPSocketWrap: counts.TCPSocketWrap ?? 0, TCPServerWrap: counts.TCPServerWrap ?? 0, Timeout: counts.Timeout ?? 0 };
}

// ---------------------------------------------------------------------------------- entry

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    connections: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '2' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    role: { type: 'string', default: 'server' },
    index: { type: 'string', default: '0' },
    port: { type: 'string', default: '0' },
  },
});
const minutes = Number(values.minutes);
const connections = Math.floor(Number(values.connections));
const clients = Math.floor(Number(values.clients));
if (!(minutes > 0 && minutes <= 24 * 60) || !(connections > 0 && connections <= 16_000) || !(clients > 0 && clients <= 16)) {
  console.error('usage: soak --minutes N (0 < N <= 1440) [--connections C (<= 16000)] [--clients P (<= 16)] [--seed S]');
  process.exit(2);
}
if (values.role === 'client') {
  await runClient(Number(values.index), Number(values.port), connections, Number(values.seed));
} else {
  process.exitCode = await runServer(minutes, connections, clients, Number(values.seed));
}
