/**
 * The recent messages of each chat room, for a page whose recovery failed (a restarted server)
 * and for whoever enters a room: alone, kept in memory and in one JSON file of the demo's data
 * folder; with Redis, read from the real-time engine's history of the room's channel, which
 * every process shares and which outlives them all.
 * Must not: keep more than maxHistory lines per room, or trust what the file or Redis holds.
 */
import { join } from 'node:path';
import type { Engine } from 'fullduplex/realtime';
import { recentPublications } from '../shared/engine-history.js';
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

export interface ChatHistory {
  /** Recent lines of `room`, oldest first. */
  lines(room: string): Promise<ChatLine[]>;
  /** A line was published in `room`. */
  add(room: string, line: ChatLine): void;
  /** Stores what is pending. */
  flush(): Promise<void>;
}

/** The engine's history of each room's channel (the Redis engine keeps it for every process). */
export class EngineChatHistory implements ChatHistory {
  readonly #engine: Engine;
  readonly #channelOf: (room: string) => string;
  readonly #maxHistory: number;

  constructor(engine: Engine, channelOf: (room: string) => string, maxHistory: number) {
    this.#engine = engine;
    this.#channelOf = channelOf;
    this.#maxHistory = maxHistory;
  }

  async lines(room: string): Promise<ChatLine[]> {
    return (await recentPublications(this.#engine, this.#channelOf(room), this.#maxHistory)).filter(isLine);
  }

  add(): void {
    // The publication itself is the history.
  }

  async flush(): Promise<void> {}
}

/** One process's history, in memory and in a file of its data folder. */
export class FileChatHistory implements ChatHistory {
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

  async lines(room: string): Promise<ChatLine[]> {
    return [...(this.#rooms.get(room) ?? [])];
  }

  add(room: string, line: ChatLine): void {
    const lines = this.#rooms.get(room);
    if (!lines) return;
    lines.push(line);
    if (lines.length > this.#maxHistory) lines.splice(0, lines.length - this.#maxHistory);
    this.#file.changed();
  }

  flush(): Promise<void> {
    return this.#file.flush();
  }
}
