import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FullduplexError,
  HANDSHAKE_ERRORS,
  HandshakeError,
  PROTOCOL_ERRORS,
  ProtocolError,
  UsageError,
  isValidCloseCode,
  type HandshakeErrorCode,
  type ProtocolErrorCode,
} from '../../../src/protocol/index.js';

describe('ProtocolError', () => {
  it('takes its close code and message from its PROTOCOL_ERRORS row', () => {
    for (const code of Object.keys(PROTOCOL_ERRORS) as ProtocolErrorCode[]) {
      const e = new ProtocolError(code);
      assert.equal(e.code, code);
      assert.equal(e.closeCode, PROTOCOL_ERRORS[code].closeCode);
      assert.equal(e.message, PROTOCOL_ERRORS[code].message);
      assert.equal(e.name, 'ProtocolError');
      assert.ok(e instanceof FullduplexError && e instanceof Error);
    }
  });

  it('uses only close codes that may be sent on the wire', () => {
    for (const row of Object.values(PROTOCOL_ERRORS)) {
      assert.ok(isValidCloseCode(row.closeCode), String(row.closeCode));
      assert.ok([1002, 1007, 1009, 1011].includes(row.closeCode));
    }
  });

  it('maps framing violations to 1002, bad UTF-8 to 1007 and size limits to 1009', () => {
    assert.equal(PROTOCOL_ERRORS.WS_ERR_INVALID_OPCODE.closeCode, 1002);
    assert.equal(PROTOCOL_ERRORS.WS_ERR_EXPECTED_MASK.closeCode, 1002);
    assert.equal(PROTOCOL_ERRORS.WS_ERR_INVALID_CLOSE_CODE.closeCode, 1002);
    assert.equal(PROTOCOL_ERRORS.WS_ERR_INVALID_UTF8.closeCode, 1007);
    assert.equal(PROTOCOL_ERRORS.WS_ERR_INVALID_CLOSE_UTF8.closeCode, 1007);
    assert.equal(PROTOCOL_ERRORS.WS_ERR_UNSUPPORTED_MESSAGE_LENGTH.closeCode, 1009);
    assert.equal(PROTOCOL_ERRORS.WS_ERR_TOO_MANY_FRAGMENTS.closeCode, 1009);
  });

  it('keeps a custom message', () => {
    assert.equal(new ProtocolError('WS_ERR_INTERNAL', 'details').message, 'details');
  });
});

describe('HandshakeError', () => {
  it('takes its status and message from its HANDSHAKE_ERRORS row', () => {
    for (const code of Object.keys(HANDSHAKE_ERRORS) as HandshakeErrorCode[]) {
      const e = new HandshakeError(code);
      assert.equal(e.code, code);
      assert.equal(e.status, HANDSHAKE_ERRORS[code].status);
      assert.equal(e.message, HANDSHAKE_ERRORS[code].message);
      assert.equal(e.name, 'HandshakeError');
      assert.ok(e instanceof FullduplexError);
    }
  });

  it('gives server-side errors an HTTP error status and client-side errors status 0', () => {
    for (const [code, row] of Object.entries(HANDSHAKE_ERRORS)) {
      assert.ok(row.status === 0 || (row.status >= 400 && row.status < 600), code);
    }
    assert.equal(HANDSHAKE_ERRORS.WS_ERR_HANDSHAKE_VERSION.status, 426);
    assert.equal(HANDSHAKE_ERRORS.WS_ERR_INVALID_ACCEPT.status, 0);
  });

  it('lets the caller override the status', () => {
    assert.equal(new HandshakeError('WS_ERR_HANDSHAKE_REJECTED', 'nope', 429).status, 429);
  });
});

describe('UsageError', () => {
  it('is a FullduplexError with a stable code', () => {
    const e = new UsageError('WS_ERR_CLOSED', 'closed');
    assert.equal(e.code, 'WS_ERR_CLOSED');
    assert.equal(e.name, 'UsageError');
    assert.ok(e instanceof FullduplexError);
    assert.ok(!(e instanceof ProtocolError));
  });
});
