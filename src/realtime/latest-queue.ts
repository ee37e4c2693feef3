/**
 * The messages a backed-up connection holds until its socket drains, under the 'latest' policy
 * as fdx.v1 needs it: every message waits in the order it was sent, and a keyed one (a
 * publication with `latest`) replaces the waiting one of its key, taking its own place at the
 * end. What leaves is the sent sequence minus the replaced messages, in order; messages without
 * a key (replies, other publications, pushes) are never dropped or reordered. Their bytes are
 * counted (`unkeyedBytes`), since nothing bounds them but the caller's limit.
 * Must not: know about sockets or frames (the glue in src/realtime.ts decides when to hold).
 */

/** Bytes of keyless messages a backed-up connection may hold under 'latest': maxBackpressure, and at least 1 MiB. */
export function heldLimit(maxBackpressure: number): number {
  return Math.max(maxBackpressure, 1024 * 1024);
}

export class LatestQueue<T> {
  /** Keyed entries under their key, others under a number: a Map keeps insertion order. */
  readonly #items = new Map<string | number, { item: T; size: number }>();
  #unkeyed = 0;
  /** Messages replaced by a newer one of their key so far. */
  replaced = 0;
  /** Bytes of the waiting messages without a key (the sizes given to push). */
  unkeyedBytes = 0;

  get size(): number {
    return this.#items.size;
  }

  push(item: T, key?: string, size = 0): void {
    if (key === undefined) {
      this.#items.set(this.#unkeyed++, { item, size });
      this.unkeyedBytes += size;
      return;
    }
    if (this.#items.delete(key)) this.replaced++;
    this.#items.set(key, { item, size });
  }

  /** The oldest waiting message, without taking it. */
  peek(): T | undefined {
    for (const entry of this.#items.values()) return entry.item;
    return undefined;
  }

  /** Takes the oldest waiting message. */
  shift(): T | undefined {
    for (const [key, entry] of this.#items) {
      this.#items.delete(key);
      if (typeof key === 'number') this.unkeyedBytes -= entry.size;
      return entry.item;
    }
    return undefined;
  }

  clear(): void {
    this.#items.clear();
    this.unkeyedBytes = 0;
  }
}
