/**
 * The real-time server's options with their defaults, resolved in one place. The README's
 * limits table lists and justifies each limit; docs/protocol.md names each error code.
 * Must not: hold state.
 */

export const REALTIME_DEFAULTS = {
  /** Channels one connection may be subscribed to (TOO_MANY_CHANNELS). */
  maxChannelsPerConnection: 128,
  /** Largest message, in UTF-8 bytes of its text (MESSAGE_TOO_LARGE). */
  maxMessageBytes: 65_536,
  /** Publications and events per second per connection, sustained (RATE_LIMITED). */
  publishRatePerSecond: 50,
  /** Publications and events one connection may send at once above the rate. */
  publishBurst: 100,
  /** RATE_LIMITED answers in a row after which the connection is closed with 4001. */
  floodLimit: 100,
  /** Requests awaiting replies per connection, each direction (TOO_MANY_PENDING). */
  maxPendingRequests: 64,
  /** Messages a connection may send while its `connect` is being authenticated (then 4001). */
  maxQueuedBeforeConnect: 64,
  /** Time for the first message (`connect`) to arrive (then 4000). */
  connectTimeoutMs: 10_000,
  /** Time a handler, or a client answering the server's request, has to reply (TIMEOUT). */
  requestTimeoutMs: 10_000,
  /** Heartbeat interval advertised to clients in the `connect` reply. */
  pingIntervalMs: 25_000,
  /** Period over which drain() spreads the disconnections. */
  drainPeriodMs: 10_000,
  /** How long a draining connection waits for its running handlers before it closes. */
  drainTimeoutMs: 5_000,
  /** How often a presence channel sends its batched diff, unless the channel sets its own. */
  presenceTickMs: 150,
  /** Largest presence metadata of one member, in UTF-16 units of its JSON (MESSAGE_TOO_LARGE). */
  maxPresenceMetaBytes: 1_024,
} as const;

export type RealtimeLimits = { -readonly [K in keyof typeof REALTIME_DEFAULTS]: number };

export function resolveLimits(options: Partial<RealtimeLimits>): RealtimeLimits {
  const out = { ...REALTIME_DEFAULTS } as RealtimeLimits;
  for (const key of Object.keys(REALTIME_DEFAULTS) as (keyof RealtimeLimits)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value >= 0)) throw new TypeError(`${key} must be a number >= 0`);
    out[key] = value;
  }
  return out;
}
