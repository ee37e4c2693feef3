/**
 * Documents as files: `<dir>/<name>.yjs` holds the whole document as one Yjs update. A change
 * schedules a write `saveDelayMs` later (later changes push it back, up to `maxSaveDelayMs`
 * after the first); flush and close write at once. A write goes to a temporary file renamed
 * over the old one, so a crash leaves the previous version, never half of one.
 * Must not: write a file whose name did not pass DOC_NAME.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DOC_NAME, type DocStore } from './doc-store.js';

interface Pending {
  snapshot: () => Uint8Array;
  timer: NodeJS.Timeout;
  firstAt: number;
}

export interface FileDocStoreOptions {
  /** Quiet time after a change before the file is written. Default 500. */
  saveDelayMs?: number;
  /** Longest a change waits while changes keep coming. Default 5000. */
  maxSaveDelayMs?: number;
  log?: (line: string) => void;
}

export class FileDocStore implements DocStore {
  readonly #dir: string;
  readonly #saveDelayMs: number;
  readonly #maxSaveDelayMs: number;
  readonly #log: (line: string) => void;
  readonly #pending = new Map<string, Pending>();
  /** The write in progress per document, so two writes of one file never overlap. */
  readonly #writing = new Map<string, Promise<void>>();

  constructor(dir: string, options: FileDocStoreOptions = {}) {
    this.#dir = dir;
    this.#saveDelayMs = options.saveDelayMs ?? 500;
    this.#maxSaveDelayMs = options.maxSaveDelayMs ?? 5000;
    this.#log = options.log ?? (() => {});
  }

  #file(name: string): string {
    if (!DOC_NAME.test(name)) throw new Error(`not a document name: ${JSON.stringify(name)}`);
    return path.join(this.#dir, `${name}.yjs`);
  }

  async load(name: string): Promise<Uint8Array[]> {
    await this.#writing.get(name);
    try {
      return [new Uint8Array(await readFile(this.#file(name)))];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  record(name: string, _update: Uint8Array, snapshot: () => Uint8Array): void {
    const pending = this.#pending.get(name);
    const firstAt = pending?.firstAt ?? Date.now();
    if (pending) clearTimeout(pending.timer);
    const delayMs = Math.max(0, Math.min(this.#saveDelayMs, firstAt + this.#maxSaveDelayMs - Date.now()));
    const timer = setTimeout(() => void this.flush(name), delayMs);
    this.#pending.set(name, { snapshot, timer, firstAt });
  }

  flush(name: string): Promise<void> {
    const pending = this.#pending.get(name);
    if (!pending) return this.#writing.get(name) ?? Promise.resolve();
    clearTimeout(pending.timer);
    this.#pending.delete(name);
    const data = pending.snapshot();
    const previous = this.#writing.get(name) ?? Promise.resolve();
    const write = previous.then(() => this.#write(name, data));
    this.#writing.set(name, write);
    void write.finally(() => {
      if (this.#writing.get(name) === write) this.#writing.delete(name);
    });
    return write;
  }

  async #write(name: string, data: Uint8Array): Promise<void> {
    const file = this.#file(name);
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      await mkdir(this.#dir, { recursive: true });
      await writeFile(temporary, data);
      await rename(temporary, file);
    } catch (error) {
      this.#log(`editor: could not save ${name}: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pending.keys()].map((name) => this.flush(name)));
    await Promise.all(this.#writing.values());
  }
}
