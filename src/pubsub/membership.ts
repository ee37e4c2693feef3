/**
 * Who is subscribed to what, indexed both ways: topic -> subscribers (for delivery) and
 * subscriber -> topics (for `isSubscribed`, `topics` and forgetting a closed subscriber at once).
 * Both indexes live here and only here; each is updated with the other.
 * Must not: know what a subscriber is, or talk to a broker (PubSub does).
 */

const NO_TOPICS: ReadonlySet<string> = new Set();

export class Membership<S> {
  readonly #byTopic = new Map<string, Set<S>>();
  readonly #bySubscriber = new Map<S, Set<string>>();

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
    let topics = this.#bySubscriber.get(subscriber);
    if (topics === undefined) {
      topics = new Set();
      this.#bySubscriber.set(subscriber, topics);
    }
    topics.add(topic);
    return true;
  }

  /** Removes `subscriber` from `topic`; false if it was not there. */
  remove(subscriber: S, topic: string): boolean {
    const subscribers = this.#byTopic.get(topic);
    if (subscribers === undefined || !subscribers.delete(subscriber)) return false;
    if (subscribers.size === 0) this.#byTopic.delete(topic);
    const topics = this.#bySubscriber.get(subscriber)!;
    topics.delete(topic);
    if (topics.size === 0) this.#bySubscriber.delete(subscriber);
    return true;
  }

  /** Removes `subscriber` from every topic; returns the topics it left. */
  removeAll(subscriber: S): string[] {
    const topics = this.#bySubscriber.get(subscriber);
    if (topics === undefined) return [];
    this.#bySubscriber.delete(subscriber);
    const left = [...topics];
    topics.clear();
    for (const topic of left) {
      const subscribers = this.#byTopic.get(topic)!;
      subscribers.delete(subscriber);
      if (subscribers.size === 0) this.#byTopic.delete(topic);
    }
    return left;
  }

  has(subscriber: S, topic: string): boolean {
    return this.#bySubscriber.get(subscriber)?.has(topic) ?? false;
  }

  /** The subscribers of `topic` (undefined when it has none). Live: do not keep it across calls. */
  subscribersOf(topic: string): ReadonlySet<S> | undefined {
    return this.#byTopic.get(topic);
  }

  /** The topics of `subscriber`, live. */
  topicsOf(subscriber: S): ReadonlySet<string> {
    return this.#bySubscriber.get(subscriber) ?? NO_TOPICS;
  }

  count(topic: string): number {
    return this.#byTopic.get(topic)?.size ?? 0;
  }

  /** Topics with at least one subscriber. */
  topics(): IterableIterator<string> {
    return this.#byTopic.keys();
  }
}
