/** The server's checks of an opening handshake request, RFC 6455 §4.2.1, and its pick of a subprotocol. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HandshakeError,
  selectSubprotocol,
  validateRequest,
  type HandshakeRequest,
  type ValidRequest,
} from '../../../../src/protocol/index.js';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function request(headers: HandshakeRequest['headers'] = {}, extra: Partial<HandshakeRequest> = {}): HandshakeRequest {
  return {
    method: 'GET',
    httpVersion: '1.1',
    headers: {
      host: 'server.example.com',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': RFC_KEY,
      'sec-websocket-version': '13',
      ...headers,
    },
    ...extra,
  };
}

function accepted(req: HandshakeRequest): ValidRequest {
  const result = validateRequest(req);
  if (result instanceof HandshakeError) assert.fail(`rejected with ${result.code}: ${result.message}`);
  return result;
}

function rejected(req: HandshakeRequest, code: string, status: number): void {
  const result = validateRequest(req);
  assert.ok(result instanceof HandshakeError, `accepted ${JSON.stringify(req)}`);
  assert.equal(result.code, code);
  assert.equal(result.status, status);
}

describe('validateRequest', () => {
  it('accepts the RFC 6455 §1.3 request and returns its key, offers and origin', () => {
    const result = accepted(
      request({
        origin: 'http://example.com',
        'sec-websocket-protocol': 'chat, superchat',
        'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      }),
    );
    assert.deepEqual(result, {
      key: RFC_KEY,
      protocols: ['chat', 'superchat'],
      extensions: [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }],
      origin: 'http://example.com',
    });
  });

  it('reads a legacy Sec-WebSocket-Origin when Origin is absent', () => {
    assert.equal(accepted(request({ 'sec-websocket-origin': 'http://old.example' })).origin, 'http://old.example');
    assert.equal(accepted(request()).origin, undefined);
  });

  for (const method of ['POST', 'HEAD', 'PUT', 'get', 'CONNECT']) {
    it(`answers 405 to a ${method} request`, () => rejected(request({}, { method }), 'WS_ERR_HANDSHAKE_METHOD', 405));
  }

  for (const version of ['1.0', '0.9', '']) {
    it(`answers 505 to HTTP/${version || '(empty)'}`, () => rejected(request({}, { httpVersion: version }), 'WS_ERR_HANDSHAKE_HTTP_VERSION', 505));
  }

  for (const url of ['*', 'example.com:443', 'chat', 'ws:/x', 'http://']) {
    it(`answers 400 to the request target ${JSON.stringify(url)}`, () => rejected(request({}, { url }), 'WS_ERR_HANDSHAKE_TARGET', 400));
  }

  it('accepts a path or an absolute URI as the request target', () => {
    for (const url of ['/', '/chat?room=1', 'ws://server.example.com/chat', 'https://server.example.com', 'WSS://h:8443/x?y']) {
      accepted(request({}, { url }));
    }
  });

  it('accepts HTTP/1.1 and later versions', () => {
    for (const httpVersion of ['1.1', '1.2', '2.0', '2']) accepted(request({}, { httpVersion }));
  });

  it('answers 400 when Host is missing or blank', () => {
    rejected(request({ host: undefined }), 'WS_ERR_HANDSHAKE_HOST', 400);
    rejected(request({ host: '  ' }), 'WS_ERR_HANDSHAKE_HOST', 400);
  });

  it('answers 400 when Host appears twice', () => {
    const raw = ['Host', 'a.example', 'host', 'b.example', 'Upgrade', 'websocket'];
    rejected(request({ host: 'a.example, b.example' }, { rawHeaders: raw }), 'WS_ERR_HANDSHAKE_HOST', 400);
  });

  for (const upgrade of [undefined, '', 'h2c', 'websockets', 'web socket']) {
    it(`answers 400 to Upgrade: ${JSON.stringify(upgrade)}`, () => rejected(request({ upgrade }), 'WS_ERR_HANDSHAKE_UPGRADE', 400));
  }

  it('accepts Upgrade case-insensitively and inside a token list', () => {
    for (const upgrade of ['WebSocket', 'WEBSOCKET', 'h2c, websocket', ' websocket ']) accepted(request({ upgrade }));
    accepted(request({ upgrade: ['foo', 'websocket'] }));
  });

  for (const connection of [undefined, '', 'keep-alive', 'close', 'upgrades', 'keep-alive upgrade']) {
    it(`answers 400 to Connection: ${JSON.stringify(connection)}`, () => rejected(request({ connection }), 'WS_ERR_HANDSHAKE_CONNECTION', 400));
  }

  it('accepts Connection token lists such as "keep-alive, Upgrade", case-insensitively', () => {
    for (const connection of ['keep-alive, Upgrade', 'upgrade', 'UPGRADE', 'Upgrade,keep-alive', ' , upgrade , ']) accepted(request({ connection }));
  });

  for (const key of [
    'dGhlIHNhbXBsZSBub25jZQ',
    'dGhlIHNhbXBsZSBub25jZQ=',
    'dGhlIHNhbXBsZSBub25j',
    'dGhlIHNhbXBsZSBub25jZQ==AA',
    'AAAAAAAAAAAAAAAAAAAAAAA=',
    'dGhlIHNhbXBsZSBub25jZR==',
    'dGhlIHNhbXBsZSBub25jZ*==',
    'dGhl IHNhbXBsZSBub25jZQ==',
    '',
  ]) {
    it(`answers 400 to the malformed key ${JSON.stringify(key)}`, () => rejected(request({ 'sec-websocket-key': key }), 'WS_ERR_HANDSHAKE_KEY', 400));
  }

  it('answers 400 when the key is missing or repeated', () => {
    rejected(request({ 'sec-websocket-key': undefined }), 'WS_ERR_HANDSHAKE_KEY', 400);
    rejected(request({ 'sec-websocket-key': [RFC_KEY, RFC_KEY] }), 'WS_ERR_HANDSHAKE_KEY', 400);
    const raw = ['Sec-WebSocket-Key', RFC_KEY, 'sec-websocket-key', RFC_KEY];
    rejected(request({}, { rawHeaders: raw }), 'WS_ERR_HANDSHAKE_KEY', 400);
  });

  it('accepts any base64 encoding of 16 bytes, with surrounding spaces', () => {
    for (const key of ['AAAAAAAAAAAAAAAAAAAAAA==', '/////////////////////w==', '+/+/+/+/+/+/+/+/+/+/+Q==', ` ${RFC_KEY} `]) {
      assert.equal(accepted(request({ 'sec-websocket-key': key })).key, key.trim());
    }
  });

  for (const version of [undefined, '', '8', '12', '14', '13, 8', 'thirteen']) {
    it(`answers 426 to Sec-WebSocket-Version: ${JSON.stringify(version)}`, () =>
      rejected(request({ 'sec-websocket-version': version }), 'WS_ERR_HANDSHAKE_VERSION', 426));
  }

  it('answers 426 when Sec-WebSocket-Version appears twice', () => {
    const raw = ['Sec-WebSocket-Version', '13', 'Sec-WebSocket-Version', '13'];
    rejected(request({}, { rawHeaders: raw }), 'WS_ERR_HANDSHAKE_VERSION', 426);
  });

  it('parses subprotocol offers in order, dropping empty list elements', () => {
    assert.deepEqual(accepted(request({ 'sec-websocket-protocol': ' graphql-ws ,, chat,v1.json ' })).protocols, ['graphql-ws', 'chat', 'v1.json']);
    assert.deepEqual(accepted(request({ 'sec-websocket-protocol': ['a', 'b'] })).protocols, ['a', 'b']);
    assert.deepEqual(accepted(request()).protocols, []);
  });

  for (const protocols of ['chat, chat', 'ch at', 'a/b', 'chat, "quoted"', 'x;y', 'é', '', ' , ,']) {
    it(`answers 400 to Sec-WebSocket-Protocol: ${protocols}`, () =>
      rejected(request({ 'sec-websocket-protocol': protocols }), 'WS_ERR_HANDSHAKE_PROTOCOL', 400));
  }

  it('parses several extension offers with quoted and valueless parameters', () => {
    const result = accepted(
      request({ 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits; server_max_window_bits="10", permessage-deflate, x-foo;a=1' }),
    );
    assert.deepEqual(result.extensions, [
      { name: 'permessage-deflate', params: [['client_max_window_bits', true], ['server_max_window_bits', '10']] },
      { name: 'permessage-deflate', params: [] },
      { name: 'x-foo', params: [['a', '1']] },
    ]);
  });

  for (const extensions of ['permessage-deflate;', '; a', 'a; b=', 'a; b="c', 'a b', 'a; b="x y"']) {
    it(`answers 400 to the malformed Sec-WebSocket-Extensions ${JSON.stringify(extensions)}`, () =>
      rejected(request({ 'sec-websocket-extensions': extensions }), 'WS_ERR_HANDSHAKE_EXTENSIONS', 400));
  }

  it('checks the request in RFC order: method before version before host before upgrade', () => {
    rejected({ method: 'POST', httpVersion: '1.0', headers: {} }, 'WS_ERR_HANDSHAKE_METHOD', 405);
    rejected({ method: 'GET', httpVersion: '1.0', headers: {} }, 'WS_ERR_HANDSHAKE_HTTP_VERSION', 505);
    rejected({ method: 'GET', httpVersion: '1.1', headers: {} }, 'WS_ERR_HANDSHAKE_HOST', 400);
    rejected({ method: 'GET', httpVersion: '1.1', headers: { host: 'h' } }, 'WS_ERR_HANDSHAKE_UPGRADE', 400);
  });
});

describe('selectSubprotocol', () => {
  it("picks the client's most preferred subprotocol that the server supports", () => {
    assert.equal(selectSubprotocol(['b', 'a'], ['a', 'b']), 'b');
    assert.equal(selectSubprotocol(['x', 'a'], ['a', 'b']), 'a');
  });

  it('picks none when nothing matches, comparing case-sensitively', () => {
    assert.equal(selectSubprotocol(['Chat'], ['chat']), undefined);
    assert.equal(selectSubprotocol([], ['chat']), undefined);
  });
});
