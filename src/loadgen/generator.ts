/**
 * The load generator of one process, driven one phase at a time by whoever runs it (the
 * `fdx bench` command, or bench/run.mjs, through worker-main.ts's IPC):
 *   connect -> start -> (tick ...) -> measure -> (tick ...) -> report -> (verify | ping) -> close
 * It holds the connections, the counters and the histograms; the loads themselves are in
 * loads.ts. Latency goes into HDR histograms that are reported encoded, so that the reports of
 * several processes merge exactly.
 * Must not: print, exit, or know how many other processes run beside it.
 */
import { performance } from 'node:perf_hooks';
import { Client, LoadErrorKind, type LoadTls, type OpenOptions } from './client.js';
import { OPCODE, READ_WHOLE, maskedFrame, messageFrame, upgradeRequest, type PayloadSpec } from './frames.js';
import { LatencyHistogram } from './latency-histogram.js';
import { presenceStorm, type StormPhase } from './presence-storm.js';
import { channel, connectRate, echo, fanout, paced, stamped, type Counters, type LoadContext, type Stop } from './loads.js';
import { WIRES, type Wire, type WireName } from './wires.js';

export interface ConnectPhase {
  type: 'connect';
  host: string;
  port: number;
  /** The Host header; host:port when absent. */
  hostHeader?: string;
  /** Request path (and query); the wire's default, else '/'. */
  path?: string;
  count: number;
  concurrency: number;
  /** Source addresses, used in turn (each gives its own range of ephemeral ports). */
  localAddresses?: string[];
  deflate?: boolean;
  /** The server sends the client's masked frames back (a byte echo): count them, not as protocol errors. */
  maskedReplies?: boolean;
  subprotocol?: string | null;
  headers?: string[];
  wire?: WireName;
  channel?: string;
  /** This process's first connection publishes and does not subscribe. */
  publisher?: boolean;
  timeoutMs?: number;
  /** wss://: TLS settings (absent: ws://). */
  tls?: LoadTls | null;
}

export type Load =
  | { kind: 'echo'; inflight: number; payload: PayloadSpec }
  | { kind: 'paced'; rate: number; payload: PayloadSpec; maxInflight?: number }
  | { kind: 'fanout'; inflight: number; payload: PayloadSpec }
  | { kind: 'channel'; inflight: number; channel: string; payload: PayloadSpec }
  | { kind: 'stamped'; rate: number; size: number; channel: string }
  | { kind: 'connect'; concurrency: number }
  | { kind: 'hold' };

export type Phase =
  | ConnectPhase
  | StormPhase
  | { type: 'start'; load: Load }
  | { type: 'measure' }
  | { type: 'tick' }
  | { type: 'report'; minCompleted?: number; maxWaitMs?: number }
  | { type: 'verify'; timeoutMs: number }
  | { type: 'ping'; timeoutMs: number }
  | { type: 'close' };

export interface ErrorReport {
  errors: number;
  errorsByKind: Record<string, number>;
  errorSamples: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = performance.now() + timeoutMs;
    const check = (): void => {
      if (condition() || performance.now() >= deadline) resolve(condition());
      else setTimeout(check, 5);
    };
    check();
  });
}

/** CPU time this process used (user + system), in µs. */
const cpuUs = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

export class Generator {
  readonly #clients: Client[] = [];
  readonly #latency = new LatencyHistogram();
  readonly #uncorrected = new LatencyHistogram();
  /** Since the last tick: what the live progress line shows. */
  readonly #interval = new LatencyHistogram();
  readonly #counters: Counters = { messages: 0, sent: 0, completed: 0, published: 0 };
  readonly #errors = { count: 0, byKind: new Map<string, number>(), samples: new Map<string, number>() };
  #wire: Wire | null = null;
  #publisher: Client | null = null;
  #open: ((index: number) => Promise<Client>) | null = null;
  #opened = 0;
  #running = false;
  #stop: Stop = () => {};
  #measureStart = 0;
  #measureCpu = 0;
  /** Publications before the measured window (the count itself numbers publications). */
  #publishedBefore = 0;
  #lastTick = { t: performance.now(), cpu: cpuUs(), messages: 0, sent: 0, errors: 0 };

