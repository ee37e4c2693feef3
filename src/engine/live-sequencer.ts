/**
 * One channel's live feed put in order: publications arrive from a lossy, unordered-at-the-edges
 * source (pub/sub messages, the process's own publishes handed on at once) and leave in offset
 * order without gaps within an epoch. A jump in offsets is filled from history (`read`) before
 * anything later is handed on; after a reconnection to the store, `heal()` checks the channel's
 * top and fills what the feed missed. A new epoch is handed on as it comes (the server tells its
 * clients `recovered: false`); so is the first publication past a gap history no longer held,
 * marked `afterLoss`.
 * Must not: talk to Redis itself, or hold more than the publications waiting for a fill.
 */
import type { Clock, TimerHandle } from '../realtime/clock.js';
import type { EnginePublication, HistoryResult } from '../realtime/engine.js';
import type { Position, PublicationBody } from '../realtime/protocol.js';

/** History as a feed reads it: each publication with the connection it must skip, if any. */
export interface FeedHistory extends HistoryResult {
  publications: Array<PublicationBody & { origin?: string }>;
}

/** Reads the channel's position (no `since`) or what follows `since`, as Engine.history does. */
export type HistoryReader = (since?: Position) => Promise<FeedHistory>;

export interface LiveSequencerOptions {
  clock: Clock;
  /** Wait before a failed fill is tried again (doubles up to 8 times this). Default 100. */
  retryDelayMs?: number;
}

/** Epochs a feed has left, remembered so that a late message of one cannot bring it back. */
const MAX_RETIRED_EPOCHS = 4;

export class LiveSequencer {
  readonly #channel: string;
  readonly #read: HistoryReader;
  readonly #deliver: (publication: EnginePublication) => void;
  readonly #clock: Clock;
  readonly #retryDelayMs: number;
  #epoch = '';
  #last = 0;
  /** False until the position was read: everything offered is held in #waiting. */
  #started = false;
  /** Publications past a gap (or before the start), ordered by offset, one per offset. */
  #waiting: EnginePublication[] = [];
  #retired: string[] = [];
  #filling = false;
  /** Another fill was asked for while one ran (a heal after a reconnection). */
  #fillAgain = false;
  #retries = 0;
  #retryTimer: TimerHandle | undefined;
  #stopped = false;
  /** The next publication handed on follows a gap history could no longer fill. */
  #lossPending = false;
  /** Gaps that history could no longer fill (trimmed before they were read). */
  unhealedGaps = 0;

  constructor(channel: string, read: HistoryReader, deliver: (publication: EnginePublication) => void, options: LiveSequencerOptions) {
    this.#channel = channel;
    this.#read = read;
    this.#deliver = deliver;
    this.#clock = options.clock;
    this.#retryDelayMs = options.retryDelayMs ?? 100;
  }

