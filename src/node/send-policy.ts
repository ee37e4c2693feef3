/**
 * Backpressure on the sending side: what a connection does with a message once
 * `maxBackpressure` bytes already wait in its buffer. 'close' closes with 1008 (RFC 6455 §7.4.1:
 * policy violation), 'drop' drops the message, 'latest' keeps only the newest message per `key`
 * (and drops messages without one) and sends those when the buffer drains.
 *
 * A SendPolicy is made once per server (or client connection) and shared by its connections;
 * the per-connection part, a Backlog, exists only once a connection first overflowed, so a
 * connection that keeps up carries nothing for it.
 * Must not: write to sockets or know about frames (the link queues and writes).
 */
import { ReadyState } from '../protocol/constants.js';
import type { SendResult } from '../pubsub/pubsub.js';
import { channels } from './diagnostics.js';

/**
 * What a connection does with a message once `maxBackpressure` bytes wait in its buffer:
 * 'close' closes with 1008, 'drop' drops the message, 'latest' keeps only the newest message
 * per key (and drops messages without a key).
 */
export type BackpressurePolicy = 'close' | 'drop' | 'latest';

export type DropReason = 'backpressure' | 'replaced';

/** What the policy needs of a connection. */
export interface Backpressured {
  readonly readyState: ReadyState;
  readonly bufferedAmount: number;
  backlog: Backlog | null;
  /** Counts a dropped message and tells the 'dropped' listeners. */
  dropped(reason: DropReason): void;
  close(code: number, reason: Uint8Array): void;
}

const BACKPRESSURE_REASON = new TextEncoder().encode('backpressure limit exceeded');

/** The per-connection state of the policy, made at the first overflow. */
export class Backlog {
  /** Messages dropped so far. */
  dropped = 0;
  /** The first fragment of the message being sent was dropped: the rest follows it. */
  droppingFragments = false;
  /** 'latest': the newest waiting send per key, in the order of their newest values. */
  latest: Map<string, () => void> | null = null;
}

export class SendPolicy {
  /** Infinity when there is no limit. */
  readonly maxBackpressure: number;
  readonly policy: BackpressurePolicy;

  constructor(maxBackpressure: number, policy: BackpressurePolicy) {
    this.maxBackpressure = maxBackpressure > 0 ? maxBackpressure : Infinity;
    this.policy = policy;
  }

  /**
   * Must a message of `size` bytes wait or go? True when it would pass the limit, or when an
   * older message of the same key waits ('latest'). A message larger than the limit still goes
   * out when nothing waits, so any message can be sent; the buffer stays within the limit plus
   * one message.
   */
  mustHold(target: Backpressured, size: number, key: string | undefined): boolean {
    if (key !== undefined && target.backlog?.latest?.has(key)) return true;
    return this.overLimit(target, size);
  }

  overLimit(target: Backpressured, size: number): boolean {
    const waiting = target.bufferedAmount;
    return waiting > 0 && waiting + size > this.maxBackpressure;
  }

  /** Applies the policy to a message that does not fit; `retry` sends it later ('latest'). */
  overflow(target: Backpressured, key: string | undefined, retry: () => void): SendResult {
    const backlog = (target.backlog ??= new Backlog());
    if (this.policy === 'latest' && key !== undefined) {
      const latest = (backlog.latest ??= new Map());
      const replaced = latest.has(key);
      if (replaced) target.dropped('replaced');
      latest.delete(key); // keep insertion order = order of the newest values
      latest.set(key, retry);
      if (channels.backpressure.hasSubscribers) channels.backpressure.publish({ policy: 'latest', action: replaced ? 'replaced' : 'held' });
      return 'buffered';
    }
    target.dropped('backpressure');
    if (this.policy === 'close') target.close(1008, BACKPRESSURE_REASON);
    if (channels.backpressure.hasSubscribers) channels.backpressure.publish({ policy: this.policy, action: this.policy === 'close' ? 'closed' : 'dropped' });
    return 'dropped';
  }

  /**
   * The first fragment of a message does not fit: the message is dropped whole (never kept as
   * the 'latest' of its key), and its later fragments with it while the connection stays open.
   */
  overflowFragmented(target: Backpressured): SendResult {
    const result = this.overflow(target, undefined, noop);
    if (result === 'dropped' && target.readyState === ReadyState.OPEN) target.backlog!.droppingFragments = true;
    return result;
  }

  /** The buffer drained: sends the waiting 'latest' messages while they fit. */
  drained(target: Backpressured): void {
    const latest = target.backlog?.latest;
    if (latest == null || latest.size === 0) return;
    for (const [key, retry] of latest) {
      if (target.bufferedAmount >= this.maxBackpressure) break;
      latest.delete(key);
      retry();
    }
  }
}

function noop(): void {}
