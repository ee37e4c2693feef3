/**
 * A test client for the chat demo (apps/chat): a fullduplex WebSocket that records the events
 * the server sends and the latest room counts, with bounded waits (bounds, not measurements).
 */
import { once } from 'node:events';
import WebSocket from '../../../src/index.js';

/** Longest wait for one expected event. */
export const WAIT_MS = 15_000;

export type ChatEvent = Record<string, unknown> & { type: string };

export class ChatClient {
  readonly ws: WebSocket;
  /** Events not consumed by until() yet, oldest first. */
  readonly pending: ChatEvent[] = [];
  /** Every event received, for failure messages. */
  readonly received: ChatEvent[] = [];
  /** Latest count of each room, from the welcome and every rooms event. */
  readonly counts = new Map<string, number>();
  /** Latest count of everyone connected. */
  online = 0;
  name = '';
  readonly #waiters = new Set<() => void>();

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      const event = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString() : String(data)) as ChatEvent;
      if (event.type === 'welcome' || event.type === 'rooms') {
        for (const room of event.rooms as Array<{ name: string; online: number }>) this.counts.set(room.name, room.online);
        this.online = event.online as number;
      }
      if (event.type === 'welcome') this.name = event.name as string;
      this.pending.push(event);
      this.received.push(event);
      for (const waiter of [...this.#waiters]) waiter();
    });
    ws.on('close', () => {
      for (const waiter of [...this.#waiters]) waiter();
    });
    ws.on('error', () => {});
  }

  /** Connects as `name` to a chat at http://host:port/ and waits for the welcome. */
  static async connect(pageUrl: string, name: string): Promise<ChatClient> {
    const url = new URL(`ws?name=${encodeURIComponent(name)}`, pageUrl.replace(/^http/, 'ws'));
    const client = new ChatClient(new WebSocket(url.href));
    await once(client.ws, 'open');
    await client.until((event) => event.type === 'welcome', 'the welcome');
    return client;
  }

  send(command: object | string): void {
    this.ws.send(typeof command === 'string' ? command : JSON.stringify(command));
  }

  /** Joins `room` and waits until the server confirmed it; resolves with the joined event. */
  async join(room: string): Promise<ChatEvent> {
    this.send({ type: 'join', room });
    return this.until((event) => event.type === 'joined' && event.room === room, `joined #${room}`);
  }

  /** Consumes pending events up to the first that matches and resolves with it. */
  until(match: (event: ChatEvent) => boolean, what: string): Promise<ChatEvent> {
    return this.#wait(() => {
      while (this.pending.length > 0) {
        const event = this.pending.shift()!;
        if (match(event)) return event;
      }
      return undefined;
    }, what);
  }

  /** Waits until the latest counts show `expected` (room -> members). */
  async countsReach(expected: Record<string, number>): Promise<void> {
    await this.#wait(() => (Object.entries(expected).every(([room, count]) => this.counts.get(room) === count) ? true : undefined), `counts ${JSON.stringify(expected)}`);
  }

  /** Resolves with the close code once the server closed the connection. */
  async closed(): Promise<number> {
    if (this.ws.readyState === WebSocket.CLOSED) return -1;
    const [code] = (await once(this.ws, 'close')) as [number];
    return code;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = once(this.ws, 'close');
    this.ws.close();
    await closed;
  }

  #wait<T>(check: () => T | undefined, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        const found = check();
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          finish();
          reject(new Error(`${this.name || 'client'}: connection closed while waiting for ${what}; received ${this.#recent()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.name || 'client'}: no ${what} within ${WAIT_MS} ms; received ${this.#recent()}`));
      }, WAIT_MS);
      const finish = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
      waiter();
    });
  }

  #recent(): string {
    return JSON.stringify(this.received.slice(-8));
  }
}
