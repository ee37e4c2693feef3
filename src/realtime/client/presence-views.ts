/**
 * The client's presence views (docs/protocol.md, presence): per channel the members and count
 * the server last told, kept from snapshots and diffs, with join, update, leave and sync
 * listeners, and the metadata to send again on every subscription.
 * Must not: import node:* or anything outside realtime/ (it is bundled for the browser), or send
 * anything itself (the client's `setPresence` does, when its subscription is live).
 */
import type { PresenceMember, PresenceMessage } from '../protocol.js';
import type { PresenceEvents, PresenceView } from './client-api.js';

/** A presence view with its listeners and the metadata to send on each subscription. */
export interface View extends PresenceView {
  members: Map<string, PresenceMember>;
  count: number;
  l: { [K in keyof PresenceEvents]?: Set<PresenceEvents[K]> };
  meta?: unknown;
}

export type Views = Map<string, View>;

/** Adds `listener` to the set of `type` in `to`; returns how to remove it. */
export function listen(to: Record<string, Set<unknown> | undefined>, type: string, listener: unknown): () => void {
  const set = (to[type] ??= new Set());
  set.add(listener);
  return () => void set.delete(listener);
}

export function presenceViews(views: Views, setPresence: (channel: string, meta: unknown) => Promise<unknown>) {
  function presence(channel: string): View {
    let v = views.get(channel);
    if (!v) {
      const view: View = {
        members: new Map(),
        count: 0,
        l: {},
        on: (type, listener) => listen(view.l, type, listener),
        set(meta) {
          view.meta = meta;
          return setPresence(channel, meta);
        },
      };
      views.set(channel, (v = view));
    }
    return v;
  }

  /** Applies a snapshot (members) or a diff (join, update, leave) and tells the listeners. */
  function presenceMessage(m: PresenceMessage): void {
    const v = presence(m.channel);
    const emit = (type: 'join' | 'update' | 'leave', user: string, member: PresenceMember) => v.l[type]?.forEach((f) => f(user, member));
    const put = (user: string, member?: PresenceMember) => {
      const had = v.members.get(user);
      if (member) {
        v.members.set(user, member);
        if (!had) emit('join', user, member);
        else if (JSON.stringify(had) != JSON.stringify(member)) emit('update', user, member);
      } else if (had) {
        v.members.delete(user);
        emit('leave', user, had);
      }
    };
    if (m.members) {
      const next = new Map(Object.entries(m.members));
      for (const user of [...v.members.keys()]) next.has(user) || put(user);
      next.forEach((member, user) => put(user, member));
    }
    for (const diff of [m.join, m.update]) if (diff) for (const [user, member] of Object.entries(diff)) put(user, member);
    m.leave?.forEach((user) => put(user));
    v.count = m.count;
    v.l.sync?.forEach((f) => f(m.count));
  }

  /** Forgets a channel's members (unsubscribed or removed by the server). */
  function absent(channel: string): void {
    const v = views.get(channel);
    if (v) {
      v.members.clear();
      v.count = 0;
    }
  }

  return { presence, presenceMessage, absent };
}
