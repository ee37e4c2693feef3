/**
 * A bound on how long one Redis command may wait for its answer. A Redis that accepts TCP but
 * never answers (stopped, stuck in a long script, a half-open connection the kernel has not
 * noticed yet) would otherwise keep every caller waiting for ever: node-redis queues a command
 * on a socket that looks healthy.
 * Invariants: the timer never keeps the process alive (unref); the command itself is not
 * cancelled (Redis may still run it later: a timed-out publish may take effect, which is why
 * publishes carry idempotency keys); its late answer or failure is swallowed, never unhandled.
 * Must not: know which command it bounds, or retry it.
 */

/** setTimeout's longest delay; anything longer counts as no bound. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Default for `commandTimeoutMs` of the Redis engine, broker and presence store. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;

/** Redis did not answer a command in time. Callers wrap it in their own UNAVAILABLE error. */
export class CommandTimeoutError extends Error {
  readonly code = 'COMMAND_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms`);
    this.name = 'CommandTimeoutError';
  }
}

/** Checks a `commandTimeoutMs` option: a positive number of ms, or Infinity for no bound. */
export function commandTimeoutOf(value: number | undefined): number {
  const ms = value ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (!(ms > 0)) throw new RangeError('commandTimeoutMs must be a number > 0 (or Infinity)');
  return ms;
}

/** Settles like `command`, or rejects with CommandTimeoutError after `timeoutMs`. */
export function withTimeout<T>(command: Promise<T>, timeoutMs: number): Promise<T> {
  if (timeoutMs > MAX_TIMER_MS) return command;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      command.catch(() => undefined);
      reject(new CommandTimeoutError(timeoutMs));
    }, timeoutMs);
    timer.unref?.();
    command.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