  readonly #recordError = (kind: LoadErrorKind, detail: string): void => {
    const errors = this.#errors;
    errors.count += 1;
    errors.byKind.set(kind, (errors.byKind.get(kind) ?? 0) + 1);
    const text = `${kind}: ${detail}`;
    if (errors.samples.size < 8 || errors.samples.has(text)) errors.samples.set(text, (errors.samples.get(text) ?? 0) + 1);
  };

  /** Runs one phase; resolves with its reply (without `type` and `ok`). */
  async run(phase: Phase): Promise<object> {
    switch (phase.type) {
      case 'connect':
        return this.#connect(phase);
      case 'start':
        this.#start(phase.load);
        return {};
      case 'measure':
        return this.#measure();
      case 'tick':
        return this.#tick();
      case 'report':
        return this.#report(phase);
      case 'verify':
        return this.#verify(phase.timeoutMs);
      case 'ping':
        return this.#ping(phase.timeoutMs);
      case 'storm':
        return this.#storm(phase);
      case 'close':
        return this.#close();
      default:
        throw new Error(`unknown phase ${(phase as { type: string }).type}`);
    }
  }

  /**
   * Opens `count` connections, at most `concurrency` handshakes at a time. With a `wire`, each
   * also opens its session on `channel`; with `publisher`, connection 0 publishes and does not
   * subscribe.
   */
  async #connect(options: ConnectPhase): Promise<object> {
    const { host, port, count, concurrency, localAddresses = [], deflate = false, maskedReplies = false, wire: wireName, channel: channelName = 'bench', publisher, timeoutMs = 30_000 } = options;
    const wire = wireName ? WIRES[wireName] : null;
    if (wireName && !wire) throw new Error(`unknown wire ${wireName}`);
    this.#wire = wire;
    const subprotocol = options.subprotocol ?? wire?.upgrade.subprotocol ?? null;
    const request = upgradeRequest(options.hostHeader ?? `${host}:${port}`, {
      deflate,
      path: options.path ?? wire?.upgrade.path ?? '/',
      subprotocol,
      headers: options.headers ?? [],
    });
    const base: OpenOptions = { host, port, request, deflate, subprotocol, match: wire ? READ_WHOLE : null, maskedReplies, timeoutMs, onError: this.#recordError, tls: options.tls ?? null };
    // One options object per source address, made once: Client.open reports its own failures.
    const sources = localAddresses.length > 0 ? localAddresses.map((localAddress) => ({ ...base, localAddress })) : [base];
    this.#open = (index) => Client.open(sources[index % sources.length]!);
    let next = 0;
    let failed = 0;
    const started = performance.now();
    let lastOpen = started;
    const handshakes = new LatencyHistogram();
    const worker = async (): Promise<void> => {
      while (next < count) {
        const i = next;
        next += 1;
        let client: Client;
        try {
          client = await this.#openNext();
        } catch {
          failed += 1;
          continue;
        }
        handshakes.recordMs(client.handshakeMs);
        const publishes = Boolean(publisher) && i === 0;
        if (wire) {
          try {
            await this.#openSession(client, wire, { channel: channelName, subscribe: !publishes, timeoutMs });
          } catch (error) {
            failed += 1;
            this.#recordError(LoadErrorKind.HANDSHAKE, (error as Error).message);
            continue;
          }
        }
        if (publishes) this.#publisher = client;
        this.#clients.push(client);
        lastOpen = performance.now();
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return { opened: this.#clients.length, failed, elapsedMs: lastOpen - started, handshakes: handshakes.encode(), ...this.#errorReport() };
  }

  #openNext(): Promise<Client> {
    if (!this.#open) throw new Error('connect first');
    const index = this.#opened;
    this.#opened += 1;
    return this.#open(index);
  }

  /** Opens a wire's session on a fresh connection; keep-alives are answered meanwhile. */
  async #openSession(client: Client, wire: Wire, { channel: name, subscribe, timeoutMs }: { channel: string; subscribe: boolean; timeoutMs: number }): Promise<void> {
    const send = (text: string): void => client.sendText(text);
    const session = {
      send,
      async next(): Promise<string> {
        for (;;) {
          const text = await client.nextText(timeoutMs);
          if (!wire.heartbeat(text, send)) return text;
        }
      },
    };
    try {
      await wire.open(session, { channel: name, subscribe });
    } catch (error) {
      client.drop();
      throw error;
    }
  }

  #start(load: Load): void {
    this.#running = true;
    const latency = {
      recordMs: (ms: number): void => {
        this.#latency.recordMs(ms);
        this.#interval.recordMs(ms);
      },
    };
    const ctx: LoadContext = {
      clients: this.#clients,
      publisher: this.#publisher,
      wire: this.#wire,
      latency,
      uncorrected: this.#uncorrected,
      counters: this.#counters,
      error: this.#recordError,
      running: () => this.#running,
      open: () => this.#openNext(),
    };
    switch (load.kind) {
      case 'echo':
        this.#stop = echo(ctx, load);
        break;
      case 'paced':
        this.#stop = paced(ctx, load);
        break;
      case 'fanout':
        this.#stop = fanout(ctx, load);
        break;
      case 'channel':
        this.#stop = channel(ctx, load);
        break;
      case 'stamped':
        this.#stop = stamped(ctx, load);
        break;
      case 'connect':
        this.#stop = connectRate(ctx, load);
        break;
      case 'hold':
        break;
      default:
        throw new Error(`unknown load ${(load as { kind: string }).kind}`);
    }
  }

  #measure(): object {
    this.#latency.reset();
    this.#uncorrected.reset();
    Object.assign(this.#counters, { messages: 0, sent: 0, completed: 0 });
    for (const client of this.#clients) {
      client.counter.compressed = 0;
      client.counter.payloadBytes = 0;
    }
    this.#publishedBefore = this.#counters.published;
    this.#measureStart = performance.now();
    this.#measureCpu = cpuUs();
    this.#lastTick = { t: this.#measureStart, cpu: this.#measureCpu, messages: 0, sent: 0, errors: this.#errors.count };
    this.#interval.reset();
    return {};
  }

  /** What happened since the last tick (or measure): for the live line and the plots over time. */
  #tick(): object {
    const t = performance.now();
    const cpu = cpuUs();
    const last = this.#lastTick;
    const reply = {
      elapsedMs: t - last.t,
      cpuUs: cpu - last.cpu,
      messages: this.#counters.messages - last.messages,
      sent: this.#counters.sent - last.sent,
      errors: this.#errors.count - last.errors,
      open: this.#clients.filter((c) => !c.closing).length,
      histogram: this.#interval.encode(),
    };
    this.#lastTick = { t, cpu, messages: this.#counters.messages, sent: this.#counters.sent, errors: this.#errors.count };
    this.#interval.reset();
    return reply;
  }

  /** Ends the measured window; with minCompleted, first waits (up to maxWaitMs) for that many publications. */
  async #report({ minCompleted = 0, maxWaitMs = 0 }: { minCompleted?: number; maxWaitMs?: number }): Promise<object> {
    if (minCompleted > 0) await until(() => this.#counters.completed >= minCompleted, maxWaitMs);
    const elapsedMs = performance.now() - this.#measureStart;
    const sum = (pick: (c: Client) => number): number => this.#clients.reduce((s, c) => s + pick(c), 0);
    return {
      elapsedMs,
      cpuUs: cpuUs() - this.#measureCpu,
      messages: this.#counters.messages,
      deliveries: this.#counters.messages,
      sent: this.#counters.sent,
      completed: this.#counters.completed,
      published: this.#counters.published - this.#publishedBefore,
      open: this.#clients.filter((c) => !c.closing).length,
      compressedMessages: sum((c) => c.counter.compressed),
      payloadBytes: sum((c) => c.counter.payloadBytes),
      protocolErrors: sum((c) => c.counter.protocolErrors),
      histogram: this.#latency.encode(),
      uncorrected: this.#uncorrected.encode(),
      ...this.#errorReport(),
    };
  }

  #halt(): void {
    this.#running = false;
    this.#stop();
    this.#stop = () => {};
  }

  /** Every connection sends one message and must get its echo: proof that it is still held. */
  async #verify(timeoutMs: number): Promise<object> {
    this.#halt();
    let answered = 0;
    const frame = messageFrame(Buffer.from('held?'));
    for (const client of this.#clients) {
      let done = false;
      client.onMessages = () => {
        if (!done) answered += 1;
        done = true;
      };
      client.socket.write(frame);
    }
    await until(() => answered === this.#clients.length, timeoutMs);
    return { answered, ...this.#errorReport() };
  }

  /**
   * Every open connection is pinged (RFC 6455 §5.5.2: any server answers with a pong) and its
   * round trip recorded: proof that it is still held, from any server.
   */
  async #ping(timeoutMs: number): Promise<object> {
    this.#halt();
    let answered = 0;
    const live = this.#clients.filter((c) => !c.closing);
    const sentAt = performance.now();
    const frame = maskedFrame(OPCODE.ping, Buffer.from('held?'));
    for (const client of live) {
      let done = false;
      client.onPong = () => {
        if (done) return;
        done = true;
        answered += 1;
        this.#latency.recordMs(performance.now() - sentAt);
      };
      client.socket.write(frame);
    }
    await until(() => answered === live.length, timeoutMs);
    if (answered < live.length) this.#recordError(LoadErrorKind.TIMEOUT, `${live.length - answered} connections did not answer a ping within ${timeoutMs} ms`);
    return { answered, ...this.#errorReport() };
  }

  /** Members join one presence channel over a window (presence-storm.ts); they stay open until close. */
  async #storm(phase: StormPhase): Promise<object> {
    const wire = WIRES.fdx;
    const timeoutMs = phase.timeoutMs ?? 120_000;
    await this.#connect({ type: 'connect', host: phase.host, port: phase.port, count: 0, concurrency: 1, localAddresses: phase.localAddresses, wire: 'fdx', channel: phase.channel, timeoutMs });
    const result = await presenceStorm(phase, {
      join: async () => {
        const client = await this.#openNext();
        try {
          await this.#openSession(client, wire, { channel: phase.channel, subscribe: true, timeoutMs });
        } catch (error) {
          this.#recordError(LoadErrorKind.HANDSHAKE, (error as Error).message);
          throw error;
        }
        this.#clients.push(client);
        return client;
      },
      until,
    });
    return { ...result, ...this.#errorReport() };
  }

  async #close(): Promise<object> {
    this.#halt();
    for (const client of this.#clients) client.drop();
    await sleep(0);
    return this.#errorReport();
  }

  #errorReport(): ErrorReport {
    const { count, byKind, samples } = this.#errors;
    return {
      errors: count,
      errorsByKind: Object.fromEntries(byKind),
      errorSamples: [...samples].map(([text, n]) => `${text} (x${n})`),
    };
  }
}
