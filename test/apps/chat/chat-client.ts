/**
 * A test client for the chat demo (apps/chat): fullduplex/client in Node, connected to the
 * demo's /chat/rt as a named person, recording every publication, and reading who is where from
 * the layer's presence on chat:people as the page does (members grouped by name per room), with
 * bounded waits (bounds, not measurements). `drop()` cuts its socket as a network would.
 */
import { createClient, type PresenceView, type RealtimeClient } from 'fullduplex/client';
import { WebSocket } from 'fullduplex';

/** Longest wait for one expected thing. */
export const WAIT_MS = 15_000;

export interface Line {
  id: string;
  name: string;
  color: string;
  text: string;
  ts: number;
}
export type Presence = Record<string, Array<{ name: string; color: string; typing: boolean }>>;
interface Meta {
  color: string;
  room: string | null;
  typing: boolean;
}

export class ChatClient {
  readonly client: RealtimeClient;
  /** Every line received, by room, in order of arrival. */
  readonly lines = new Map<string, Line[]>();
  readonly people: PresenceView;
  #meta: Meta = { color: '', room: null, typing: false };
  welcome: { name: string; color: string; rooms: string[] } | null = null;
  readonly #sockets: WebSocket[] = [];

  constructor(chatUrl: string, name: string, rooms: readonly string[] = []) {
    const sockets = this.#sockets;
    class TrackedWebSocket extends WebSocket {
      constructor(url: string, protocols: string | string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    }
    this.client = createClient(`${chatUrl.replace(/^http/, 'ws')}rt`, { WebSocket: TrackedWebSocket as never, data: { name }, minDelayMs: 50, maxDelayMs: 300 });
    this.client.on('online', (welcome) => {
      this.welcome = welcome as ChatClient['welcome'];
    });
    this.people = this.client.presence('chat:people');
    this.client.subscribe('chat:people');
    for (const room of rooms) {
      this.lines.set(room, []);
      this.client.subscribe(`chat:${room}`, (line: Line) => this.lines.get(room)!.push(line));
    }
  }

  /** Connects and subscribes; resolves once connected with every subscription confirmed. */
  static async connect(chatUrl: string, name: string, rooms: readonly string[] = ['general']): Promise<ChatClient> {
    const chat = new ChatClient(chatUrl, name, rooms);
    const confirmed = new Set<string>();
    chat.client.on('subscribed', (channel) => confirmed.add(channel));
    await waitUntil(() => chat.welcome !== null && rooms.every((room) => confirmed.has(`chat:${room}`)), `${name} connected and subscribed`);
    return chat;
  }

  /** Who is in which room, as this client's presence view has it now. */
  get presence(): Presence {
    const rooms: Presence = {};
    for (const [user, { meta }] of this.people.members) {
      const { room, color, typing } = meta as Meta;
      if (typeof room !== 'string') continue;
      const name = user.slice(user.indexOf(':') + 1);
      const list = (rooms[room] ??= []);
      const known = list.find((member) => member.name === name);
      if (known) known.typing ||= typing;
      else list.push({ name, color, typing });
    }
    return rooms;
  }

  /** Shows `room` (as a page that opens it): sets this member's presence metadata. */
  enter(room: string): Promise<unknown> {
    return this.#set({ room, color: this.welcome?.color ?? '' });
  }

  typing(typing: boolean): Promise<unknown> {
    return this.#set({ typing });
  }

  #set(change: Partial<Meta>): Promise<unknown> {
    this.#meta = { ...this.#meta, ...change };
    return this.people.set(this.#meta);
  }

  texts(room: string): string[] {
    return (this.lines.get(room) ?? []).map((line) => line.text);
  }

  send(room: string, text: string): Promise<{ id: string }> {
    return this.client.request('chat:send', { room, text }, { timeoutMs: WAIT_MS });
  }

  /** Cuts the current socket without a closing handshake; the client reconnects by itself. */
  drop(): void {
    this.#sockets.at(-1)?.terminate();
  }

  close(): void {
    this.client.close();
  }
}

/** Polls `check` every 20 ms until it is true; fails after maxWaitMs naming `what`. */
export async function waitUntil(check: () => boolean, what: string, maxWaitMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + maxWaitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${maxWaitMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
