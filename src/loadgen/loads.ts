/**
 * The loads a generator process puts on its connections once they are open, one function each:
 *   echo      closed loop: each connection keeps `inflight` messages outstanding
 *   paced     open loop at a fixed rate; latency from the intended send time (coordinated
 *             omission corrected) and, beside it, from the actual send time
 *   fanout    one publication at a time to connections that all receive it, counted by order
 *   channel   the same through a wire's publish and deliveries (fdx.v1, socket.io, topics)
 *   stamped   open-loop publications carrying their publish time; every subscriber, in any
 *             process, measures from it
 *   connect   connections opened and closed in a loop: handshakes per second
 * A load starts at once and returns the function that stops it.
 * Must not: open the run's connections (generator.ts does) or decide when a run ends.
 */
import { performance } from 'node:perf_hooks';
import type { Client, ErrorSink } from './client.js';
import { LoadErrorKind } from './client.js';
import { frameRing, makePayloads, messageFrame, READ_WHOLE, type PayloadSpec } from './frames.js';
import type { Wire } from './wires.js';

export interface LatencySink {
  recordMs(ms: number): void;
}

export interface Counters {
  /** Replies (echo, paced), deliveries (fanout, channel, stamped) or handshakes (connect). */
  messages: number;
  sent: number;
  /** Publications every subscriber got (fanout, channel); publications sent (stamped). */
  completed: number;
  published: number;
}

export interface LoadContext {
  clients: Client[];
  /** The publishing connection of the channel and stamped loads (in one process only). */
  publisher: Client | null;
  wire: Wire | null;
  latency: LatencySink;
  /** Latency from the actual send time (paced only): what an uncorrected measure would say. */
  uncorrected: LatencySink;
  counters: Counters;
  error: ErrorSink;
  running(): boolean;
  /** Opens one more connection (the connect load), not kept in `clients`. */
  open(): Promise<Client>;
}

export type Stop = () => void;

const NOTHING_TO_STOP: Stop = () => {};

function payloadFrames(payload: PayloadSpec, deflate: boolean): Buffer[] {
  const binary = payload.type === 'binary';
  return makePayloads(payload).map((p) => messageFrame(p, { binary, deflate }));
}

/** Closed loop: every connection keeps `inflight` messages outstanding; replies come in order. */
export function echo(ctx: LoadContext, { inflight, payload, deflate = false }: { inflight: number; payload: PayloadSpec; deflate?: boolean }): Stop {
  const { ring, offsets, variants } = frameRing(payloadFrames(payload, deflate), inflight);
  const now = performance.now();
  ctx.clients.forEach((client, index) => {
    const sentAt = new Float64Array(inflight).fill(now);
    let head = 0;
    let variant = index % variants;
    client.onMessages = (k) => {
      const t = performance.now();
      const n = Math.min(k, inflight);
      for (let j = 0; j < n; j += 1) {
        ctx.latency.recordMs(t - sentAt[head]!);
        sentAt[head] = t;
        head = head + 1 === inflight ? 0 : head + 1;
      }
      ctx.counters.messages += k;
      if (k > inflight) ctx.error(LoadErrorKind.UNEXPECTED_MESSAGE, `${k - inflight} replies that were never asked for`);
      if (!ctx.running()) return;
      ctx.counters.sent += n;
      client.socket.write(ring.subarray(offsets[variant], offsets[variant + n]));
      variant = (variant + n) % variants;
    };
    ctx.counters.sent += inflight;
    client.socket.write(ring.subarray(offsets[variant], offsets[variant + inflight]));
    variant = (variant + inflight) % variants;
  });
  return NOTHING_TO_STOP;
}

/** A first-in first-out queue of numbers on a growing ring. */
class TimeQueue {
  #items = new Float64Array(16);
  #head = 0;
  length = 0;

