/**
 * How the dashboard's series map onto real-time channels: one channel per series and process,
 * `series.<node>.<series id>`, so that processes sharing an engine never mix their samples; the
 * catalog a page gets lists each series with its channel. A page's selection is its
 * subscriptions. A series is published while some page wants it, and for `graceMs` after the
 * last page left it, so that a page that reconnects within that time recovers what it missed.
 * Must not: know about sockets or the engine.
 */
import { RealtimeError } from 'fullduplex/realtime';
import type { SeriesInfo } from './metric-sampler.js';

/** A series as a page sees it: what it is and the channel its samples come on. */
export interface CatalogEntry extends SeriesInfo {
  channel: string;
}

export function seriesChannel(node: string, id: string): string {
  return `series.${node}.${id}`;
}

/** The `on` of a {on: boolean} request, or INVALID_PAYLOAD. */
export function readToggle(data: unknown): boolean {
  const on = (data as { on?: unknown } | null)?.on;
  if (typeof on !== 'boolean') throw new RealtimeError('INVALID_PAYLOAD', 'send {"on": true} or {"on": false}');
  return on;
}

/** Which channels were wanted lately: those some page subscribes to, and those it left less than graceMs ago. */
export class WantedChannels {
  readonly #graceMs: number;
  readonly #lastWantedMs = new Map<string, number>();

  constructor(graceMs: number) {
    this.#graceMs = graceMs;
  }

  /** Records the channels pages subscribe to now; forgets those left longer ago than the grace. */
  update(subscribed: Iterable<string>, nowMs: number): void {
    for (const channel of subscribed) this.#lastWantedMs.set(channel, nowMs);
    for (const [channel, at] of this.#lastWantedMs) if (nowMs - at > this.#graceMs) this.#lastWantedMs.delete(channel);
  }

  has(channel: string): boolean {
    return this.#lastWantedMs.has(channel);
  }
}
