/**
 * Inbox: a FIFO of things a peer reported (messages, pings, connections), read one at a time
 * with a deadline, so no interop test can hang on a peer that went quiet.
 */
export class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: Array<{ resolve: (item: T) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }> = [];
  #failure: Error | null = null;

  constructor(readonly label: string) {}

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(item);
    } else {
      this.#items.push(item);
    }
  }

  /** Every pending and future read rejects with `error` (the peer is gone). */
  fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  get size(): number {
    return this.#items.length;
  }

  next(timeoutMs = 10_000): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.#waiters.indexOf(waiter);
          if (i !== -1) this.#waiters.splice(i, 1);
          reject(new Error(`${this.label}: nothing arrived within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }
}

/** Rejects when `promise` does not settle within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
