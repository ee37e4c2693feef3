/**
 * Documents in Redis: the list `<prefix>doc:<name>` holds a document's updates, appended by
 * whichever process took them from a client. Past `maxUpdates` entries the process that
 * appended merges the list's head into one update and replaces exactly those entries in one
 * MULTI (entries are only ever appended at the tail, so the head it read is the head it trims);
 * a short lock key (SET NX PX) keeps two processes from merging the same head at once.
 * Must not: lose an update it was told about: appends are chained per document and awaited by
 * flush and close.
 */
import { RESP_TYPES, createClient } from 'redis';
import * as Y from 'yjs';
import type { DocStore } from './doc-store.js';

export interface RedisDocStoreOptions {
  url: string;
  /** Prepended to every key. */
  keyPrefix: string;
  /** Entries in a document's list before it is merged. Default 500. */
  maxUpdates?: number;
  log?: (line: string) => void;
}

/** Longest a merge may take before another process may merge the same list. */
const MERGE_LOCK_MS = 10_000;

function connect(url: string) {
  return createClient({ url, socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000) } }).withTypeMapping({
    [RESP_TYPES.BLOB_STRING]: Buffer,
  });
}

export class RedisDocStore implements DocStore {
  readonly #client: ReturnType<typeof connect>;
  readonly #keyPrefix: string;
  readonly #maxUpdates: number;
  readonly #log: (line: string) => void;
  readonly #appending = new Map<string, Promise<void>>();

  private constructor(client: ReturnType<typeof connect>, options: RedisDocStoreOptions) {
    this.#client = client;
    this.#keyPrefix = options.keyPrefix;
    this.#maxUpdates = options.maxUpdates ?? 500;
    this.#log = options.log ?? (() => {});
  }

  static async open(options: RedisDocStoreOptions): Promise<RedisDocStore> {
    const client = connect(options.url);
    client.on('error', (error: Error) => options.log?.(`editor: redis: ${error.message}`));
    await client.connect();
    return new RedisDocStore(client, options);
  }

  #key(name: string): string {
    return `${this.#keyPrefix}doc:${name}`;
  }

  async load(name: string): Promise<Uint8Array[]> {
    const entries = await this.#client.lRange(this.#key(name), 0, -1);
    return entries.map((entry) => new Uint8Array(entry as Buffer));
  }

  record(name: string, update: Uint8Array, _snapshot?: () => Uint8Array): void {
    const previous = this.#appending.get(name) ?? Promise.resolve();
    const append = previous.then(() => this.#append(name, update));
    this.#appending.set(name, append);
    void append.finally(() => {
      if (this.#appending.get(name) === append) this.#appending.delete(name);
    });
  }

  async #append(name: string, update: Uint8Array): Promise<void> {
    try {
      const length = await this.#client.rPush(this.#key(name), Buffer.from(update));
      if (length > this.#maxUpdates) await this.#compact(name, length);
    } catch (error) {
      this.#log(`editor: could not store a change of ${name} in Redis: ${(error as Error).message}`);
    }
  }

  async #compact(name: string, count: number): Promise<void> {
    const key = this.#key(name);
    const lock = `${key}:merging`;
    if ((await this.#client.set(lock, '1', { NX: true, PX: MERGE_LOCK_MS })) === null) return;
    try {
      await this.#merge(key, count);
    } finally {
      await this.#client.del(lock);
    }
  }

  async #merge(key: string, count: number): Promise<void> {
    const head = await this.#client.lRange(key, 0, count - 1);
    const merged = Y.mergeUpdates(head.map((entry) => new Uint8Array(entry as Buffer)));
    await this.#client.multi().lTrim(key, head.length, -1).lPush(key, Buffer.from(merged)).exec();
  }

  flush(name: string): Promise<void> {
    return this.#appending.get(name) ?? Promise.resolve();
  }

  /** Removes the documents under this store's prefix (tests clean up with it). */
  async destroyAll(): Promise<void> {
    const keys: string[] = [];
    for await (const batch of this.#client.scanIterator({ MATCH: `${this.#keyPrefix}doc:*` })) keys.push(...(batch as unknown as string[]).map(String));
    if (keys.length > 0) await this.#client.del(keys);
  }

  async close(): Promise<void> {
    await Promise.all(this.#appending.values());
    await this.#client.close();
  }
}
