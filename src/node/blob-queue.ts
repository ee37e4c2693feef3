/**
 * Blobs sent on a connection: their bytes are read asynchronously (as `ws` does since 8.18), and
 * sends made meanwhile wait behind the Blob, so messages leave in the order they were sent.
 * Must not: send anything itself (the link does, in order).
 */
export class BlobQueue {
  /** Sends waiting for the Blob being read; null when none is. */
  #waiting: Array<() => void> | null = null;

  /** A Blob is being read: later sends must wait (hold them). */
  get holding(): boolean {
    return this.#waiting !== null;
  }

  /** Runs `send` once every Blob sent before it went out. */
  hold(send: () => void): void {
    this.#waiting!.push(send);
  }

  /** Reads `blob`, then hands its bytes to `deliver` (or its error to `fail`) and runs the sends held behind it. */
  read(blob: Blob, deliver: (bytes: Buffer) => void, fail: (error: Error) => void): void {
    const waiting: Array<() => void> = (this.#waiting = []);
    blob.arrayBuffer().then(
      (buffer) => {
        this.#waiting = null;
        deliver(Buffer.from(buffer));
        this.#release(waiting);
      },
      (error: Error) => {
        this.#waiting = null;
        fail(error);
        this.#release(waiting);
      },
    );
  }

  #release(waiting: Array<() => void>): void {
    while (waiting.length > 0) {
      if (this.#waiting !== null) {
        // A held send was another Blob: the rest waits behind it in turn.
        this.#waiting.push(...waiting);
        return;
      }
      waiting.shift()!();
    }
  }
}
