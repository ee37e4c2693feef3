/**
 * What a dashboard page may ask (apps/dashboard/viewer-command.ts): every input becomes a
 * command or a refusal with a stable code.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readViewerCommand } from '../../../apps/dashboard/viewer-command.js';

const known = new Set(['a', 'b', 'c']);
const read = (text: string) => readViewerCommand(text, known, { maxSelected: 2 });
const code = (text: string) => (read(text) as { code?: string }).code;

it('reads a selection (duplicates removed, order kept) and the slow toggle', () => {
  assert.deepEqual(read('{"type":"select","series":["b","a","b"]}'), { type: 'select', series: ['b', 'a'] });
  assert.deepEqual(read('{"type":"select","series":[]}'), { type: 'select', series: [] });
  assert.deepEqual(read('{"type":"slow","on":true}'), { type: 'slow', on: true });
});

it('refuses bad JSON, unknown types, bad lists, unknown series, too many series and a bad toggle, each with its code', () => {
  assert.equal(code('not json'), 'bad-json');
  assert.equal(code('42'), 'bad-json');
  assert.equal(code('null'), 'bad-json');
  assert.equal(code('{"type":"dance"}'), 'unknown-type');
  assert.equal(code('{"type":"select","series":"a"}'), 'bad-series');
  assert.equal(code('{"type":"select","series":[1]}'), 'bad-series');
  assert.equal(code('{"type":"select","series":["a","nope"]}'), 'unknown-series');
  assert.equal(code('{"type":"select","series":["a","b","c"]}'), 'too-many-series');
  assert.equal(code('{"type":"slow","on":"yes"}'), 'bad-toggle');
});

it('quotes at most 80 characters of an unknown series id', () => {
  const refusal = read(JSON.stringify({ type: 'select', series: ['x'.repeat(1000)] })) as { text: string };
  assert.ok(refusal.text.length < 120);
});
