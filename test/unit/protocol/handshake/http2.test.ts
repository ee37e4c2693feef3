/**
 * The extended CONNECT handshake of RFC 8441 as pure functions: the server's checks of a
 * request, its answer's headers, the client's request headers and its checks of the answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeError } from '../../../../src/protocol/errors.js';
import {
  connectAnswerHeaders,
  connectRefusalHeaders,
  connectRequestHeaders,
  validateConnectAnswer,
  validateExtendedConnect,
} from '../../../../src/protocol/handshake/http2.js';

const GOOD = {
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'https',
  ':authority': 'example.com',
  ':path': '/chat?room=1',
  'sec-websocket-version': '13',
};

function refusal(headers: Record<string, string | undefined>): HandshakeError {
  const result = validateExtendedConnect(headers);
  assert.ok(result instanceof HandshakeError, 'refused');
  return result;
}

describe('validateExtendedConnect (RFC 8441 §4, §5)', () => {
  it('accepts a CONNECT with :protocol websocket and reads its offers', () => {
    const valid = validateExtendedConnect({
      ...GOOD,
      'sec-websocket-protocol': 'chat, superchat',
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      origin: 'https://example.com',
    });
    assert.ok(!(valid instanceof HandshakeError));
    assert.deepEqual(valid.protocols, ['chat', 'superchat']);
    assert.equal(valid.extensions[0]?.name, 'permessage-deflate');
    assert.equal(valid.origin, 'https://example.com');
    assert.equal(valid.path, '/chat?room=1');
    assert.equal(valid.authority, 'example.com');
    assert.equal(valid.key, undefined);
  });

  it('answers 405 to a CONNECT without :protocol (a proxy request)', () => {
    const error = refusal({ ...GOOD, ':protocol': undefined });
    assert.equal(error.code, 'WS_ERR_H2_CONNECT_WITHOUT_PROTOCOL');
    assert.equal(error.status, 405);
  });

  it('answers 501 to a :protocol other than websocket', () => {
    const error = refusal({ ...GOOD, ':protocol': 'webtransport' });
    assert.equal(error.code, 'WS_ERR_H2_PROTOCOL');
    assert.equal(error.status, 501);
  });

  it('answers 426 to a version other than 13, and to none', () => {
    assert.equal(refusal({ ...GOOD, 'sec-websocket-version': '8' }).status, 426);
    assert.equal(refusal({ ...GOOD, 'sec-websocket-version': undefined }).code, 'WS_ERR_HANDSHAKE_VERSION');
  });

  it('answers 400 when :scheme, :path or :authority is missing', () => {
    for (const name of [':scheme', ':path', ':authority']) {
      assert.equal(refusal({ ...GOOD, [name]: undefined }).code, 'WS_ERR_H2_PSEUDO_HEADERS', name);
    }
  });

  it('answers 400 to a :path that is not in origin form', () => {
    assert.equal(refusal({ ...GOOD, ':path': '*' }).code, 'WS_ERR_HANDSHAKE_TARGET');
  });

  it('answers 400 to malformed subprotocols or extensions, as over HTTP/1.1', () => {
    assert.equal(refusal({ ...GOOD, 'sec-websocket-protocol': 'a b' }).code, 'WS_ERR_HANDSHAKE_PROTOCOL');
    assert.equal(refusal({ ...GOOD, 'sec-websocket-extensions': ';;' }).code, 'WS_ERR_HANDSHAKE_EXTENSIONS');
  });

  it('ignores Sec-WebSocket-Key (§5), keeping a well-formed one for clients that check an accept value', () => {
    const withKey = validateExtendedConnect({ ...GOOD, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' });
    assert.ok(!(withKey instanceof HandshakeError));
    assert.equal(withKey.key, 'dGhlIHNhbXBsZSBub25jZQ==');
    const badKey = validateExtendedConnect({ ...GOOD, 'sec-websocket-key': 'short' });
    assert.ok(!(badKey instanceof HandshakeError), 'a bad key refuses nothing over HTTP/2');
    assert.equal(badKey.key, undefined);
  });

  it('refuses a method other than CONNECT', () => {
    assert.equal(refusal({ ...GOOD, ':method': 'GET' }).code, 'WS_ERR_HANDSHAKE_METHOD');
  });
});

describe('the answers', () => {
  it('accepts with 200 and only the agreed headers, no Sec-WebSocket-Accept unless asked', () => {
    assert.deepEqual(connectAnswerHeaders({}), { ':status': 200 });
    assert.deepEqual(connectAnswerHeaders({ protocol: 'chat', extensions: 'permessage-deflate' }), {
      ':status': 200,
      'sec-websocket-protocol': 'chat',
      'sec-websocket-extensions': 'permessage-deflate',
    });
  });

  it('refuses with the status, and 426 names the version spoken', () => {
    assert.equal(connectRefusalHeaders(426)['sec-websocket-version'], '13');
    assert.equal(connectRefusalHeaders(403)[':status'], 403);
  });
});

describe('the client side', () => {
  it('sends CONNECT with :protocol websocket, :scheme, :path, :authority and version 13', () => {
    const headers = connectRequestHeaders({ scheme: 'https', authority: 'example.com:8443', path: '/x', protocols: ['a', 'b'], origin: 'https://o' });
    assert.deepEqual(headers, {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':authority': 'example.com:8443',
      ':path': '/x',
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'a, b',
      origin: 'https://o',
    });
    assert.equal('sec-websocket-key' in headers, false);
  });

  it('accepts a 2xx answer and checks its subprotocol and extensions as over HTTP/1.1', () => {
    const ok = validateConnectAnswer(200, { 'sec-websocket-protocol': 'b' }, { protocols: ['a', 'b'] });
    assert.ok(!(ok instanceof HandshakeError));
    assert.equal(ok.protocol, 'b');
    const notOffered = validateConnectAnswer(200, { 'sec-websocket-protocol': 'c' }, { protocols: ['a'] });
    assert.ok(notOffered instanceof HandshakeError && notOffered.code === 'WS_ERR_SERVER_PROTOCOL');
    const extension = validateConnectAnswer(200, { 'sec-websocket-extensions': 'x-unknown' }, { extensionNames: ['permessage-deflate'] });
    assert.ok(extension instanceof HandshakeError && extension.code === 'WS_ERR_SERVER_EXTENSIONS');
  });

  it('fails on any status outside 2xx', () => {
    for (const status of [101, 301, 403, 426, 500]) {
      const result = validateConnectAnswer(status, {}, {});
      assert.ok(result instanceof HandshakeError && result.code === 'WS_ERR_UNEXPECTED_RESPONSE', String(status));
    }
  });
});
