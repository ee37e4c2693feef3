/**
 * Every deliberate difference between fullduplex and `ws`, in one table: the scenario that shows
 * it (a test name in test/differential) and why we differ. The README's "Differences from `ws`"
 * is written from it: each `readme` line is one bullet there, and differences.test.ts checks that
 * the two agree and that every scenario named here exists and still differs.
 * Must not: list a difference that could be fixed; a scenario listed here must show ws and us
 * behaving differently, or its test fails.
 */

export interface Difference {
  /** Why fullduplex behaves differently, in one sentence. */
  reason: string;
  /** The README bullet (shared by the scenarios that show one difference). */
  readme: string;
}

const BOUNDED =
  'Defaults are bounded: `maxPayload` 16 MiB (not 100 MiB), heartbeats on, a backpressure limit on.';
const CLOSE_CLIENTS = '`wss.close()` closes the clients gracefully with 1001 (in `ws` it leaves them open).';

export const DIFFERENCES: Record<string, Difference> = {
  'a 20 MiB message with the default maxPayload': {
    reason: 'one message may not take more than 16 MiB of memory unless the server says so',
    readme: BOUNDED,
  },
  'wss.close() with a connected client': {
    reason: 'a server that closes should not leave connections it can no longer account for',
    readme: CLOSE_CLIENTS,
  },
};
