/**
 * Connection: close bookkeeping and state (RFC 6455 §5.5.1, §7), control frame handling, and
 * the calling contract of its send methods. Framing, assembly and output have their own files.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Connection, ProtocolError, UsageError } from '../../../src/protocol/index.js';
import { clientFrame, closePayload, concat, hex, serverFrame, text, toHex, utf8 } from '../../support/frames.js';
import {
  CLOSE, PING, TEXT, assertFailed, bytewise, clientConnection, clientGets, feed, joinChunks, serverConnection,
  serverGets, summarize, takeFrames,
} from './wire.js';

describe('Connection: close frames (RFC 6455 §5.5.1, §7.4)', () => {
  const validCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
  const invalidCodes = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 5001, 65535];

  for (const code of validCodes) {
    it(`accepts close code ${code} and echoes it with the reason`, () => {
      const { conn, events } = serverGets(clientFrame({ opcode: CLOSE, payload: closePayload(code, 'bye') }));
      assert.deepEqual(summarize(events), [{ type: 'close', code, reason: toHex(utf8('bye')) }]);
      assert.equal(conn.closeCode, code);
      assert.equal(text(conn.closeReason), 'bye');
      const out = takeFrames(conn);
      assert.equal(out.length, 1);
      assert.equal(out[0]!.opcode, CLOSE);
      assert.deepEqual(out[0]!.payload, closePayload(code, 'bye'));
    });
  }

  for (const code of invalidCodes) {
    it(`fails with 1002 on close code ${code}`, () => {
      const s = serverGets(clientFrame({ opcode: CLOSE, payload: closePayload(code) }));
      assertFailed(s.conn, s.events, 'WS_ERR_INVALID_CLOSE_CODE', 1002);
      assert.equal(s.conn.closeReceived, false);
      const c = clientGets(serverFrame({ opcode: CLOSE, payload: closePayload(code, 'r') }));
      assertFailed(c.conn, c.events, 'WS_ERR_INVALID_CLOSE_CODE', 1002);
    });
  }

  it('fails with 1002 on a one-byte close payload', () => {
    const { conn, events } = clientGets(hex('88 01 03'));
    assertFailed(conn, events, 'WS_ERR_INVALID_CLOSE_PAYLOAD', 1002);
  });

  it('fails with 1007 on a close reason that is not UTF-8', () => {
    const { conn, events } = clientGets(hex('88 05 03 e8 61 ed a0'));
    assertFailed(conn, events, 'WS_ERR_INVALID_CLOSE_UTF8', 1007);
    const s = serverGets(clientFrame({ opcode: CLOSE, payload: hex('03 e8 c0 80') }));
    assertFailed(s.conn, s.events, 'WS_ERR_INVALID_CLOSE_UTF8', 1007);
  });

  it('reports 1005 for an empty close frame and answers with an empty close frame', () => {
    const { conn, events } = serverGets(hex('88 80 37 fa 21 3d'));
    assert.deepEqual(summarize(events), [{ type: 'close', code: 1005, reason: '' }]);
    assert.equal(conn.closeCode, 1005);
    const out = takeFrames(conn);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.opcode, CLOSE);
    assert.equal(out[0]!.payload.length, 0);
  });

  it('reads a close frame whose reason arrives one byte at a time', () => {
    const wire = clientFrame({ opcode: CLOSE, payload: closePayload(4001, 'déjà vu') });
    const conn = serverConnection();
    const events = feed(conn, bytewise(wire));
    assert.deepEqual(summarize(events), [{ type: 'close', code: 4001, reason: toHex(utf8('déjà vu')) }]);
    assert.deepEqual(takeFrames(conn)[0]!.payload, closePayload(4001, 'déjà vu'));
  });

  it('ignores every byte after a close frame, in the same chunk and later', () => {
    const wire = concat([
      clientFrame({ opcode: CLOSE, payload: closePayload(1000) }),
      clientFrame({ opcode: TEXT, payload: utf8('late') }),
      clientFrame({ opcode: PING }),
      hex('ff ff ff'),
    ]);
    const conn = serverConnection();
    const events = feed(conn, [wire, clientFrame({ opcode: TEXT, payload: utf8('later') }), hex('00 00')]);
    assert.deepEqual(summarize(events), [{ type: 'close', code: 1000, reason: '' }]);
    assert.equal(conn.error, null);
    const out = takeFrames(conn);
    assert.deepEqual(out.map((f) => f.opcode), [CLOSE]);
  });

  it('moves OPEN -> CLOSING -> CLOSED when this side closes first', () => {
    const conn = serverConnection();
    assert.equal(conn.state, 'OPEN');
    assert.equal(conn.closeCode, 1006);
    conn.sendClose(1000, utf8('done'));
    assert.equal(conn.state, 'CLOSING');
    assert.equal(conn.closeExpected(), false);
    feed(conn, [clientFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    assert.equal(conn.state, 'CLOSED');
    assert.equal(conn.closeExpected(), true);
    const out = takeFrames(conn);
    assert.equal(out.length, 1, 'no reply to the peer close: one was sent already');
    assert.deepEqual(out[0]!.payload, closePayload(1000, 'done'));
  });

  it('expects the server to close the transport once the peer started the close and it answered', () => {
    const conn = serverConnection();
    feed(conn, [clientFrame({ opcode: CLOSE, payload: closePayload(1001) })]);
    assert.equal(conn.closeSent, true);
    assert.equal(conn.closeReceived, true);
    assert.equal(conn.closeExpected(), true);
  });

  it('never expects the client to close the transport after a clean close handshake', () => {
    const a = clientConnection();
    a.sendClose(1000);
    assert.equal(a.closeExpected(), false);
    feed(a, [serverFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    assert.equal(a.state, 'CLOSED');
    assert.equal(a.closeExpected(), false);
    const b = clientConnection();
    feed(b, [serverFrame({ opcode: CLOSE, payload: closePayload(1000) })]);
    assert.equal(b.closeSent, true);
    assert.equal(b.closeExpected(), false);
  });

  it('expects either side to close the transport after it failed the connection', () => {
    for (const conn of [serverConnection(), clientConnection()]) {
      conn.fail(new ProtocolError('WS_ERR_INVALID_OPCODE'));
      assert.equal(conn.closeExpected(), true);
      assert.equal(conn.state, 'CLOSING');
    }
  });

  it('leaves close code 1006 and CLOSED state when the transport ends without a close frame', () => {
    const conn = clientConnection();
    conn.receiveEof();
    assert.equal(conn.state, 'CLOSED');
    assert.equal(conn.closeCode, 1006);
    conn.receiveData(hex('81 01 61'));
    assert.deepEqual(conn.takeEvents(), []);
    assert.throws(() => conn.send(utf8('x'), { binary: false }), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CLOSED');
    conn.sendClose(1000);
    conn.fail(new ProtocolError('WS_ERR_INVALID_OPCODE'));
    assert.deepEqual(conn.takeOutput(), []);
    assert.deepEqual(conn.takeEvents(), []);
  });
});

describe('Connection: pings (RFC 6455 §5.5.2)', () => {
  it('does not answer pings when autoPong is off', () => {
    const conn = serverConnection({ autoPong: false });
    const events = feed(conn, [clientFrame({ opcode: PING, payload: utf8('x') })]);
    assert.equal(events[0]!.type, 'ping');
    assert.deepEqual(conn.takeOutput(), []);
  });
});

describe('Connection: sending in the wrong state or with bad arguments', () => {
  it('reports a fragmented message being sent from its first frame until its last', () => {
    const conn = serverConnection();
    assert.equal(conn.sendingFragments, false);
    conn.send(utf8('a'), { binary: false, fin: false });
    assert.equal(conn.sendingFragments, true);
    conn.send(utf8('b'), { binary: false, fin: false });
    assert.equal(conn.sendingFragments, true);
    conn.send(utf8('c'), { binary: false });
    assert.equal(conn.sendingFragments, false);
    assert.equal(toHex(concat(conn.takeOutput())), '01 01 61 00 01 62 80 01 63');
  });

  it('throws UsageError WS_ERR_CLOSE_SENT on send, sendPing and sendPong after a close frame was sent', () => {
    const conn = serverConnection();
    conn.sendClose(1000);
    takeFrames(conn);
    for (const call of [() => conn.send(utf8('x'), { binary: false }), () => conn.sendPing(), () => conn.sendPong()]) {
      assert.throws(call, (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CLOSE_SENT');
    }
    assert.deepEqual(conn.takeOutput(), []);
  });

  it('throws UsageError WS_ERR_CLOSE_SENT when sending after the connection failed', () => {
    const conn = serverConnection();
    feed(conn, [hex('81 00')]);
    assert.throws(() => conn.send(utf8('x'), { binary: false }), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CLOSE_SENT');
  });

  it('throws UsageError WS_ERR_CONTROL_TOO_LONG on a control payload over 125 bytes, and queues nothing', () => {
    const conn = clientConnection();
    conn.sendPing(new Uint8Array(125));
    takeFrames(conn);
    assert.throws(() => conn.sendPing(new Uint8Array(126)), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CONTROL_TOO_LONG');
    assert.throws(() => conn.sendPong(new Uint8Array(200)), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CONTROL_TOO_LONG');
    assert.deepEqual(conn.takeOutput(), []);
  });

  for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000]) {
    it(`throws UsageError WS_ERR_INVALID_CLOSE_CODE for sendClose(${code}) and stays open`, () => {
      const conn = serverConnection();
      assert.throws(() => conn.sendClose(code), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_INVALID_CLOSE_CODE');
      assert.equal(conn.closeSent, false);
      assert.equal(conn.state, 'OPEN');
      conn.sendClose(1000);
      assert.equal(takeFrames(conn).length, 1);
    });
  }

  it('throws UsageError for a close reason without a code or longer than 123 bytes', () => {
    const conn = serverConnection();
    assert.throws(() => conn.sendClose(undefined, utf8('why')), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_INVALID_CLOSE_ARGS');
    assert.throws(
      () => conn.sendClose(1000, new Uint8Array(124).fill(0x61)),
      (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_CLOSE_REASON_TOO_LONG',
    );
    conn.sendClose(1000, new Uint8Array(123).fill(0x61));
    const out = takeFrames(conn);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.payload.length, 125);
  });

  it('sends an empty close frame for sendClose() with no code', () => {
    const conn = serverConnection();
    conn.sendClose();
    assert.equal(toHex(joinChunks(conn.takeOutput())), '88 00');
  });

  it('throws UsageError when a client has no mask source', () => {
    assert.throws(() => new Connection({ side: 'client' }), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_NO_MASK_SOURCE');
  });
});
