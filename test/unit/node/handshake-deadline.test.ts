import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { handshakeDeadline } from '../../../src/node/handshake-deadline.js';

/** Runs `fn` with setTimeout on node:test's mock clock. */
function onMockClock(fn: () => void): void {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    fn();
  } finally {
    mock.timers.reset();
  }
}

describe('handshakeDeadline', () => {
  it('fails the handshake with WS_ERR_CLIENT_HANDSHAKE_TIMEOUT when it is not finished in time', () => {
    onMockClock(() => {
      const errors: Error[] = [];
      const deadline = handshakeDeadline(100, (error) => errors.push(error));
      mock.timers.tick(99);
      assert.equal(errors.length, 0);
      mock.timers.tick(1);
      assert.equal(errors.length, 1);
      assert.equal((errors[0] as Error & { code: string }).code, 'WS_ERR_CLIENT_HANDSHAKE_TIMEOUT');
      assert.equal(errors[0]!.message, 'Opening handshake has timed out');
      assert.equal(deadline.done, false, 'the timeout hands the failure over; the caller ends it');
    });
  });

  it('ends once: the first finish() wins and clears the timer', () => {
    onMockClock(() => {
      let timedOut = 0;
      const deadline = handshakeDeadline(50, () => timedOut++);
      assert.equal(deadline.done, false);
      assert.equal(deadline.finish(), true);
      assert.equal(deadline.done, true);
      assert.equal(deadline.finish(), false);
      mock.timers.tick(1000);
      assert.equal(timedOut, 0);
    });
  });

  it('sets no timer when the timeout is absent, zero or negative', () => {
    onMockClock(() => {
      let timedOut = 0;
      for (const ms of [undefined, 0, -5]) handshakeDeadline(ms, () => timedOut++);
      mock.timers.tick(10_000_000);
      assert.equal(timedOut, 0);
    });
  });
});