  push(value: number): void {
    if (this.length === this.#items.length) {
      const bigger = new Float64Array(this.#items.length * 2);
      for (let i = 0; i < this.length; i += 1) bigger[i] = this.#items[(this.#head + i) % this.#items.length]!;
      this.#items = bigger;
      this.#head = 0;
    }
    this.#items[(this.#head + this.length) % this.#items.length] = value;
    this.length += 1;
  }

  shift(): number {
    const value = this.#items[this.#head]!;
    this.#head = (this.#head + 1) % this.#items.length;
    this.length -= 1;
    return value;
  }
}

/** The pacer's timer resolution: a send up to this late is on time (see paced). */
export const PACE_RESOLUTION_MS = 1;
/** Messages waiting for a free slot, over all connections, before the load reports a backlog. */
export const MAX_BACKLOG = 1_000_000;

/**
 * Open loop at `rate` messages per second in total, spread round-robin over the connections.
 * Message i is due at start + i / rate whether or not earlier replies came back. A connection
 * keeps at most `maxInflight` messages outstanding; a message due while its connection is full
 * waits for a reply to free a slot. Its latency runs from when it was due (coordinated omission
 * corrected: a stalled server delays every message that should have been sent meanwhile), up to
 * the pacer's resolution; `uncorrected` gets the latency from when it was actually written.
 */
export function paced(ctx: LoadContext, { rate, payload, deflate = false, maxInflight = 4096 }: { rate: number; payload: PayloadSpec; deflate?: boolean; maxInflight?: number }): Stop {
  const frame = payloadFrames(payload, deflate)[0]!;
  let backlog = 0;
  const lanes = ctx.clients.map((client) => {
    const lane = { intended: new TimeQueue(), written: new TimeQueue(), waiting: new TimeQueue() };
    client.onMessages = (k) => {
      const t = performance.now();
      for (let j = 0; j < k; j += 1) {
        if (lane.intended.length === 0) {
          ctx.error(LoadErrorKind.UNEXPECTED_MESSAGE, 'a reply that was never asked for');
          break;
        }
        ctx.latency.recordMs(t - lane.intended.shift());
        ctx.uncorrected.recordMs(t - lane.written.shift());
        ctx.counters.messages += 1;
        if (lane.waiting.length > 0 && ctx.running()) {
          backlog -= 1;
          write(client, lane, lane.waiting.shift(), t);
        }
      }
    };
    return lane;
  });
  type Lane = (typeof lanes)[number];
  const write = (client: Client, lane: Lane, intended: number, t: number): void => {
    lane.intended.push(intended);
    lane.written.push(t);
    ctx.counters.sent += 1;
    client.socket.write(frame);
  };
  const started = performance.now();
  const intervalMs = 1000 / rate;
  let due = 0;
  let next = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    for (; started + due * intervalMs <= t; due += 1) {
      const intended = Math.max(started + due * intervalMs, t - PACE_RESOLUTION_MS);
      const index = next;
      next = (next + 1) % lanes.length;
      const client = ctx.clients[index]!;
      const lane = lanes[index]!;
      if (client.closing) continue;
      if (lane.intended.length < maxInflight) write(client, lane, intended, t);
      else if (backlog < MAX_BACKLOG) {
        backlog += 1;
        lane.waiting.push(intended);
      } else ctx.error(LoadErrorKind.BACKLOG, `more than ${MAX_BACKLOG} messages waiting for a free slot`);
    }
  }, 1);
  return () => clearInterval(timer);
}

/**
 * Fan-out to `subscribers`: `send(n)` makes publication n go out. A publication is done when
 * all subscribers got it; then the next one goes out, keeping `inflight` publications
 * outstanding. Each connection receives publications in order, so its n-th message is
 * publication n: nothing in the payload needs to be read.
 */
function runFanout(ctx: LoadContext, subscribers: readonly Client[], send: (n: number) => void, inflight: number): Stop {
  const slots = 1024;
  const remaining = new Int32Array(slots);
  const sentAt = new Float64Array(slots);
  const total = subscribers.length;
  const { counters } = ctx;
  const publish = (t: number): void => {
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
      counters.messages += k;
      for (let j = 0; j < k; j += 1) {
        const slot = received % slots;
        received += 1;
        remaining[slot] -= 1;
        if (remaining[slot] === 0) {
          ctx.latency.recordMs(t - sentAt[slot]!);
          counters.completed += 1;
          if (ctx.running()) publish(t);
        }
      }
    };
  }
  const t = performance.now();
  for (let i = 0; i < inflight; i += 1) publish(t);
  return NOTHING_TO_STOP;
}

/** Fan-out: the first connection publishes; every connection (the publisher too) is subscribed. */
export function fanout(ctx: LoadContext, { inflight, payload, deflate = false }: { inflight: number; payload: PayloadSpec; deflate?: boolean }): Stop {
  const frames = payloadFrames(payload, deflate);
  const publisher = ctx.clients[0]!;
  return runFanout(ctx, ctx.clients, (n) => publisher.socket.write(frames[n % frames.length]!), inflight);
}

