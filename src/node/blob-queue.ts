/**
 * Blobs sent on a connection: their bytes are read asynchronously (as `ws` does since 8.18), and
 * sends made meanwhile wait behind the Blob, so messages leave in the order they were sent.
 * As in `ws`, a read that ends after the socket was destroyed (terminate()) sends nothing: the
 * Blob's callback and those of every send waiting behind it get "The socket was closed while the
 * blob was being read"; a read that fails gives them the Blob's error, and the link fails the
 * connection with it.
 * Must not: send anything itself (the link does, in order).
 */
import { UsageError } from '../protocol/errors.js';
import type { Callback } from './options.js';

/** A send waiting behind a Blob, with its callback (null for what has none: a close, a failure). */
interface Held {
  run: () => void;
  cb: Callback | undefined;
}

export class BlobQueue {
  /** Sends waiting for the Blob being read; null when none is. */
  #waiting: Held[] | null = null;
  /** The socket is gone (destroyed): what waits is abandoned, not sent. */
  readonly #gone: () => boolean;

  constructor(gone: () => boolean) {
    this.#gone = gone;
  }

  /** A Blob is being read: later sends must wait (hold them). */
  get holding(): boolean {
    return this.#waiting !== null;
  }

  /** Runs `send` once every Blob sent before it went out; `cb` is the send's own callback. */
  hold(send: () => void, cb?: Callback): void {
    this.#waiting!.push({ run: send, cb });
  }

  /**
   * Reads `blob`, then hands its bytes to `deliver` (or its error to `fail`, after `cb` and the
   * held sends' callbacks got it) and runs the sends held behind it.
   */
  read(blob: Blob, cb: Callback | undefined, deliver: (bytes: Buffer) => void, fail: (error: Error) => void): void {
    const waiting: Held[] = (this.#waiting = []);
    blob.arrayBuffer().then(
      (buffer) => {
        this.#waiting = null;
        if (this.#gone()) {
          // In the next tick, as in `ws`, so that a callback that throws does so outside the promise.
          process.nextTick(abandon, new UsageError('WS_ERR_NOT_OPEN', 'The socket was closed while the blob was being read'), cb, waiting);
          return;
        }
        deliver(Buffer.from(buffer));
        this.#release(waiting);
      },
      (error: Error) => {
        this.#waiting = null;
        process.nextTick(() => {
          abandon(error, cb, waiting);
          fail(error);
        });
      },
    );
  }

  #release(waiting: Held[]): void {
    while (waiting.length > 0) {
      if (this.#waiting !== null) {
        // A held send was another Blob: the rest waits behind it in turn.
        this.#waiting.push(...waiting);
        return;
      }
      waiting.shift()!.run();
    }
  }
}

/** `error` to the Blob's callback and to those of the sends held behind it, which are dropped. */
function abandon(error: Error, cb: Callback | undefined, waiting: Held[]): void {
  cb?.(error);
  for (const held of waiting) held.cb?.(error);
  waiting.length = 0;
}
