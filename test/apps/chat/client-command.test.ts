/**
 * Reading what a chat page asks (apps/chat/client-command.ts): every input gives a value or a
 * RealtimeError INVALID_PAYLOAD with a short sentence, never anything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RealtimeError } from 'fullduplex/realtime';
import { readMessage, readName, readRoom } from '../../../apps/chat/client-command.js';

const ROOMS = ['general', 'random'];

function refusal(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    assert.ok(error instanceof RealtimeError, String(error));
    assert.equal(error.code, 'INVALID_PAYLOAD');
    assert.ok(error.message.length < 300, 'short');
    return error.message;
  }
  assert.fail('accepted');
}

test('reads rooms, messages (cleaned) and names', () => {
  assert.equal(readRoom({ room: 'random', extra: 1 }, ROOMS), 'random');
  assert.deepEqual(readMessage({ room: 'general', text: ' a\u0000b\tc\n ' }, ROOMS, 10), { room: 'general', text: 'ab\tc' });
  assert.deepEqual(readMessage({ room: 'general', text: 'x'.repeat(10) }, ROOMS, 10), { room: 'general', text: 'x'.repeat(10) });
  assert.equal(readName({ name: '  Ze\u0000d  \n Lee ' }, 24), 'Zed Lee');
  assert.equal(readName({ name: 'N'.repeat(40) }, 24), 'N'.repeat(24));
  assert.equal(readName(undefined, 24), '');
  assert.equal(readName({ name: 7 }, 24), '');
});

test('refuses with INVALID_PAYLOAD and quotes at most a short excerpt', () => {
  assert.match(refusal(() => readRoom({ room: 'x'.repeat(10_000) }, ROOMS)), /^no room named "x{32}…"; the rooms are general, random$/);
  for (const data of [null, [], 'general', { room: 'toString' }, { room: '__proto__' }, { room: ['general'] }, {}]) refusal(() => readRoom(data, ROOMS));
  assert.equal(refusal(() => readMessage({ room: 'general', text: '   \u0001' }, ROOMS, 10)), 'empty message');
  assert.equal(refusal(() => readMessage({ room: 'general', text: 'x'.repeat(11) }, ROOMS, 10)), 'message longer than 10 characters');
  assert.equal(refusal(() => readMessage({ room: 'general' }, ROOMS, 10)), 'a message needs a "text" string');
});

test('never throws anything but INVALID_PAYLOAD, whatever the input', () => {
  fc.assert(
    fc.property(fc.anything(), (data) => {
      for (const read of [() => readRoom(data, ROOMS), () => readMessage(data, ROOMS, 10), () => readName(data, 24)]) {
        try {
          read();
        } catch (error) {
          assert.ok(error instanceof RealtimeError && error.code === 'INVALID_PAYLOAD');
        }
      }
    }),
    { numRuns: 500 },
  );
});
