/**
 * Shares the y-websocket messages of a document between the editor processes through a Broker
 * (one channel per document). Each publication starts with this process's 8-byte origin, so a
 * process skips its own messages when the broker hands them back.
 * Must not: interpret the messages (the room does), or retry a failed publication silently.
 */
import { randomBytes } from 'node:crypto';
import type { Broker } from 'fullduplex';

const ORIGIN_BYTES = 8;

export class DocRelay {
  readonly #broker: Broker;
  readonly #channelPrefix: string;
  readonly #log: (line: string) => void;
  readonly #origin = new Uint8Array(randomBytes(ORIGIN_BYTES));

  constructor(broker: Broker, channelPrefix: string, log: (line: string) => void) {
    this.#broker = broker;
    this.#channelPrefix = channelPrefix;
    this.#log = log;
  }

  /** Calls `handler` with each message another process publishes on `name` from now on. */
  join(name: string, handler: (message: Uint8Array) => void): Promise<void> {
    return this.#broker.subscribe(this.#channelPrefix + name, (data) => {
      if (data.length < ORIGIN_BYTES || this.#isOwn(data)) return;
      handler(data.subarray(ORIGIN_BYTES));
    });
  }

  leave(name: string): Promise<void> {
    return this.#broker.unsubscribe(this.#channelPrefix + name);
  }

  publish(name: string, message: Uint8Array): void {
    const data = new Uint8Array(ORIGIN_BYTES + message.length);
    data.set(this.#origin);
    data.set(message, ORIGIN_BYTES);
    this.#broker.publish(this.#channelPrefix + name, data).catch((error: Error) => {
      this.#log(`editor: could not share a change of ${name} with the other processes: ${error.message}`);
    });
  }

  #isOwn(data: Uint8Array): boolean {
    for (let i = 0; i < ORIGIN_BYTES; i++) if (data[i] !== this.#origin[i]) return false;
    return true;
  }
}
