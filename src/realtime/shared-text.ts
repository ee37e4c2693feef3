/**
 * One outgoing message for many connections (a channel publication's `pub`, a broadcast event):
 * the server serializes it once and hands the same SharedText to every recipient's Transport.
 * `data` is a string (a text frame) or bytes (a binary frame: a binary publication).
 * A transport that can frame once for many (Transport.sendShared) keeps its prepared form here,
 * made by the first recipient and reused by the rest, so every connection gets the same bytes.
 * Must not: know what a prepared form is (the transport's glue decides), or import node:*.
 */

export class SharedText {
  readonly data: string | Uint8Array;
  #owner: object | null = null;
  #prepared: unknown = undefined;

  constructor(data: string | Uint8Array) {
    this.data = data;
  }

  /**
   * The form of `data` that `prepare` makes for `owner` (e.g. a frame built by one server), made
   * on the first call for that owner and returned as it is afterwards. One owner is remembered:
   * another owner's form is made for each of its calls, which is correct, only not shared.
   */
  prepared<Owner extends object, T>(owner: Owner, prepare: (data: string | Uint8Array, owner: Owner) => T): T {
    if (this.#owner === owner) return this.#prepared as T;
    const prepared = prepare(this.data, owner);
    if (this.#owner === null) {
      this.#owner = owner;
      this.#prepared = prepared;
    }
    return prepared;
  }
}
