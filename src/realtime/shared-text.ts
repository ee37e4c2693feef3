/**
 * One outgoing text for many connections (a channel publication's `pub`, a broadcast event):
 * the server serializes it once and hands the same SharedText to every recipient's Transport.
 * A transport that can frame once for many (Transport.sendShared) keeps its prepared form here,
 * made by the first recipient and reused by the rest, so every connection gets the same bytes.
 * Must not: know what a prepared form is (the transport's glue decides), or import node:*.
 */

export class SharedText {
  readonly text: string;
  #owner: object | null = null;
  #prepared: unknown = undefined;

  constructor(text: string) {
    this.text = text;
  }

  /**
   * The form of `text` that `prepare` makes for `owner` (e.g. a frame built by one server), made
   * on the first call for that owner and returned as it is afterwards. One owner is remembered:
   * another owner's form is made for each of its calls, which is correct, only not shared.
   */
  prepared<Owner extends object, T>(owner: Owner, prepare: (text: string, owner: Owner) => T): T {
    if (this.#owner === owner) return this.#prepared as T;
    const prepared = prepare(this.text, owner);
    if (this.#owner === null) {
      this.#owner = owner;
      this.#prepared = prepared;
    }
    return prepared;
  }
}
