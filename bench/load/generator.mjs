// The load generator: one process, driven by the runner over IPC, one phase at a time.
//   connect -> start -> measure -> report -> (verify) -> close
// Raw node:net sockets, frames encoded once before the run, many messages in flight per
// connection, one clock read per socket read, latency into a log-linear histogram. It parses
// only frame headers: payloads are skipped, never copied, unmasked or inflated. In the channel
// scenario each connection speaks its server's protocol (wires.mjs): the session opening is read
// whole, then deliveries are recognised by their first bytes and counted unread.
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
import { WIRES } from './wires.mjs';

const clients = [];
const histogram = new Histogram();
const counters = { messages: 0, deliveries: 0, completed: 0, published: 0 };
/** The channel scenario: the wire spoken, and the one connection that publishes (not subscribed). */
const channelSession = { wire: null, publisher: null };
/** A prefix no text message starts with (0xff is never in UTF-8): every message is read whole. */
const READ_WHOLE = Buffer.from([0xff]);
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
 * `onMessages(k)` is called with the number of messages a read completed. Messages the counter
 * hands over whole (see MessageCounter.match) go to `onOther(text)` when it is set (it returns
 * true for a delivery), else wait for nextText().
 */
class Client {
  socket;
  counter = new MessageCounter(
    (opcode, payload) => this.#control(opcode, payload),
    (payload) => this.#other(payload),
  );
  closing = false;
  onMessages = () => {};
  onOther = null;
  /** Takes messages handed over whole as bytes, before onOther (the presence storm reads only their head). */
  onRaw = null;
  #head = null;
  #handshake;
  #inbox = [];
  #waiter = null;

