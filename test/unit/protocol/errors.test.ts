import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BROKER_ERRORS,
  BrokerError,
  FullduplexError,
  USAGE_ERRORS,
  HANDSHAKE_ERRORS,
  HandshakeError,
  PROTOCOL_ERRORS,
  ProtocolError,
  UsageError,
  isValidCloseCode,
  type HandshakeErrorCode,
  type ProtocolErrorCode,
  type UsageErrorCode,
} from '../../../src/protocol/index.js';
import { BrokerError as PortBrokerError } from '../../../src/broker/broker.js';

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

  it('takes its default message from its USAGE_ERRORS row', () => {
    for (const code of Object.keys(USAGE_ERRORS) as UsageErrorCode[]) {
      const e = new UsageError(code);
      assert.equal(e.code, code);
      assert.equal(e.message, USAGE_ERRORS[code].message);
    }
    assert.equal(new UsageError('WS_ERR_NOT_OPEN', 'WebSocket is not open: readyState 3 (CLOSED)').message, 'WebSocket is not open: readyState 3 (CLOSED)');
  });
});

describe('BrokerError', () => {
  it('is a FullduplexError with a code of BROKER_ERRORS, its name, and the cause it was given', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new BrokerError('BROKER_UNAVAILABLE', 'Redis is unavailable', { cause });
    assert.equal(e.code, 'BROKER_UNAVAILABLE');
    assert.equal(e.name, 'BrokerError');
    assert.equal(e.message, 'Redis is unavailable');
    assert.equal(e.cause, cause);
    assert.ok(e instanceof FullduplexError && e instanceof Error);
    assert.equal(new BrokerError('BROKER_CLOSED').message, BROKER_ERRORS.BROKER_CLOSED.message);
  });

  it('is the same class as the one the broker port exports', () => {
    assert.equal(PortBrokerError, BrokerError);
  });
});
