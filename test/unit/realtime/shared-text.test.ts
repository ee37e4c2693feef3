/**
 * SharedText: one outgoing text for many transports, whose prepared form is made once per owner.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SharedText } from '../../../src/realtime/shared-text.js';

describe('SharedText', () => {
  it('makes the prepared form once for its owner and returns the same one afterwards', () => {
    const message = new SharedText('{"type":"pub"}');
    const owner = {};
    const calls: Array<[string | Uint8Array, object]> = [];
    const prepare = (text: string | Uint8Array, by: object) => {
      calls.push([text, by]);
      return { frame: text.length };
    };
    const first = message.prepared(owner, prepare);
    assert.equal(message.prepared(owner, prepare), first);
    assert.equal(message.prepared(owner, prepare), first);
    assert.deepEqual(calls, [['{"type":"pub"}', owner]]);
  });

  it('makes a fresh form for each call of another owner, and keeps the first owner cached', () => {
    const message = new SharedText('x');
    const [a, b] = [{}, {}];
    let made = 0;
    const prepare = (text: string | Uint8Array, by: object) => ({ text, by, n: ++made });
    const forA = message.prepared(a, prepare);
    const forB1 = message.prepared(b, prepare);
    const forB2 = message.prepared(b, prepare);
    assert.equal(forB1.by, b);
    assert.notEqual(forB1, forB2);
    assert.equal(message.prepared(a, prepare), forA);
    assert.equal(made, 3);
  });
});