  /**
   * Connects; resolves with the client once the server's 101 arrived. With `match`, the counter
   * filters from the first byte after the handshake (a session may start in the same read).
   */
  static open({ host, port, localAddress, request, deflate, subprotocol = null, match = null, timeoutMs }) {
    return new Promise((resolve, reject) => {
      const client = new Client();
      client.counter.match = match;
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
        subprotocol,
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
        client.#waiter?.reject(new Error('closed before the session was open'));
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

  sendText(text) {
    this.socket.write(messageFrame(Buffer.from(text)));
  }

  /** The next message handed over whole, as text (only while onOther is null). */
  nextText(timeoutMs) {
    if (this.#inbox.length > 0) return Promise.resolve(this.#inbox.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(reject, new Error('no answer in time')), timeoutMs);
      const settle = (how, value) => {
        clearTimeout(timer);
        this.#waiter = null;
        how(value);
      };
      this.#waiter = { resolve: (text) => settle(resolve, text), reject: (error) => settle(reject, error) };
    });
  }

  #other(payload) {
    if (this.onRaw !== null) return this.onRaw(payload);
    const text = payload.toString();
    if (this.onOther !== null) return this.onOther(text);
    if (this.#waiter) this.#waiter.resolve(text);
    else this.#inbox.push(text);
    return false;
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

/** Opens a wire's session on a fresh connection, subscribed unless it publishes; keep-alives are answered meanwhile. */
async function openSession(client, wire, { channel, subscribe, timeoutMs }) {
  const send = (text) => client.sendText(text);
  const session = {
    send,
    async next() {
      for (;;) {
        const text = await client.nextText(timeoutMs);
        if (!wire.heartbeat(text, send)) return text;
      }
    },
  };
  try {
    await wire.open(session, { channel, subscribe });
  } catch (error) {
    client.closing = true;
    client.socket.destroy();
    throw error;
  }
}

/**
 * Opens `count` connections, at most `concurrency` handshakes at a time. With a `wire` (the
 * channel scenario) each also opens its session on `channel`; with `publisher`, connection 0
 * is the publisher and does not subscribe.
 */
async function connect({ host, port, count, concurrency, localAddresses, deflate, wire: wireName, channel, publisher, timeoutMs = 30_000 }) {
  const wire = wireName ? WIRES[wireName] : null;
  if (wireName && !wire) throw new Error(`unknown wire ${wireName}`);
  channelSession.wire = wire;
  const subprotocol = wire?.upgrade.subprotocol ?? null;
  const request = upgradeRequest(host, port, { deflate, path: wire?.upgrade.path, subprotocol });
  const match = wire ? READ_WHOLE : null;
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
        const client = await Client.open({ host, port, localAddress, request, deflate, subprotocol, match, timeoutMs });
        const publishes = Boolean(publisher) && i === 0;
        if (wire) await openSession(client, wire, { channel, subscribe: !publishes, timeoutMs });
        if (publishes) channelSession.publisher = client;
        clients.push(client);
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

/**
 * The presence storm: `count` fdx.v1 connections join `channel` (connect, subscribe), paced
 * evenly over `windowMs`; each then counts its presence messages and bytes, and keeps the member
 * count it was last told (the `count` near the head of every presence message, read without
 * parsing the rest) and when that changed. Once every join is done, a view is complete when its
 * count is the number of members that joined (`total` less the connections that failed; counts
 * only grow in a storm, so the last change is when it got there). Resolves once every view is
 * complete, or after `timeoutMs` with the number still incomplete.
 */
async function storm({ host, port, count, total, windowMs, channel, localAddresses, timeoutMs = 120_000 }) {
  const wire = WIRES.fdx;
  const request = upgradeRequest(host, port, { deflate: false, path: wire.upgrade.path, subprotocol: wire.upgrade.subprotocol });
  const COUNT = /"count":(\d+)/;
  const result = { opened: 0, failed: 0, messages: 0, bytes: 0, complete: 0, lastJoinMs: 0, completeMs: 0 };
  const started = performance.now();
  const joins = [];
  /** Per member: the count it was last told, and when that changed. */
  const views = [];
  for (let i = 0; i < count; i += 1) {
    const due = started + (i * windowMs) / count;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    joins.push(
      (async () => {
        const client = await Client.open({ host, port, localAddress: localAddresses[i % localAddresses.length], request, deflate: false, subprotocol: wire.upgrade.subprotocol, match: READ_WHOLE, timeoutMs });
        await openSession(client, wire, { channel, subscribe: true, timeoutMs });
        clients.push(client);
        result.opened += 1;
        result.lastJoinMs = performance.now() - started;
        const view = { count: -1, at: 0 };
        views.push(view);
        client.onRaw = (payload) => {
          result.messages += 1;
          result.bytes += payload.length;
          const members = Number(COUNT.exec(payload.toString('latin1', 0, 300))?.[1] ?? -1);
          if (members !== view.count) {
            view.count = members;
            view.at = performance.now() - started;
          }
          return false;
        };
      })().catch((error) => {
        result.failed += 1;
        recordError(error);
      }),
    );
  }
  await Promise.all(joins);
  const complete = () => views.filter((view) => view.count === result.opened).length;
  await until(() => complete() === views.length, timeoutMs);
  result.complete = complete();
  result.completeMs = Math.max(0, ...views.map((view) => view.at));
  return { ...result, incomplete: result.opened - result.complete, ...errorReport() };
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
 * Fan-out to `subscribers`: `send(n)` makes publication n go out. A publication is done when
 * all subscribers got it; then the next one goes out, keeping `inflight` publications
 * outstanding. Each connection receives publications in order, so its n-th message is
 * publication n: nothing in the payload needs to be read.
 */
function runFanout(subscribers, send, inflight) {
  const slots = 1024;
  const remaining = new Int32Array(slots);
  const sentAt = new Float64Array(slots);
  const total = subscribers.length;
  const publish = (t) => {
    const slot = counters.published % slots;
    remaining[slot] = total;
    sentAt[slot] = t;
    send(counters.published);
    counters.published += 1;
  };
  for (const client of subscribers) {
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

/** Fan-out: the first connection publishes; every connection (the publisher too) is subscribed. */
function startFanout(options) {
  const frames = payloadFrames(options);
  const publisher = clients[0];
  runFanout(clients, (n) => publisher.socket.write(frames[n % frames.length]), options.inflight);
}

/**
 * The channel scenario: one connection publishes with the wire's publish message, all others
 * were subscribed by their session and count the wire's deliveries; the publisher's replies
 * (and anything else not a delivery) are read whole.
 */
function startChannel({ inflight, channel, payload }) {
  const { wire, publisher } = channelSession;
  if (!wire || !publisher) throw new Error('the channel load needs a wire and a publisher (connect with wire and publisher)');
  const [data] = makePayloads(payload);
  const match = wire.delivery(channel, data);
  for (const client of clients) {
    const send = (text) => client.sendText(text);
    client.counter.match = match;
    client.onOther = (text) => {
      const kind = wire.other(text, channel, send);
      if (kind === 'delivery') return true;
      if (kind !== 'reply' && kind !== 'keepalive') recordError(kind);
      return false;
    };
  }
  const subscribers = clients.filter((client) => client !== publisher);
  publisher.onMessages = (k) => recordError(`${k} publications reached the publisher, which is not subscribed`);
  runFanout(subscribers, (n) => publisher.socket.write(wire.publish(channel, data, n)), inflight);
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

  async storm(message) {
    return storm(message);
  },

  async start({ load }) {
    running = true;
    if (load.kind === 'echo') startEcho(load);
    else if (load.kind === 'fanout') startFanout(load);
    else if (load.kind === 'paced') startPaced(load);
    else if (load.kind === 'channel') startChannel(load);
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
