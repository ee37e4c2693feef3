import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PROTOCOL_ERRORS, ProtocolError, type ProtocolErrorCode } from '../../../src/protocol/index.js';
import { wsProtocolError } from '../../../src/node/ws-error.js';

describe('ws-shaped protocol errors', () => {
  it("gives every core code the class, code and message ws emits, with the close code and the core's error as cause", () => {
    for (const code of Object.keys(PROTOCOL_ERRORS) as ProtocolErrorCode[]) {
      const core = new ProtocolError(code);
      const emitted = wsProtocolError(core);
      assert.ok(emitted instanceof Error, code);
      assert.equal(emitted.closeCode, core.closeCode, code);
      assert.equal(emitted.cause, core, code);
      assert.match(emitted.code, /^WS_ERR_/, code);
      assert.ok(emitted.message.length > 0, code);
    }
  });

  it('is a RangeError for framing and an Error for invalid UTF-8, as in ws', () => {
    assert.ok(wsProtocolError(new ProtocolError('WS_ERR_UNEXPECTED_RSV_1')) instanceof RangeError);
    const utf8 = wsProtocolError(new ProtocolError('WS_ERR_INVALID_UTF8'));
    assert.ok(!(utf8 instanceof RangeError));
    assert.equal(utf8.message, 'Invalid WebSocket frame: invalid UTF-8 sequence');
  });

  it("names the offending opcode, length or close code where ws's message does", () => {
    assert.equal(wsProtocolError(new ProtocolError('WS_ERR_INVALID_OPCODE', undefined, 3)).message, 'Invalid WebSocket frame: invalid opcode 3');
    assert.equal(wsProtocolError(new ProtocolError('WS_ERR_INVALID_CLOSE_CODE', undefined, 1005)).message, 'Invalid WebSocket frame: invalid status code 1005');
    assert.equal(wsProtocolError(new ProtocolError('WS_ERR_UNEXPECTED_RSV_2')).code, 'WS_ERR_UNEXPECTED_RSV_2_3');
    assert.equal(wsProtocolError(new ProtocolError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')).message, 'Max payload size exceeded');
  });
});
