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

  /** Every room with its members sorted by name. */
  snapshot(): Record<string, PresentMember[]> {
    const rooms: Record<string, Map<string, PresentMember>> = Object.fromEntries(this.#rooms.map((room) => [room, new Map()]));
    for (const { name, color, room, typing } of this.#visitors.values()) {
      if (room === null) continue;
      const known = rooms[room]!.get(name);
      rooms[room]!.set(name, { name, color, typing: typing || (known?.typing ?? false) });
    }
    return Object.fromEntries(Object.entries(rooms).map(([room, members]) => [room, [...members.values()].sort((a, b) => a.name.localeCompare(b.name))]));
  }
}
