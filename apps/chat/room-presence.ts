/**
 * Who is in which chat room of this process and who is typing, as one snapshot per room: each
 * person once (several tabs of one name count once, typing if any of them types). Typing ends
 * by itself after typingMs without a new signal.
 * Must not: send anything (onChange says a snapshot changed; the server tells the pages).
 */
export interface PresentMember {
  name: string;
  color: string;
  typing: boolean;
}

export type PresenceSnapshot = Record<string, PresentMember[]>;

const isMember = (value: unknown): value is PresentMember => {
  const member = value as PresentMember | null;
  return typeof member === 'object' && member !== null && typeof member.name === 'string' && typeof member.color === 'string' && typeof member.typing === 'boolean';
};

/** `snapshots` merged: each name once per room (typing if typing anywhere), sorted by name. */
export function mergeSnapshots(rooms: readonly string[], snapshots: Iterable<PresenceSnapshot>): PresenceSnapshot {
  const merged = new Map(rooms.map((room) => [room, new Map<string, PresentMember>()]));
  for (const snapshot of snapshots) {
    for (const room of rooms) {
      const members = snapshot[room];
      if (!Array.isArray(members)) continue;
      for (const member of members.filter(isMember)) {
        const known = merged.get(room)!.get(member.name);
        merged.get(room)!.set(member.name, { name: member.name, color: member.color, typing: member.typing || (known?.typing ?? false) });
      }
    }
  }
  return Object.fromEntries([...merged].map(([room, members]) => [room, [...members.values()].sort((a, b) => a.name.localeCompare(b.name))]));
}

interface Visitor {
  name: string;
  color: string;
  room: string | null;
  typing: boolean;
  timer: NodeJS.Timeout | null;
}

export class RoomPresence {
  readonly #visitors = new Map<string, Visitor>();
  readonly #rooms: readonly string[];
  readonly #typingMs: number;
  readonly #onChange: () => void;

  constructor(rooms: readonly string[], typingMs: number, onChange: () => void) {
    this.#rooms = rooms;
    this.#typingMs = typingMs;
    this.#onChange = onChange;
  }

  /** Connection `id` is now shown in `room` (null: in none). */
  enter(id: string, name: string, color: string, room: string | null): void {
    const timer = this.#visitors.get(id)?.timer;
    if (timer) clearTimeout(timer);
    this.#visitors.set(id, { name, color, room, typing: false, timer: null });
    this.#onChange();
  }

  /** Connection `id` started or stopped typing in its room. */
  typing(id: string, typing: boolean): void {
    const visitor = this.#visitors.get(id);
    if (!visitor || visitor.room === null) return;
    if (visitor.timer) clearTimeout(visitor.timer);
    visitor.timer = typing ? setTimeout(() => this.typing(id, false), this.#typingMs) : null;
    visitor.timer?.unref();
    if (visitor.typing === typing) return;
    visitor.typing = typing;
    this.#onChange();
  }

  remove(id: string): void {
    const visitor = this.#visitors.get(id);
    if (!visitor) return;
    if (visitor.timer) clearTimeout(visitor.timer);
    this.#visitors.delete(id);
    this.#onChange();
  }

  /** The room `id` is in, if any. */
  roomOf(id: string): string | null {
    return this.#visitors.get(id)?.room ?? null;
  }

  /** Every room with its members of this process sorted by name. */
  snapshot(): PresenceSnapshot {
    const rooms: PresenceSnapshot = Object.fromEntries(this.#rooms.map((room) => [room, []]));
    for (const { name, color, room, typing } of this.#visitors.values()) {
      if (room !== null) rooms[room]!.push({ name, color, typing });
    }
    return mergeSnapshots(this.#rooms, [rooms]);
  }
}
