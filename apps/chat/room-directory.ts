/**
 * The room directory: what every chat process agrees on, namely who is connected, which room
 * each member is in, and the recent messages of each room. Chat messages themselves travel on
 * the WebSocket server's topics; the directory only keeps the books, over one broker channel
 * that every process subscribes to.
 *
 * Why a channel of its own: a topic delivers to sockets, never to the server that publishes, so a
 * process cannot learn from topics who is connected elsewhere. Each process therefore announces
 * its own members on this channel and counts the members the others announce.
 *
 * Directory events (JSON, each naming the process it comes `from`):
 *   hello   a process started: the others answer with a sync carrying their recent history
 *   sync    the full list of a process's members; also sent every heartbeatMs as a heartbeat
 *   member  one member connected, or entered, left or switched rooms (room null: in no room)
 *   gone    one member disconnected
 *   said    one chat message, kept as history (its delivery went through the room's topic)
 *   bye     a process is stopping: forget its members
 * A process not heard from for 3 heartbeats is presumed dead and its members are forgotten.
 *
 * Ordering: a broker keeps each publisher's order, and Redis pushes every channel of one
 * subscriber connection in one stream, so when the directory and the WebSocket server share one
 * broker, a process sees another's directory events and topic messages in the order that process
 * published them: a message's `said` arrives before the message itself.
 *
 * Must not: write to sockets (the server does), or trust the shape of what the channel carries
 * (malformed events and unknown rooms are ignored, never thrown).
 */
import { randomBytes } from 'node:crypto';
import type { Broker } from 'fullduplex';

export interface ChatLine {
  /** Unique over every process: `<process id>.<counter>`. */
  id: string;
  name: string;
  text: string;
  ts: number;
}

/** A member who came or went without their own process announcing it on the room's topic. */
export interface DirectoryRepair {
  type: 'join' | 'leave';
  room: string;
  name: string;
}

export interface RoomDirectoryOptions {
  /** Carries directory events between processes (the WebSocket server's broker). */
  bus: Broker;
  /** The rooms that exist; events about any other room are ignored. */
  rooms: readonly string[];
  /** Channel name on the bus. Default 'directory'. */
  channel?: string;
  /** How often each process re-announces its members. Default 5000. */
  heartbeatMs?: number;
  /** Messages kept per room. */
  maxHistory: number;
  /**
   * Members that came or went without their own process announcing it on the room's topic: a
   * process that stopped or went silent, or a heartbeat that repaired a missed event.
   */
  onRepair?: (repair: DirectoryRepair) => void;
  /** Counts changed (someone connected, disconnected, or entered or left a room). */
  onChange?: () => void;
  /** The bus refused an event (broker down); heartbeats repair the books once it is back. */
  onError?: (error: Error) => void;
}

interface Member {
  name: string;
  room: string | null;
}

type SyncMember = [id: string, name: string, room: string | null];

type DirectoryEvent =
  | { type: 'hello'; from: string }
  | { type: 'sync'; from: string; members: SyncMember[]; history?: Array<[room: string, lines: ChatLine[]]> }
  | { type: 'member'; from: string; id: string; name: string; room: string | null }
  | { type: 'gone'; from: string; id: string }
  | { type: 'said'; from: string; room: string; line: ChatLine }
  | { type: 'bye'; from: string };