/** Routes the messages a wire's counter hands over whole: deliveries count, replies and keep-alives do not. */
function listenThroughWire(ctx: LoadContext, client: Client, wire: Wire, channel: string, onDelivery: (text: string) => boolean): void {
  const send = (text: string): void => client.sendText(text);
  client.onOther = (text) => {
    const kind = wire.other(text, channel, send);
    if (kind === 'delivery') return onDelivery(text);
    if (kind !== 'reply' && kind !== 'keepalive') ctx.error(LoadErrorKind.UNEXPECTED_MESSAGE, kind);
    return false;
  };
}

/**
 * The channel load: the publisher publishes with the wire's publish message, all other
 * connections were subscribed by their session and count the wire's deliveries unread.
 */
export function channel(ctx: LoadContext, { inflight, channel: name, payload }: { inflight: number; channel: string; payload: PayloadSpec }): Stop {
  const { wire, publisher } = ctx;
  if (!wire || !publisher) throw new Error('the channel load needs a wire and a publisher (connect with wire and publisher)');
  const [data] = makePayloads(payload);
  const match = wire.delivery(name, data!);
  for (const client of ctx.clients) {
    client.counter.match = match;
    listenThroughWire(ctx, client, wire, name, () => true);
  }
  const subscribers = ctx.clients.filter((client) => client !== publisher);
  publisher.onMessages = (k) => ctx.error(LoadErrorKind.UNEXPECTED_MESSAGE, `${k} publications reached the publisher, which is not subscribed`);
  return runFanout(ctx, subscribers, (n) => publisher.socket.write(wire.publish(name, data!, n)), inflight);
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

const STAMP = /^\{"t":([0-9.]+),/;

/** A publication of the stamped load: its publish time `t`, its number `n`, padding `p` to `size` bytes. */
export function stampedPayload(n: number, size: number): string {
  const head = `{"t":${epochMs().toFixed(3)},"n":${n},"p":"`;
  return `${head}${'x'.repeat(Math.max(0, size - head.length - 2))}"}`;
}

/**
 * Stamped fan-out: the publisher (if this process has it) publishes `rate` publications per
 * second, open loop, each carrying its publish time; every connection that receives one (in
 * this process) counts a delivery and records the time since it was published. Deliveries are
 * read whole (their payload holds the time).
 */
export function stamped(ctx: LoadContext, { rate, size, channel: name }: { rate: number; size: number; channel: string }): Stop {
  const { wire, publisher } = ctx;
  if (!wire) throw new Error('the stamped load needs a wire');
  for (const client of ctx.clients) {
    const send = (text: string): void => client.sendText(text);
    client.counter.match = READ_WHOLE;
    client.onOther = (text) => {
      const payload = wire.payloadOf(text, name);
      const stamp = payload === null ? NaN : Number((STAMP.exec(payload) ?? [])[1]);
      if (Number.isFinite(stamp)) {
        ctx.latency.recordMs(epochMs() - stamp);
        return true;
      }
      const kind = wire.other(text, name, send);
      if (kind === 'delivery') ctx.error(LoadErrorKind.UNEXPECTED_MESSAGE, `a delivery without a publish time: ${text.slice(0, 80)}`);
      else if (kind !== 'reply' && kind !== 'keepalive') ctx.error(LoadErrorKind.UNEXPECTED_MESSAGE, kind);
      return false;
    };
    client.onMessages = (k) => {
      ctx.counters.messages += k;
    };
  }
  if (!publisher) return NOTHING_TO_STOP;
  const started = performance.now();
  const intervalMs = 1000 / rate;
  const timer = setInterval(() => {
    const t = performance.now();
    while (started + ctx.counters.published * intervalMs <= t && !publisher.closing) {
      const n = ctx.counters.published;
      ctx.counters.published += 1;
      ctx.counters.sent += 1;
      publisher.socket.write(wire.publish(name, stampedPayload(n, size), n));
    }
  }, 1);
  return () => clearInterval(timer);
}

/**
 * Connection rate: `concurrency` loops, each opening a connection, recording its handshake
 * time, closing it (close frame, then the socket's end) and opening the next.
 */
export function connectRate(ctx: LoadContext, { concurrency }: { concurrency: number }): Stop {
  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped && ctx.running()) {
      try {
        const client = await ctx.open();
        ctx.latency.recordMs(client.handshakeMs);
        ctx.counters.messages += 1;
        client.close();
      } catch {
        // open() counted the error; go on
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };
  for (let i = 0; i < concurrency; i += 1) void loop();
  return () => {
    stopped = true;
  };
}
