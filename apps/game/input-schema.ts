/**
 * The arena's `input` event, checked by the real-time layer before the server's handler sees it
 * (a Standard Schema, as zod or valibot would give, written out: the demo needs no schema
 * library). An input is exactly `{seq, keys}`: `seq` an integer from 1 to 2^32 - 1, rising by
 * one per input of a tab; `keys` a KEY bit set (0 to 15). Any other field is refused, so an
 * input cannot name a player: it always moves the player of the connection that sent it.
 * A payload that fails is answered INVALID_PAYLOAD by the layer, with these issues.
 * Must not: accept a value it did not check field by field.
 */
import type { StandardIssue, StandardResult, StandardSchemaV1 } from 'fullduplex/realtime';
import { KEY_MASK } from './game-frames.js';

export interface Input {
  seq: number;
  keys: number;
}

const MAX_SEQ = 0xffff_ffff;
const FIELDS = new Set(['seq', 'keys']);

const isIntegerIn = (value: unknown, low: number, high: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= low && value <= high;

function validate(value: unknown): StandardResult<Input> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { issues: [{ message: 'an input is an object {seq, keys}' }] };
  const record = value as Record<string, unknown>;
  const issues: StandardIssue[] = [];
  if (!isIntegerIn(record.seq, 1, MAX_SEQ)) issues.push({ message: `an integer from 1 to ${MAX_SEQ}`, path: ['seq'] });
  if (!isIntegerIn(record.keys, 0, KEY_MASK)) issues.push({ message: `a key bit set, 0 to ${KEY_MASK}`, path: ['keys'] });
  for (const field of Object.keys(record)) {
    if (!FIELDS.has(field)) issues.push({ message: 'not a field of an input (an input moves its sender only)', path: [field] });
  }
  return issues.length > 0 ? { issues } : { value: { seq: record.seq as number, keys: record.keys as number } };
}

export const inputSchema: StandardSchemaV1<unknown, Input> = {
  '~standard': { version: 1, vendor: 'fullduplex-arena', validate },
};
