/**
 * Resumable sessions on the server side: gives each authenticated connection a session id,
 * takes over a previous session the client names in `connect` (its channels count as authorized
 * for this connection), and saves the connection's channels to the SessionStore whenever they
 * change and when it closes, so that the client's next connection, on any process sharing the
 * store, resumes them within `sessionTtlMs`.
 * Must not: trust anything but the store (a session id is a 128-bit random secret the client
 * got in its `connect` reply), or let a failing store fail a connection.
 */
import type { RealtimeConnection } from './realtime-connection.js';
import type { SessionStore } from '../session-store.js';

interface Session {
  id: string;
  /** Channels taken over from the previous connection: subscribing to them skips `authorize`. */
  granted: Set<string>;
  saving: boolean;
}

function newSessionId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  let id = '';
  for (const byte of bytes) id += byte.toString(16).padStart(2, '0');
  return id;
}

export class SessionBook {
  readonly #store: SessionStore;
  readonly #ttlMs: number;
  readonly #sessions = new WeakMap<RealtimeConnection<any, any>, Session>();

  constructor(store: SessionStore, ttlMs: number) {
    this.#store = store;
    this.#ttlMs = ttlMs;
  }

  /** The connection's session: the one named by the client if the store still has it, else a new one. */
  async open(connection: RealtimeConnection<any, any>, named: string | undefined): Promise<{ session: string; resumed: boolean }> {
    let channels: string[] | undefined;
    if (named !== undefined) channels = await this.#store.load(named).catch(() => undefined);
    const session: Session = { id: channels ? named! : newSessionId(), granted: new Set(channels), saving: false };
    this.#sessions.set(connection, session);
    return { session: session.id, resumed: channels !== undefined };
  }

  /** Whether `channel` was authorized for this client's session before. */
  granted(connection: RealtimeConnection<any, any>, channel: string): boolean {
    return this.#sessions.get(connection)?.granted.has(channel) ?? false;
  }

  /** The connection's channels changed (`left`: one it left): saved once the current task is over. */
  changed(connection: RealtimeConnection<any, any>, left?: string): void {
    const session = this.#sessions.get(connection);
    if (!session) return;
    if (left !== undefined && connection.state !== 'closed') session.granted.delete(left);
    if (session.saving) return;
    session.saving = true;
    queueMicrotask(() => {
      session.saving = false;
      if (connection.state !== 'closed') this.#save(session, connection);
    });
  }

  /** Saves the channels a closing connection held (call before they are removed). */
  closed(connection: RealtimeConnection<any, any>): void {
    const session = this.#sessions.get(connection);
    if (session) this.#save(session, connection);
  }

  /** Saves the channels held and those granted but not subscribed again yet. */
  #save(session: Session, connection: RealtimeConnection<any, any>): void {
    const channels = new Set([...connection.channels, ...session.granted]);
    this.#store.save(session.id, [...channels], this.#ttlMs).catch(() => undefined);
  }
}
