/** The options of Connection.send, and the shared objects a hot caller passes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sendFrameOptions } from '../../../src/protocol/index.js';

describe('sendFrameOptions', () => {
  it('gives the documented defaults: fin true, owned false, compress true', () => {
    assert.deepEqual({ ...sendFrameOptions(false) }, { binary: false, fin: true, owned: false, compress: true });
    assert.deepEqual({ ...sendFrameOptions(true, false, true, false) }, { binary: true, fin: false, owned: true, compress: false });
  });

  it('returns one shared, frozen object per combination, all of one shape', () => {
    const seen = new Set<object>();
    for (const binary of [false, true])
      for (const fin of [false, true])
        for (const owned of [false, true])
          for (const compress of [false, true]) {
            const options = sendFrameOptions(binary, fin, owned, compress);
            assert.equal(sendFrameOptions(binary, fin, owned, compress), options);
            assert.ok(Object.isFrozen(options));
            assert.deepEqual(Object.keys(options), ['binary', 'fin', 'owned', 'compress']);
            assert.deepEqual({ ...options }, { binary, fin, owned, compress });
            seen.add(options);
          }
    assert.equal(seen.size, 16);
  });
});
