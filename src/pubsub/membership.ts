/**
 * Who is subscribed to what, indexed both ways: topic -> subscribers (for delivery) and
 * subscriber -> topics (for `isSubscribed`, `topics` and forgetting a closed subscriber at once).
 * Both indexes live here and only here; each is updated with the other.
 * Most subscribers hold one topic (a chat room, a game, a dashboard), so the subscriber index
 * keeps a lone topic as the string itself and makes a Set only for a second one: about 140 bytes
 * less per subscribed connection.
 * Must not: know what a subscriber is, or talk to a broker (PubSub does).
 */

const NO_TOPICS: ReadonlySet<string> = new Set();

export class Membership<S> {
  readonly #byTopic = new Map<string, Set<S>>();
  /** One topic as itself, two or more as a Set. */
  readonly #bySubscriber = new Map<S, string | Set<string>>();

  /** Adds `subscriber` to `topic`; false if it was there already. */
  add(subscriber: S, topic: string): boolean {
    let subscribers = this.#byTopic.get(topic);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.#byTopic.set(topic, subscribers);
    } else if (subscribers.has(subscriber)) {
      return false;
    }
    subscribers.add(subscriber);
    const topics = this.#bySubscriber.get(subscriber);
    if (topics === undefined) this.#bySubscriber.set(subscriber, topic);
    else if (typeof topics === 'string') this.#bySubscriber.set(subscriber, new Set([topics, topic]));
    else topics.add(topic);
    return true;
  }

  /** Removes `subscriber` from `topic`; false if it was not there. */
  remove(subscriber: S, topic: string): boolean {
    const subscribers = this.#byTopic.get(topic);
    if (subscribers === undefined || !subscribers.delete(subscriber)) return false;
    if (subscribers.size === 0) this.#byTopic.delete(topic);
    const topics = this.#bySubscriber.get(subscriber)!;
    if (typeof topics === 'string') {
      this.#bySubscriber.delete(subscriber);
    } else {
      topics.delete(topic);
      if (topics.size === 1) this.#bySubscriber.set(subscriber, topics.values().next().value!);
    }
    return true;
  }

  /** Removes `subscriber` from every topic; returns the topics it left. */
  removeAll(subscriber: S): string[] {
    const topics = this.#bySubscriber.get(subscriber);
    if (topics === undefined) return [];
    this.#bySubscriber.delete(subscriber);
    const left = typeof topics === 'string' ? [topics] : [...topics];
    for (const topic of left) {
      const subscribers = this.#byTopic.get(topic)!;
      subscribers.delete(subscriber);
      if (subscribers.size === 0) this.#byTopic.delete(topic);
    }
    return left;
  }

  has(subscriber: S, topic: string): boolean {
    const topics = this.#bySubscriber.get(subscriber);
    return typeof topics === 'string' ? topics === topic : (topics?.has(topic) ?? false);
  }

  /** The subscribers of `topic` (undefined when it has none). Live: do not keep it across calls. */
  subscribersOf(topic: string): ReadonlySet<S> | undefined {
    return this.#byTopic.get(topic);
  }

  /** The topics of `subscriber`: a copy, taken now. */
  topicsOf(subscriber: S): ReadonlySet<string> {
    const topics = this.#bySubscriber.get(subscriber);
    if (topics === undefined) return NO_TOPICS;
    return new Set(typeof topics === 'string' ? [topics] : topics);
  }

  count(topic: string): number {
    return this.#byTopic.get(topic)?.size ?? 0;
  }

  /** Topics with at least one subscriber. */
  topics(): IterableIterator<string> {
    return this.#byTopic.keys();
  }
}
