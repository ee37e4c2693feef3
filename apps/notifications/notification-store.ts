/**
 * Each user's notifications with their read state. Alone, kept in memory and in one JSON file of
 * the demo's data folder; with Redis, folded from the engine's history of the user's channel
 * (notifications and read markers are both publications there), which every process shares.
 * Must not: keep more than maxPerUser notifications per user, or trust what the file or Redis holds.
 */
import { join } from 'node:path';
import type { Engine } from 'fullduplex/realtime';
import { recentPublications } from '../shared/engine-history.js';
import { JsonFile } from '../shared/json-file.js';

export interface Notification {
  id: string;
  title: string;
  body: string;
  ts: number;
}

export interface ListedNotification extends Notification {
  read: boolean;
}

/** What the user's channel carries. */
export type NotificationEvent = ({ kind: 'notification' } & Notification) | { kind: 'read'; ids: string[] };

export interface NotificationStore {
  /** The user's notifications, newest first. */
  list(user: string): Promise<ListedNotification[]>;
  /** A notification was published to `user` (its publication is on the channel already). */
  added(user: string, notification: Notification): void;
  /** Marks `ids` read (all with 'all'); resolves with the ids that were unread. */
  markRead(user: string, ids: string[] | 'all'): Promise<string[]>;
  flush(): Promise<void>;
}

const isNotification = (value: unknown): value is Notification => {
  const n = value as Notification | null;
  return typeof n === 'object' && n !== null && typeof n.id === 'string' && typeof n.title === 'string' && typeof n.body === 'string' && typeof n.ts === 'number';
};

function unreadAmong(items: ListedNotification[], ids: string[] | 'all'): string[] {
  const wanted = ids === 'all' ? null : new Set(ids);
  return items.filter((item) => !item.read && (wanted === null || wanted.has(item.id))).map((item) => item.id);
}

/** One process's store, in memory and in a file of its data folder. */
export class FileNotificationStore implements NotificationStore {
  readonly #users = new Map<string, ListedNotification[]>();
  readonly #maxPerUser: number;
  readonly #file: JsonFile<Record<string, ListedNotification[]>>;

  constructor(dataDir: string, maxPerUser: number) {
    this.#maxPerUser = maxPerUser;
    this.#file = new JsonFile(join(dataDir, 'notifications.json'), () => Object.fromEntries(this.#users));
    for (const [user, items] of Object.entries(this.#file.read({}))) {
      if (Array.isArray(items)) this.#users.set(user, items.filter(isNotification).map((item) => ({ ...item, read: item.read === true })).slice(0, maxPerUser));
    }
  }

  async list(user: string): Promise<ListedNotification[]> {
    return (this.#users.get(user) ?? []).map((item) => ({ ...item }));
  }

  added(user: string, notification: Notification): void {
    const items = this.#users.get(user) ?? [];
    items.unshift({ ...notification, read: false });
    items.length = Math.min(items.length, this.#maxPerUser);
    this.#users.set(user, items);
    this.#file.changed();
  }

  async markRead(user: string, ids: string[] | 'all'): Promise<string[]> {
    const items = this.#users.get(user) ?? [];
    const unread = new Set(unreadAmong(items, ids));
    for (const item of items) if (unread.has(item.id)) item.read = true;
    if (unread.size > 0) this.#file.changed();
    return [...unread];
  }

  flush(): Promise<void> {
    return this.#file.flush();
  }
}

/** The engine's history of each user's channel, folded: notifications, then read markers. */
export class EngineNotificationStore implements NotificationStore {
  readonly #engine: Engine;
  readonly #channelOf: (user: string) => string;

  readonly #maxPublications: number;

  /** `maxPublications`: the channel's history size (notifications and read markers). */
  constructor(engine: Engine, channelOf: (user: string) => string, maxPublications: number) {
    this.#engine = engine;
    this.#channelOf = channelOf;
    this.#maxPublications = maxPublications;
  }

  async list(user: string): Promise<ListedNotification[]> {
    const items = new Map<string, ListedNotification>();
    for (const data of await recentPublications(this.#engine, this.#channelOf(user), this.#maxPublications)) {
      const event = data as NotificationEvent | null;
      if (event?.kind === 'notification' && isNotification(event)) {
        items.set(event.id, { id: event.id, title: event.title, body: event.body, ts: event.ts, read: false });
      } else if (event?.kind === 'read' && Array.isArray(event.ids)) {
        for (const id of event.ids) {
          const item = typeof id === 'string' ? items.get(id) : undefined;
          if (item) item.read = true;
        }
      }
    }
    return [...items.values()].reverse();
  }

  added(): void {
    // The publication itself is the record.
  }

  async markRead(user: string, ids: string[] | 'all'): Promise<string[]> {
    return unreadAmong(await this.list(user), ids);
  }

  async flush(): Promise<void> {}
}
