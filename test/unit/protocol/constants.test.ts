import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode, MAX_CLOSE_REASON, MAX_CONTROL_PAYLOAD, Opcode, ReadyState, WEBSOCKET_GUID, isValidCloseCode } from '../../../src/protocol/index.js';

describe('isValidCloseCode', () => {
  it('accepts exactly 1000-1003, 1007-1014 and 3000-4999 over the whole 16-bit range and beyond', () => {
    for (let code = -1; code <= 70000; code++) {
      const expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
      assert.equal(isValidCloseCode(code), expected, `code ${code}`);
    }
  });

  it('rejects the codes reserved for local use: 1004, 1005, 1006 and 1015', () => {
    for (const code of [1004, CloseCode.NO_STATUS_RECEIVED, CloseCode.ABNORMAL_CLOSURE, CloseCode.TLS_HANDSHAKE]) assert.equal(isValidCloseCode(code), false);
  });
});

describe('wire constants', () => {
  it('uses the opcodes of RFC 6455 §5.2', () => {
    assert.deepEqual(Opcode, { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 });
  });

  it('uses the GUID of RFC 6455 §1.3 and the control payload limits of §5.5', () => {
    assert.equal(WEBSOCKET_GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
    assert.equal(MAX_CONTROL_PAYLOAD, 125);
    assert.equal(MAX_CLOSE_REASON, 123);
  });

  it('numbers ready states as WHATWG does', () => {
    assert.deepEqual(ReadyState, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  });

  it('gives the close codes of RFC 6455 §7.4.1 and the IANA registry', () => {
    assert.equal(CloseCode.NORMAL, 1000);
    assert.equal(CloseCode.PROTOCOL_ERROR, 1002);
    assert.equal(CloseCode.INVALID_PAYLOAD, 1007);
    assert.equal(CloseCode.MESSAGE_TOO_BIG, 1009);
    assert.equal(CloseCode.INTERNAL_ERROR, 1011);
    assert.equal(CloseCode.BAD_GATEWAY, 1014);
  });
});
