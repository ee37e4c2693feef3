/**
 * The one error the Redis engine and the Redis presence store give for any failure to reach
 * Redis (down, unreachable, not answering in time): RealtimeError 'UNAVAILABLE', with the
 * underlying error kept as a non-enumerable `cause` (never sent to a client).
 * Must not: decide whether something failed; only word it.
 */
import { RealtimeError } from '../realtime/realtime-error.js';

export function redisUnavailable(cause: unknown): RealtimeError {
  if (cause instanceof RealtimeError) return cause;
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  const error = new RealtimeError('UNAVAILABLE', `Redis is unavailable${reason}`);
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, enumerable: false });
  return error;
}
