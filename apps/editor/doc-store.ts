/**
 * The DocStore port: where a document's content survives a restart of the editor. The room
 * tells the store about each update a client of this process made; the store decides when and
 * how to write (a file per document, written debounced; or a list of updates in Redis).
 * Must not: hold documents itself, or know about connections.
 */
export interface DocStore {
  /** The stored updates of `name` (none for a new document); applying them in any order rebuilds it. */
  load(name: string): Promise<Uint8Array[]>;
  /** A client of this process changed `name` by `update`; `snapshot` encodes the whole document now. */
  record(name: string, update: Uint8Array, snapshot: () => Uint8Array): void;
  /** Writes what is still pending for `name`; the room is closing. */
  flush(name: string): Promise<void>;
  /** Writes everything pending and lets go of the store's resources. */
  close(): Promise<void>;
}

/** A document name: letters, digits, '-' and '_', at most 64 characters (also a safe file name). */
export const DOC_NAME = /^[A-Za-z0-9_-]{1,64}$/;
