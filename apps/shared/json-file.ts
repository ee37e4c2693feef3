/**
 * A demo's state kept in one JSON file of its data folder: read once at start-up, written
 * whole (to a temporary file, then renamed, so a crash never leaves half a file), at most once
 * per `delayMs` while it keeps changing, and once more on flush().
 * Must not: trust the file (a missing or unreadable one reads as `fallback`), or write on every change.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export class JsonFile<T> {
  readonly path: string;
  readonly #delayMs: number;
  readonly #snapshot: () => T;
  #timer: NodeJS.Timeout | null = null;
  #writing: Promise<void> = Promise.resolve();

  /** `snapshot` gives what to store whenever a write happens. */
  constructor(path: string, snapshot: () => T, delayMs = 250) {
    this.path = path;
    this.#snapshot = snapshot;
    this.#delayMs = delayMs;
  }

  /** The stored value, or `fallback` when there is none or it is not JSON. */
  read(fallback: T): T {
    if (!existsSync(this.path)) return fallback;
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as T;
    } catch {
      return fallback;
    }
  }

  /** Something changed: write within delayMs. */
  changed(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#write();
    }, this.#delayMs);
    this.#timer.unref();
  }

  /** Writes now (if a write is pending) and resolves once it is on disk. */
  async flush(): Promise<void> {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
      await this.#write();
    }
    await this.#writing;
  }

  #write(): Promise<void> {
    const text = JSON.stringify(this.#snapshot());
    this.#writing = this.#writing.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      const temporary = `${this.path}.${process.pid}.tmp`;
      await writeFile(temporary, text);
      await rename(temporary, this.path);
    }).catch(() => undefined);
    return this.#writing;
  }
}
