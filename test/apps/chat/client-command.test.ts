/**
 * Reading chat client messages (apps/chat/client-command.ts): every input gives a command or a
 * coded refusal, never an exception.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readCommand } from '../../../apps/chat/client-command.js';

const ROOMS = ['general', 'random'];
const read = (raw: string): ReturnType<typeof readCommand> => readCommand(raw, ROOMS, 10);

test('reads join, leave and message commands, cleaning the text', () => {
  assert.deepEqual(read('{"type":"join","room":"random"}'), { type: 'join', room: 'random' });
  assert.deepEqual(read('{"type":"leave","extra":1}'), { type: 'leave' });
  assert.deepEqual(read(JSON.stringify({ type: 'message', text: ' a\u0000b\tc\n ' })), { type: 'message', text: 'ab\tc' });
  assert.deepEqual(read(JSON.stringify({ type: 'message', text: 'x'.repeat(10) })), { type: 'message', text: 'x'.repeat(10) });
});

test('refuses with a stable code and quotes at most a short excerpt', () => {
  const cases: Array<[string, string]> = [
    ['', 'bad-json'],
    ['{', 'bad-json'],
    ['"message"', 'bad-json'],
    ['[]', 'bad-json'],
    ['{"type":"message"}', 'bad-json'],
    ['{"type":"message","text":"   "}', 'empty'],
    [JSON.stringify({ type: 'message', text: 'x'.repeat(11) }), 'too-long'],
    ['{"type":"join","room":"nowhere"}', 'unknown-room'],
    ['{"type":"join","room":"toString"}', 'unknown-room'],
    ['{"type":"join","room":["general"]}', 'unknown-room'],
    [JSON.stringify({ type: 'x'.repeat(10_000) }), 'bad-type'],
    ['{"type":{"nested":true}}', 'bad-type'],
  ];
  for (const [raw, code] of cases) {
    const result = read(raw);
    assert.ok('code' in result, raw.slice(0, 40));
    assert.equal(result.code, code, raw.slice(0, 40));
    assert.ok(result.text.length < 300, 'short');
  }
});

test('never throws, whatever the input', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json(), fc.record({ type: fc.constantFrom('join', 'leave', 'message', 'x'), room: fc.anything(), text: fc.anything() }).map((value) => JSON.stringify(value) ?? '')), (raw) => {
      const result = read(raw);
      assert.ok('code' in result || ['join', 'leave', 'message'].includes(result.type));
    }),
    { numRuns: 500 },
  );
});
