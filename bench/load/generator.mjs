// The load generator: one process, driven by the runner over IPC, one phase at a time.
//   connect -> start -> measure -> report -> (verify) -> close
// Raw node:net sockets, frames encoded once before the run, many messages in flight per
// connection, one clock read per socket read, latency into a log-linear histogram. It parses
// only frame headers: payloads are skipped, never copied, unmasked or inflated.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Histogram } from './histogram.mjs';
import {
  OPCODE,
  checkUpgradeResponse,
  frameRing,
  makePayloads,
  maskedFrame,
  messageFrame,
  MessageCounter,
  upgradeRequest,
} from './frames.mjs';

const clients = [];
const histogram = new Histogram();
const counters = { messages: 0, deliveries: 0, completed: 0, published: 0 };
const errors = { count: 0, samples: new Map() };
let running = false;
let measureStart = 0;
let stopLoad = () => {};

function recordError(what) {
  errors.count += 1;
  const text = String(what instanceof Error ? `${what.code ?? ''} ${what.message}`.trim() : what);
  if (errors.samples.size < 8 || errors.samples.has(text)) {
    errors.samples.set(text, (errors.samples.get(text) ?? 0) + 1);
  }
}

// Every socket reads into this one buffer (net's onread): no allocation and no stream
// machinery per read. Reads are handled synchronously, before the next read reuses it.
const readBuffer = Buffer.allocUnsafe(256 * 1024);

/**
 * One connection: the opening handshake, then messages counted as they complete.
 * `onMessages(k)` is called with the number of messages a read completed.
 */
