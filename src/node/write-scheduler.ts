/**
 * One write per tick for all connections: the first send of a tick queues its connection here,
 * and one process.nextTick callback then writes every queued connection's output, so that
 * sends made in one tick leave in one socket write each, and a publication to many subscribers
 * costs one scheduled callback, not one per subscriber. writeOutput hands one connection's
 * output to its socket as one (corked) write.
 * Must not: know what a connection writes, or let one connection's failure skip the others.
 */
import type { Duplex } from 'node:stream';
import { writeDirect, type DirectWriter } from './socket-write.js';

type WriteCallback = (error?: Error | null) => void;

/** A connection with output to write at the end of the tick. */
export interface ScheduledWriter {
  /** Writes what it queued since the last write. */
  writeScheduled(): void;
}

class WriteScheduler {
  #queue: ScheduledWriter[] = [];
  /**
   * The queue of the tick before, emptied: the two lists take turns, so a tick that queues
   * thousands of connections (a publication) grows no fresh array to hold them.
   */
  #spare: ScheduledWriter[] = [];
  readonly #writeAll = (): void => {
    const queue = this.#queue;
    this.#queue = this.#spare;
    let failure: unknown = null;
    for (let i = 0; i < queue.length; i++) {
      try {
        queue[i]!.writeScheduled();
      } catch (error) {
        // One connection's failure must not leave the others unwritten.
        failure ??= error;
      }
    }
    queue.length = 0;
    this.#spare = queue;
    if (failure !== null) throw failure;
  };

  /** Queues `writer` for the end of this tick; the caller queues each writer once per tick. */
  schedule(writer: ScheduledWriter): void {
    if (this.#queue.push(writer) === 1) process.nextTick(this.#writeAll);
  }
}

export const writeScheduler = new WriteScheduler();

/**
 * Writes `lead` (if any) and then `output` (the core's takeOutput()) to `socket` in one go;
 * `callbacks` run once it is out (at once, in the next tick, when there was nothing to write).
 * Without callbacks, a socket that takes direct writes (`direct`, socket-write.ts) gets them
 * straight to its handle when nothing waits ahead.
 */
export function writeOutput(socket: Duplex, lead: Uint8Array | null, output: Uint8Array[], callbacks: WriteCallback[] | null, direct: DirectWriter | null): void {
  const count = output.length;
  if (count === 0 && lead === null) {
    if (callbacks) for (const cb of callbacks) process.nextTick(cb);
    return;
  }
  if (direct !== null && callbacks === null) {
    const data = lead === null ? (count === 1 ? output[0]! : output) : count === 0 ? lead : [lead, ...output];
    if (writeDirect(socket, data, direct) >= 0) return;
  }
  const done = callbacks
    ? (error?: Error | null) => {
        for (const cb of callbacks) cb(error);
      }
    : undefined;
  if (count === 0 || (count === 1 && lead === null)) {
    socket.write(lead ?? output[0]!, done);
    return;
  }
  socket.cork();
  if (lead !== null) socket.write(lead);
  const last = count - 1;
  for (let i = 0; i < last; i++) socket.write(output[i]!);
  socket.write(output[last]!, done);
  socket.uncork();
}
