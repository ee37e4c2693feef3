/**
 * Heartbeats of a server (RFC 6455 §5.5.2: a ping asks for a pong): every `pingIntervalMs` each
 * open connection is pinged, and one that said nothing for a whole period since the previous
 * ping is terminated. Whether a connection was heard is the connection's own state (one flag,
 * cleared by every chunk it receives); this file only keeps time and applies the rule.
 * Must not: keep per-connection state, or keep the process alive (the timer is unref'd).
 */
import { ReadyState } from '../protocol/constants.js';
import type { HostedConnection } from './internal.js';

export class Heartbeat {
  readonly #timer: NodeJS.Timeout;

  /** Beats over `connections` (a live collection) every `intervalMs`. */
  constructor(intervalMs: number, connections: Iterable<HostedConnection>) {
    this.#timer = setInterval(() => beat(connections), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Pings everyone; whoever said nothing since the previous beat is gone. */
function beat(connections: Iterable<HostedConnection>): void {
  for (const connection of connections) {
    if (connection.readyState !== ReadyState.OPEN) continue;
    if (!connection.beat()) {
      connection.terminate();
      continue;
    }
    connection.ping();
  }
}
