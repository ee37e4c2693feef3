/**
 * Fakes for the real-time layer's ports: a clock whose time moves only when a test says so, and
 * a transport pair that records what the layer sent.
 */
import type { Clock } from '../../../src/realtime/clock.js';
import type { Transport } from '../../../src/realtime/transport.js';

interface Timer {
  at: number;
  fn: () => void;
  seq: number;
}

export class FakeClock implements Clock {
  time = 1_000_000;
  #timers = new Map<number, Timer>();
  #seq = 0;

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.time + Math.max(0, ms), fn, seq: id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  /** Due times of the pending timers, relative to now (for messages). */
  get due(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.time);
  }
  /** Moves time forward by `ms`, firing due timers in order (with microtasks settled between). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      let next: [number, Timer] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq))) next = entry;
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fn();
    }
    this.time = end;
    await settle();
  }
}

/** Lets pending promise callbacks run (several rounds, for chains of awaits). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The server's view of one connection, recording every frame it sent. */
export class FakeTransport implements Transport {
  protocol = 'fdx.v1';
  sent: string[] = [];
  closed: { code: number; reason: string } | null = null;
  onmessage: ((data: string | Uint8Array) => void) | null = null;
  onclose: ((code: number, reason: string) => void) | null = null;

  send(text: string): void {
    if (!this.closed) this.sent.push(text);
  }
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    this.onclose?.(code, reason);
  }
  /** The client side sends a message. */
  receive(message: unknown): void {
    this.onmessage?.(typeof message === 'string' || message instanceof Uint8Array ? message : JSON.stringify(message));
  }
  /** The connection drops without a close frame. */
  drop(): void {
    if (this.closed) return;
    this.closed = { code: 1006, reason: '' };
    this.onclose?.(1006, '');
  }
  /** Every message sent so far, parsed; clears the record. */
  take(): any[] {
    const out = this.sent.map((text) => JSON.parse(text));
    this.sent = [];
    return out;
  }
}