  /** Reads the channel's current position; publications offered after it are handed on. */
  async start(): Promise<void> {
    const { position } = await this.#read();
    if (this.#stopped) return;
    this.#epoch = position.epoch;
    this.#last = Number(position.offset);
    this.#started = true;
    const held = this.#waiting;
    this.#waiting = [];
    for (const publication of held) this.offer(publication);
  }

  /** The position handed on last (for tests and metrics). */
  get position(): Position {
    return { offset: String(this.#last), epoch: this.#epoch };
  }

  offer(publication: EnginePublication): void {
    if (this.#stopped) return;
    if (!this.#started) {
      this.#hold(publication);
      return;
    }
    const offset = Number(publication.offset);
    if (publication.epoch !== this.#epoch) {
      if (this.#retired.includes(publication.epoch)) return;
      // History was lost: the new epoch starts from its own offset 0.
      this.#retire();
      this.#epoch = publication.epoch;
      this.#last = 0;
      this.#waiting = [];
    }
    if (offset <= this.#last) return;
    if (offset === this.#last + 1 && !this.#filling) {
      this.#handOn(publication);
      this.#drain();
      return;
    }
    this.#hold(publication);
    this.#fill();
  }

  /** After a reconnection to the store: hands on whatever the feed missed meanwhile. */
  heal(): void {
    if (!this.#started || this.#stopped) return;
    this.#fill();
  }

  stop(): void {
    this.#stopped = true;
    this.#waiting = [];
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #hold(publication: EnginePublication): void {
    const offset = Number(publication.offset);
    let i = this.#waiting.length;
    while (i > 0 && Number(this.#waiting[i - 1]!.offset) > offset) i--;
    const before = this.#waiting[i - 1];
    if (before && before.offset === publication.offset && before.epoch === publication.epoch) return;
    this.#waiting.splice(i, 0, publication);
  }

  #handOn(publication: EnginePublication): void {
    this.#last = Number(publication.offset);
    if (this.#lossPending) {
      this.#lossPending = false;
      this.#deliver({ ...publication, afterLoss: true });
      return;
    }
    this.#deliver(publication);
  }

  /** Hands on the held publications that follow the last one without a gap. */
  #drain(): void {
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0]!;
      const offset = Number(next.offset);
      if (next.epoch !== this.#epoch || offset <= this.#last) {
        this.#waiting.shift();
        continue;
      }
      if (offset !== this.#last + 1) return;
      this.#waiting.shift();
      this.#handOn(next);
    }
  }

  #retire(): void {
    this.#lossPending = false; // a new epoch tells of the loss itself
    if (this.#epoch === '') return;
    this.#retired.push(this.#epoch);
    if (this.#retired.length > MAX_RETIRED_EPOCHS) this.#retired.shift();
  }

  #fill(): void {
    if (this.#filling) {
      this.#fillAgain = true;
      return;
    }
    this.#filling = true;
    this.#fillAgain = false;
    this.#read({ offset: String(this.#last), epoch: this.#epoch }).then(
      (result) => {
        this.#filling = false;
        if (this.#stopped) return;
        this.#retries = 0;
        this.#apply(result);
        if (this.#fillAgain || this.#hasGap()) this.#fill();
      },
      () => {
        this.#filling = false;
        if (this.#stopped) return;
        // The store is unreachable: try again later (its 'ready' also calls heal()), until a
        // fill succeeds: a heal that failed still has to happen.
        this.#fillAgain = true;
        const delay = this.#retryDelayMs * 2 ** Math.min(this.#retries++, 3);
        if (this.#retryTimer === undefined) {
          this.#retryTimer = this.#clock.setTimeout(() => {
            this.#retryTimer = undefined;
            if (this.#fillAgain && !this.#stopped) this.#fill();
          }, delay);
        }
      },
    );
  }

  #hasGap(): boolean {
    return this.#waiting.length > 0;
  }

  #apply(result: FeedHistory): void {
    const { position } = result;
    if (position.epoch !== this.#epoch) {
      // The channel's history was lost while we were away: start over in its new epoch.
      this.#retire();
      this.#epoch = position.epoch;
      this.#last = 0;
      this.#waiting = this.#waiting.filter((p) => p.epoch === position.epoch);
      this.#fillAgain = true;
      return;
    }
    if (result.recovered) {
      for (const { offset, data, origin } of result.publications) {
        if (Number(offset) <= this.#last) continue;
        let publication = this.#waiting.find((p) => p.offset === offset && p.epoch === this.#epoch);
        if (!publication) {
          publication = { channel: this.#channel, offset, epoch: this.#epoch, data };
          if (origin !== undefined) publication.origin = origin;
        }
        this.#handOn(publication);
      }
      this.#drain();
      return;
    }
    // History no longer reaches back to our position: what is missing is gone. Go on from the
    // oldest publication still at hand rather than stall the channel for ever, and mark the
    // next one handed on, so that subscribers learn of the loss (recovered: false).
    const top = Number(position.offset);
    if (top < this.#last) return;
    this.unhealedGaps++;
    this.#lossPending = true;
    const next = this.#waiting[0];
    this.#last = next ? Number(next.offset) - 1 : top;
    this.#drain();
  }
}
