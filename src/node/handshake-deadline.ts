/**
 * The end of a client's opening handshake, over HTTP/1.1 (client.ts) or HTTP/2 (http2-dial.ts):
 * it ends once, by success, failure or redirect, and its timeout (`handshakeTimeout`, when
 * positive) fails it with WS_ERR_CLIENT_HANDSHAKE_TIMEOUT unless it ended first.
 * Must not: know how a dial is made or undone (the caller's `onTimeout` does that).
 */
import { HandshakeError } from '../protocol/errors.js';

export interface HandshakeDeadline {
  /** True the first time only: the handshake ends now and its timer is cleared. */
  finish(): boolean;
  /** Whether it has ended. */
  readonly done: boolean;
}

export function handshakeDeadline(timeoutMs: number | undefined, onTimeout: (error: HandshakeError) => void): HandshakeDeadline {
  let done = false;
  let timer: NodeJS.Timeout | null = null;
  if (timeoutMs !== undefined && timeoutMs > 0) {
    timer = setTimeout(() => onTimeout(new HandshakeError('WS_ERR_CLIENT_HANDSHAKE_TIMEOUT', 'Opening handshake has timed out')), timeoutMs);
  }
  return {
    get done(): boolean {
      return done;
    },
    finish(): boolean {
      if (done) return false;
      done = true;
      if (timer !== null) clearTimeout(timer);
      return true;
    },
  };
}
