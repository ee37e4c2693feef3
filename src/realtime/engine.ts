/**
 * The Engine port: where channel publications get their positions, are kept as history and
 * fan out live. The memory engine implements it for one process; the Redis engine implements it
 * across processes with one atomic script per publish. The server (server/) is written once
 * above it.
 *
 * Contract, for every implementation:
 * - publish assigns the channel's next offset within its epoch, appends to the history and
 *   hands the publication to every live subscriber of the channel, as one atomic step: live
 *   order and history order are the same, and history holds exactly what was delivered live.
 * - Offsets are decimal integers as strings, consecutive within an epoch ("1", "2", ...); an
 *   empty channel's position is "0". The epoch changes whenever history was lost.
 * - A publication with a `key` already seen on the channel within the idempotency window is not
 *   stored or delivered; publish resolves with the first one's position and `duplicate: true`.
 * - Live handlers of one channel see its publications in offset order and, within an epoch,
 *   without gaps: an engine that notices a gap on its live feed (a dropped broker message, a
 *   reconnect to its store) fills it from history before handing on later publications. A new
 *   epoch on the live feed tells the server that history was lost (clients get recovered: false);
 *   so does `afterLoss` on the first publication past a gap history could no longer fill.
 * - `data` is any JSON value, or a Uint8Array (a binary publication) whose bytes come back
 *   exactly, live and from history, as a Uint8Array; an engine that stores bytes stores JSON
 *   data as JSON text.
 * - history(channel, since) returns, in offset order, every kept publication after `since`,
 *   with the position of the last one returned (or the current one); when `since` is of another
 *   epoch or older than the oldest kept publication it returns `recovered: false` and none.
 * - Failures reject with a RealtimeError whose code is 'UNAVAILABLE'; none is silent.
 * Must not: know about connections or the wire protocol.
 */
import type { Position, PublicationBody } from './protocol.js';

export interface EnginePublication {
  channel: string;
  offset: string;
  epoch: string;
  data: unknown;
  /** The id of a connection that must not receive this publication live (publish's `except`). */
  origin?: string;
  /** Publish's `latest`: a newer live publication of the channel with the same value may replace it. */
  latest?: string;
  /**
   * Publications of this epoch just before this one are gone: the engine's live feed missed
   * them and history no longer held them. Subscribers that had not received them are told
   * `recovered: false` before this one (as for a new epoch).
   */
  afterLoss?: true;
}

export interface EnginePublishResult {
  offset: string;
  epoch: string;
  duplicate: boolean;
}

export interface HistoryResult {
  recovered: boolean;
  position: Position;
  publications: PublicationBody[];
}

export interface PublishOptions {
  /** Idempotency key: a key seen within the window is not published again. */
  key?: string;
  /** Carried to live handlers as `origin` (not kept in history). */
  origin?: string;
  /** Carried to live handlers as `latest` (not kept in history). */
  latest?: string;
}

export type LiveHandler = (publication: EnginePublication) => void;

export interface Engine {
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<EnginePublishResult>;
  /** Calls `handler` for each publication from now on; resolves once that is in effect. */
  subscribe(channel: string, handler: LiveHandler): Promise<() => Promise<void>>;
  history(channel: string, since?: Position): Promise<HistoryResult>;
  close(): Promise<void>;
}
