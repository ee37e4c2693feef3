/**
 * Presence over several chat processes sharing a real-time engine (Redis): each process
 * publishes its own rooms' members on one engine channel when they change and every
 * heartbeatMs, and merges what the others publish. A process not heard from for three
 * heartbeats is forgotten; one that stops says so at once.
 * Must not: trust what the channel carries (anything malformed is ignored), or send to pages.
 */
import type { Engine } from 'fullduplex/realtime';
import type { PresenceSnapshot } from './room-presence.js';

interface Report {
  process: string;
  rooms: PresenceSnapshot;
  bye?: boolean;
}

const MISSED_HEARTBEATS = 3;

export class PresenceExchange {
  readonly #engine: Engine;
  readonly #channel: string;
  readonly #process: string;
  readonly #heartbeatMs: number;
  readonly #local: () => PresenceSnapshot;
  readonly #onChange: () => void;
  readonly #others = new Map<string, { rooms: PresenceSnapshot; heardAt: number }>();
  #unsubscribe: (() => Promise<void>) | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: { engine: Engine; channel: string; process: string; heartbeatMs: number; local: () => PresenceSnapshot; onChange: () => void }) {
    this.#engine = options.engine;
    this.#channel = options.channel;
    this.#process = options.process;
    this.#heartbeatMs = options.heartbeatMs;
    this.#local = options.local;
    this.#onChange = options.onChange;
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#engine.subscribe(this.#channel, (publication) => this.#receive(publication.data));
    this.#timer = setInterval(() => this.#heartbeat(), this.#heartbeatMs);
    this.#timer.unref();
    this.publish();
  }

  /** The other processes' snapshots still alive. */
  others(): PresenceSnapshot[] {
    return [...this.#others.values()].map(({ rooms }) => rooms);
  }

  /** Tells the others what this process's rooms hold now. */
  publish(): void {
    this.#send({ process: this.#process, rooms: this.#local() });
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#engine.publish(this.#channel, { process: this.#process, rooms: {}, bye: true }).catch(() => undefined);
    await this.#unsubscribe?.().catch(() => undefined);
  }

  #send(report: Report): void {
    this.#engine.publish(this.#channel, report).catch(() => undefined);
  }

  #heartbeat(): void {
    this.publish();
    const deadline = Date.now() - MISSED_HEARTBEATS * this.#heartbeatMs;
    let changed = false;
    for (const [process, { heardAt }] of this.#others) {
      if (heardAt < deadline) changed = this.#others.delete(process) || changed;
    }
    if (changed) this.#onChange();
  }

  #receive(data: unknown): void {
    const report = data as Report | null;
    if (typeof report !== 'object' || report === null || typeof report.process !== 'string' || report.process === this.#process) return;
    if (report.bye) {
      if (this.#others.delete(report.process)) this.#onChange();
      return;
    }
    if (typeof report.rooms !== 'object' || report.rooms === null) return;
    const before = JSON.stringify(this.#others.get(report.process)?.rooms);
    // A newcomer's first report: answer with ours, so it need not wait for a heartbeat.
    if (!this.#others.has(report.process)) this.publish();
    this.#others.set(report.process, { rooms: report.rooms, heardAt: Date.now() });
    if (JSON.stringify(report.rooms) !== before) this.#onChange();
  }
}