/** Heartbeats a process may miss before it is presumed dead. */
const MISSED_HEARTBEATS = 3;
/** Longest id, name or room name accepted from the channel. */
const MAX_FIELD_LENGTH = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RoomDirectory {
  /** This process, as the others know it. */
  readonly processId = randomBytes(8).toString('hex');
  readonly #options: RoomDirectoryOptions;
  readonly #channel: string;
  readonly #heartbeatMs: number;
  readonly #rooms: ReadonlySet<string>;
  /** process id -> member id -> member; this process included. */
  readonly #processes = new Map<string, Map<string, Member>>();
  /** When each other process was last heard from. */
  readonly #heardAt = new Map<string, number>();
  /** room -> recent lines, oldest first. */
  readonly #history = new Map<string, ChatLine[]>();
  #nextId = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: RoomDirectoryOptions) {
    this.#options = options;
    this.#channel = options.channel ?? 'directory';
    this.#heartbeatMs = options.heartbeatMs ?? 5000;
    this.#rooms = new Set(options.rooms);
    this.#processes.set(this.processId, new Map());
  }

  /** Subscribes to the bus and says hello; rejects if the bus cannot be reached. */
  async start(): Promise<void> {
    await this.#options.bus.subscribe(this.#channel, (data) => this.#receive(data));
    await this.#options.bus.publish(this.#channel, encode({ type: 'hello', from: this.processId }));
    this.#timer = setInterval(() => this.#heartbeat(), this.#heartbeatMs);
    this.#timer.unref();
  }

  /** A fresh id, unique over every process, for a member or a chat line. */
  newId(): string {
    return `${this.processId}.${(this.#nextId++).toString(36)}`;
  }

  /** A member of this process connected (room null), or entered, left or switched rooms. */
  set(id: string, name: string, room: string | null): void {
    this.#set(this.processId, id, { name, room });
    this.#announce({ type: 'member', from: this.processId, id, name, room });
    this.#options.onChange?.();
  }

  /** A member of this process disconnected. */
  remove(id: string): void {
    if (!this.#processes.get(this.processId)!.delete(id)) return;
    this.#announce({ type: 'gone', from: this.processId, id });
    this.#options.onChange?.();
  }

  /** Records a message sent in `room` by a member of this process, here and everywhere. */
  said(room: string, line: ChatLine): void {
    this.#remember(room, [line]);
    this.#announce({ type: 'said', from: this.processId, room, line });
  }

  /** Members connected to any process, in a room or not. */
  get online(): number {
    let count = 0;
    for (const members of this.#processes.values()) count += members.size;
    return count;
  }

  /** Every room with its number of members over every process, in the order of `rooms`. */
  counts(): Array<{ name: string; online: number }> {
    const counts = new Map([...this.#rooms].map((room) => [room, 0]));
    for (const { room } of this.#members()) {
      if (room !== null) counts.set(room, counts.get(room)! + 1);
    }
    return [...counts].map(([name, online]) => ({ name, online }));
  }

  /** Names of the members in `room`, over every process, sorted. */
  members(room: string): string[] {
    const names: string[] = [];
    for (const member of this.#members()) if (member.room === room) names.push(member.name);
    return names.sort();
  }

  /** Every member's name, over every process. */
  names(): Set<string> {
    const names = new Set<string>();
    for (const { name } of this.#members()) names.add(name);
    return names;
  }

  /** Recent messages of `room`, oldest first. */
  history(room: string): ChatLine[] {
    return [...(this.#history.get(room) ?? [])];
  }

  /** Says goodbye (so the others forget this process's members at once) and leaves the bus. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#options.bus.publish(this.#channel, encode({ type: 'bye', from: this.processId })).catch(() => undefined);
    await this.#options.bus.unsubscribe(this.#channel).catch(() => undefined);
  }

  *#members(): IterableIterator<Member> {
    for (const members of this.#processes.values()) yield* members.values();
  }

  #announce(event: DirectoryEvent): void {
    if (this.#closed) return;
    this.#options.bus.publish(this.#channel, encode(event)).catch((error: Error) => this.#options.onError?.(error));
  }

  #heartbeat(): void {
    this.#announce(this.#sync(false));
    const deadline = Date.now() - MISSED_HEARTBEATS * this.#heartbeatMs;
    for (const [process, heardAt] of this.#heardAt) {
      if (heardAt < deadline) this.#forget(process);
    }
  }

  #sync(withHistory: boolean): DirectoryEvent {
    const members = [...this.#processes.get(this.processId)!].map(([id, { name, room }]): SyncMember => [id, name, room]);
    if (!withHistory) return { type: 'sync', from: this.processId, members };
    return { type: 'sync', from: this.processId, members, history: [...this.#history] };
  }

  #receive(data: Uint8Array): void {
    const event = decode(data);
    if (!event || event.from === this.processId || this.#closed) return;
    const from = event.from;
    if (event.type === 'bye') {
      this.#forget(from);
      return;
    }
    this.#heardAt.set(from, Date.now());
    if (!this.#processes.has(from)) this.#processes.set(from, new Map());
    switch (event.type) {
      case 'hello':
        this.#announce(this.#sync(true));
        break;
      case 'sync':
        this.#replace(from, event.members);
        for (const [room, lines] of event.history ?? []) this.#remember(room, lines);
        break;
      case 'member':
        this.#set(from, event.id, { name: event.name, room: event.room });
        this.#options.onChange?.();
        break;
      case 'gone':
        if (this.#processes.get(from)!.delete(event.id)) this.#options.onChange?.();
        break;
      case 'said':
        this.#remember(event.room, [event.line]);
        break;
    }
  }

  /** Brings the members of `process` in line with its sync; differences are repairs. */
  #replace(process: string, members: SyncMember[]): void {
    const known = this.#processes.get(process)!;
    const now = new Map(members.map(([id, name, room]) => [id, { name, room: room !== null && this.#rooms.has(room) ? room : null }]));
    let changed = false;
    for (const [id, before] of known) {
      const after = now.get(id);
      if (after?.room === before.room) continue;
      if (!after) known.delete(id);
      if (before.room !== null) this.#options.onRepair?.({ type: 'leave', room: before.room, name: before.name });
      changed = true;
    }
    for (const [id, after] of now) {
      if (known.get(id)?.room === after.room) continue;
      known.set(id, after);
      if (after.room !== null) this.#options.onRepair?.({ type: 'join', room: after.room, name: after.name });
      changed = true;
    }
    if (changed) this.#options.onChange?.();
  }

  /** Drops every member of a process that said bye or went silent. */
  #forget(process: string): void {
    this.#heardAt.delete(process);
    const members = this.#processes.get(process);
    if (!members || process === this.processId) return;
    this.#processes.delete(process);
    for (const { room, name } of members.values()) {
      if (room !== null) this.#options.onRepair?.({ type: 'leave', room, name });
    }
    if (members.size > 0) this.#options.onChange?.();
  }

  #set(process: string, id: string, member: Member): void {
    if (member.room !== null && !this.#rooms.has(member.room)) member.room = null;
    this.#processes.get(process)!.set(id, member);
  }

  /**
   * Adds lines to a room's history: duplicates (by id) are skipped, so a newcomer merging the
   * histories several processes sent loses nothing and repeats nothing.
   */
  #remember(room: string, lines: ChatLine[]): void {
    if (!this.#rooms.has(room)) return;
    const history = this.#history.get(room) ?? [];
    const seen = new Set(history.map((line) => line.id));
    const fresh = lines.filter((line) => !seen.has(line.id));
    if (fresh.length === 0) return;
    const merged = [...history, ...fresh];
    // Sorted only when a batch from elsewhere interleaves with what we had (stable sort).
    if (history.length > 0 && fresh[0]!.ts < history[history.length - 1]!.ts) merged.sort((a, b) => a.ts - b.ts);
    this.#history.set(room, merged.slice(-this.#options.maxHistory));
  }
}

function encode(event: DirectoryEvent): Uint8Array {
  return encoder.encode(JSON.stringify(event));
}

const isField = (value: unknown): value is string => typeof value === 'string' && value.length <= MAX_FIELD_LENGTH;
const isRoom = (value: unknown): value is string | null => value === null || isField(value);
const isLine = (value: unknown): value is ChatLine => {
  const line = value as ChatLine | null;
  return typeof line === 'object' && line !== null && isField(line.id) && isField(line.name) && typeof line.text === 'string' && typeof line.ts === 'number';
};
const isMember = (value: unknown): value is SyncMember =>
  Array.isArray(value) && value.length === 3 && isField(value[0]) && isField(value[1]) && isRoom(value[2]);
const isHistory = (value: unknown): value is [string, ChatLine[]] =>
  Array.isArray(value) && value.length === 2 && isField(value[0]) && Array.isArray(value[1]) && value[1].every(isLine);

/** Parses one directory event; null for anything malformed. */
function decode(data: Uint8Array): DirectoryEvent | null {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(decoder.decode(data)) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof event !== 'object' || event === null || !isField(event.from)) return null;
  switch (event.type) {
    case 'hello':
    case 'bye':
      return event as DirectoryEvent;
    case 'sync':
      if (!Array.isArray(event.members) || !event.members.every(isMember)) return null;
      if (event.history !== undefined && !(Array.isArray(event.history) && event.history.every(isHistory))) return null;
      return event as DirectoryEvent;
    case 'member':
      return isField(event.id) && isField(event.name) && isRoom(event.room) ? (event as DirectoryEvent) : null;
    case 'gone':
      return isField(event.id) ? (event as DirectoryEvent) : null;
    case 'said':
      return isField(event.room) && isLine(event.line) ? (event as DirectoryEvent) : null;
    default:
      return null;
  }
}
