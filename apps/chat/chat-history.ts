/**
 * The recent messages of each chat room, kept in memory and in one JSON file of the demo's
 * data folder, so that a restarted server shows what was said before it stopped.
 * Must not: keep more than maxHistory lines per room, or trust the file's contents.
 */
import { join } from 'node:path';
import { JsonFile } from '../shared/json-file.js';

export interface ChatLine {
  id: string;
  name: string;
  color: string;
  text: string;
  ts: number;
}

const isLine = (value: unknown): value is ChatLine => {
  const line = value as ChatLine | null;
  return typeof line === 'object' && line !== null && typeof line.id === 'string' && typeof line.name === 'string' && typeof line.color === 'string' && typeof line.text === 'string' && typeof line.ts === 'number';
};

export class ChatHistory {
  readonly #rooms = new Map<string, ChatLine[]>();
  readonly #maxHistory: number;
  readonly #file: JsonFile<Record<string, ChatLine[]>>;

  constructor(rooms: readonly string[], maxHistory: number, dataDir: string) {
    this.#maxHistory = maxHistory;
    this.#file = new JsonFile(join(dataDir, 'history.json'), () => Object.fromEntries(this.#rooms));
    const stored = this.#file.read({});
    for (const room of rooms) {
      const lines = Array.isArray(stored[room]) ? stored[room].filter(isLine) : [];
      this.#rooms.set(room, lines.slice(-maxHistory));
    }
  }

  /** Recent lines of `room`, oldest first. */
  lines(room: string): ChatLine[] {
    return [...(this.#rooms.get(room) ?? [])];
  }

  add(room: string, line: ChatLine): void {
    const lines = this.#rooms.get(room);
    if (!lines) return;
    lines.push(line);
    if (lines.length > this.#maxHistory) lines.splice(0, lines.length - this.#maxHistory);
    this.#file.changed();
  }

  /** Writes what is pending to the file. */
  flush(): Promise<void> {
    return this.#file.flush();
  }
}