class Client {
  socket;
  counter = new MessageCounter((opcode, payload) => this.#control(opcode, payload));
  closing = false;
  onMessages = () => {};
  #head = null;
  #handshake;

  /** Connects; resolves with the client once the server's 101 arrived. */
  static open({ host, port, localAddress, request, deflate, timeoutMs }) {
    return new Promise((resolve, reject) => {
      const client = new Client();
      const timer = setTimeout(() => fail(new Error('opening handshake timed out')), timeoutMs);
      const fail = (error) => {
        if (!client.#handshake) return;
        client.#handshake = null;
        clearTimeout(timer);
        client.socket.destroy();
        reject(error);
      };
      client.#handshake = {
        deflate,
        fail,
        done: () => {
          client.#handshake = null;
          clearTimeout(timer);
          resolve(client);
        },
      };
      const socket = net.connect({
        host,
        port,
        localAddress,
        onread: { buffer: readBuffer, callback: (n, buf) => client.#read(buf.subarray(0, n)) },
      });
      client.socket = socket;
      socket.setNoDelay(true);
      socket.once('connect', () => socket.write(request));
      socket.on('error', (error) => {
        if (client.#handshake) fail(error);
        else if (!client.closing) recordError(error);
      });
      socket.on('close', () => {
        if (client.#handshake) fail(new Error('closed during the opening handshake'));
        else if (!client.closing) recordError('connection closed by the server');
      });
    });
  }

  #read(chunk) {
    if (this.#handshake) {
      this.#head = this.#head === null ? Buffer.from(chunk) : Buffer.concat([this.#head, chunk]);
      const end = this.#head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.#head.length > 16384) this.#handshake.fail(new Error('response head too large'));
        return;
      }
      const problem = checkUpgradeResponse(this.#head.toString('latin1', 0, end + 4), this.#handshake);
      if (problem !== null) {
        this.#handshake.fail(new Error(problem));
        return;
      }
      const rest = this.#head.subarray(end + 4);
      this.#head = null;
      this.#handshake.done();
      if (rest.length === 0) return;
      chunk = rest;
    }
    const k = this.counter.push(chunk);
    if (k > 0) this.onMessages(k);
  }

  #control(opcode, payload) {
    if (opcode === OPCODE.ping) this.socket.write(maskedFrame(OPCODE.pong, payload));
    else if (opcode === OPCODE.close) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      recordError(`server sent close ${code} ${payload.subarray(2).toString()}`.trim());
      this.closing = true;
      this.socket.destroy();
    }
  }
}

/** Opens `count` connections, at most `concurrency` handshakes at a time. */
async function connect({ host, port, count, concurrency, localAddresses, deflate, timeoutMs = 30_000 }) {
  const request = upgradeRequest(host, port, { deflate });
  let next = 0;
  let failed = 0;
  const started = performance.now();
  let lastOpen = started;
  async function worker() {
    while (next < count) {
      const i = next;
      next += 1;
      const localAddress = localAddresses[i % localAddresses.length];
      try {
        clients.push(await Client.open({ host, port, localAddress, request, deflate, timeoutMs }));
        lastOpen = performance.now();
      } catch (error) {
        failed += 1;
        recordError(error);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { opened: clients.length, failed, elapsedMs: lastOpen - started };
}

function payloadFrames({ payload, deflate }) {
  const binary = payload.type === 'binary';
  return makePayloads(payload).map((p) => messageFrame(p, { binary, deflate }));
}

/** Closed loop: every connection keeps `inflight` messages outstanding; replies come in order. */
function startEcho(options) {
  const { inflight } = options;
  const { ring, offsets, variants } = frameRing(payloadFrames(options), inflight);
  const now = performance.now();
  clients.forEach((client, index) => {
    const sentAt = new Float64Array(inflight).fill(now);
    let head = 0;
    let variant = index % variants;
    client.onMessages = (k) => {
      const t = performance.now();
      const n = Math.min(k, inflight);
      for (let j = 0; j < n; j += 1) {
        histogram.recordMs(t - sentAt[head]);
        sentAt[head] = t;
        head = head + 1 === inflight ? 0 : head + 1;
      }
      counters.messages += k;
      if (k > inflight) recordError(`${k - inflight} replies that were never asked for`);
      if (!running) return;
      client.socket.write(ring.subarray(offsets[variant], offsets[variant + n]));
      variant = (variant + n) % variants;
    };
    client.socket.write(ring.subarray(offsets[variant], offsets[variant + inflight]));
    variant = (variant + inflight) % variants;
  });
}

/**
 * Fan-out: the first connection publishes; every connection (the publisher too) is subscribed.
 * A publication is done when all connections got it; then the next one goes out, keeping
 * `inflight` publications outstanding. Each connection receives publications in order, so its
 * n-th message is publication n: nothing in the payload needs to be read.
 */
function startFanout(options) {
  const { inflight } = options;
  const frames = payloadFrames(options);
  const slots = 1024;
  const remaining = new Int32Array(slots);
  const sentAt = new Float64Array(slots);
  const total = clients.length;
  const publisher = clients[0];
  const publish = (t) => {
    const slot = counters.published % slots;
    remaining[slot] = total;
    sentAt[slot] = t;
    publisher.socket.write(frames[counters.published % frames.length]);
    counters.published += 1;
  };
  for (const client of clients) {
    let received = 0;
    client.onMessages = (k) => {
      const t = performance.now();
      counters.deliveries += k;
      for (let j = 0; j < k; j += 1) {
        const slot = received % slots;
        received += 1;
        remaining[slot] -= 1;
        if (remaining[slot] === 0) {
          histogram.recordMs(t - sentAt[slot]);
          counters.completed += 1;
          if (running) publish(t);
        }
      }
    };
  }
  const t = performance.now();
  for (let i = 0; i < inflight; i += 1) publish(t);
}

/** Open loop at a fixed total rate, spread round-robin over the connections. */
function startPaced(options) {
  const { rate } = options;
  const frame = payloadFrames(options)[0];
  const queueSize = 4096;
  const queues = clients.map((client) => {
    const q = { sentAt: new Float64Array(queueSize), head: 0, tail: 0 };
    client.onMessages = (k) => {
      const t = performance.now();
      for (let j = 0; j < k; j += 1) {
        if (q.head === q.tail) {
          recordError('a reply that was never asked for');
          break;
        }
        histogram.recordMs(t - q.sentAt[q.head]);
        q.head = (q.head + 1) % queueSize;
      }
      counters.messages += k;
    };
    return q;
  });
  const started = performance.now();
  let sent = 0;
  let next = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    const due = Math.min(Math.floor(((t - started) * rate) / 1000) - sent, rate);
    for (let i = 0; i < due; i += 1) {
      const q = queues[next];
      if ((q.tail + 1) % queueSize === q.head) {
        recordError('more than 4096 messages outstanding on one connection');
        continue;
      }
      q.sentAt[q.tail] = t;
      q.tail = (q.tail + 1) % queueSize;
      clients[next].socket.write(frame);
      next = (next + 1) % clients.length;
    }
    sent += Math.max(due, 0);
  }, 1);
  stopLoad = () => clearInterval(timer);
}

function until(condition, timeoutMs) {
  return new Promise((resolve) => {
    const deadline = performance.now() + timeoutMs;
    const check = () => {
      if (condition() || performance.now() >= deadline) resolve(condition());
      else setTimeout(check, 5);
    };
    check();
  });
}

function errorReport() {
  return { errors: errors.count, errorSamples: [...errors.samples].map(([text, n]) => `${text} (x${n})`) };
}

const phases = {
  async connect(message) {
    return connect(message);
  },

  async start({ load }) {
    running = true;
    if (load.kind === 'echo') startEcho(load);
    else if (load.kind === 'fanout') startFanout(load);
    else if (load.kind === 'paced') startPaced(load);
    else throw new Error(`unknown load ${load.kind}`);
    return {};
  },

  async measure() {
    histogram.reset();
    counters.messages = 0;
    counters.deliveries = 0;
    counters.completed = 0;
    for (const client of clients) {
      client.counter.compressed = 0;
      client.counter.payloadBytes = 0;
    }
    measureStart = performance.now();
    return {};
  },

  /** Ends the measured window; with minCompleted, first waits (up to maxWaitMs) for that many publications. */
  async report({ minCompleted = 0, maxWaitMs = 0 }) {
    if (minCompleted > 0) await until(() => counters.completed >= minCompleted, maxWaitMs);
    const elapsedMs = performance.now() - measureStart;
    const compressed = clients.reduce((sum, c) => sum + c.counter.compressed, 0);
    const protocolErrors = clients.reduce((sum, c) => sum + c.counter.protocolErrors, 0);
    const payloadBytes = clients.reduce((sum, c) => sum + c.counter.payloadBytes, 0);
    return {
      elapsedMs,
      messages: counters.messages,
      deliveries: counters.deliveries,
      completed: counters.completed,
      published: counters.published,
      compressedMessages: compressed,
      payloadBytes,
      protocolErrors,
      histogram: histogram.toJSON(),
      ...errorReport(),
    };
  },

  /** Every connection sends one message and must get its echo: proof that it is still held. */
  async verify({ timeoutMs }) {
    running = false;
    stopLoad();
    let answered = 0;
    const frame = messageFrame(Buffer.from('held?'));
    for (const client of clients) {
      let done = false;
      client.onMessages = () => {
        if (!done) answered += 1;
        done = true;
      };
      client.socket.write(frame);
    }
    await until(() => answered === clients.length, timeoutMs);
    return { answered, ...errorReport() };
  },

  async close() {
    running = false;
    stopLoad();
    for (const client of clients) {
      client.closing = true;
      client.socket.resetAndDestroy();
    }
    return errorReport();
  },
};

process.on('message', async (message) => {
  try {
    const reply = await phases[message.type](message);
    process.send({ type: message.type, ok: true, ...reply });
  } catch (error) {
    process.send({ type: message.type, ok: false, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
