/**
 * The messages a backed-up connection holds until its socket drains, under the 'latest' policy
 * as fdx.v1 needs it: every message waits in the order it was sent, and a keyed one (a
 * publication with `latest`) replaces the waiting one of its key, taking its own place at the
 * end. What leaves is the sent sequence minus the replaced messages, in order; messages without
 * a key (replies, other publications, pushes) are never dropped or reordered.
 * Must not: know about sockets or frames (the glue in src/realtime.ts decides when to hold).
 */

export class LatestQueue<T> {
  /** Keyed entries under their key, others under a number: a Map keeps insertion order. */
  readonly #items = new Map<string | number, T>();
  #unkeyed = 0;
  /** Messages replaced by a newer one of their key so far. */
  replaced = 0;

  get size(): number {
    return this.#items.size;
  }

  push(item: T, key?: string): void {
    if (key === undefined) {
      this.#items.set(this.#unkeyed++, item);
      return;
    }
    if (this.#items.delete(key)) this.replaced++;
    this.#items.set(key, item);
  }

  /** The oldest waiting message, without taking it. */
  peek(): T | undefined {
    for (const item of this.#items.values()) return item;
    return undefined;
  }

  /** Takes the oldest waiting message. */
  shift(): T | undefined {
    for (const [key, item] of this.#items) {
      this.#items.delete(key);
      return item;
    }
    return undefined;
  }

  clear(): void {
    this.#items.clear();
  }
}
