import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HandshakeError,
  UsageError,
  acceptValue,
  generateKey,
  requestHeaders,
  validateRequest,
  validateResponse,
  type AcceptedResponse,
  type ServerResponse,
} from '../../../../src/protocol/index.js';
import { hex } from '../../../support/frames.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

function response(headers: ServerResponse['headers'] = {}, status = 101): ServerResponse {
  return { status, headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': ACCEPT, ...headers } };
}

function ok(result: AcceptedResponse | HandshakeError): AcceptedResponse {
  if (result instanceof HandshakeError) assert.fail(`rejected with ${result.code}: ${result.message}`);
  return result;
}

function failsWith(result: AcceptedResponse | HandshakeError, code: string): void {
  assert.ok(result instanceof HandshakeError, 'accepted');
  assert.equal(result.code, code);
  assert.equal(result.status, 0);
}

describe('generateKey', () => {
  it('encodes 16 bytes as a 24-character key that a server accepts', () => {
    const key = generateKey(hex('74 68 65 20 73 61 6d 70 6c 65 20 6e 6f 6e 63 65'));
    assert.equal(key, KEY);
    for (const fill of [0x00, 0xff, 0x5a]) {
      const k = generateKey(new Uint8Array(16).fill(fill));
      assert.equal(k.length, 24);
      const result = validateRequest({
        method: 'GET',
        httpVersion: '1.1',
        headers: { host: 'h', upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': k },
      });
      assert.ok(!(result instanceof HandshakeError), `server rejected ${k}`);
    }
  });

  it('throws UsageError unless given exactly 16 bytes', () => {
    for (const n of [0, 15, 17]) {
      assert.throws(() => generateKey(new Uint8Array(n)), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_INVALID_KEY_SOURCE');
    }
  });
});

describe('requestHeaders', () => {
  it('sends the headers RFC 6455 §4.1 requires', () => {
    assert.deepEqual(requestHeaders({ key: KEY }), {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': KEY,
    });
  });

  it('adds subprotocols, extensions and origin when given', () => {
    const h = requestHeaders({ key: KEY, protocols: ['chat', 'superchat'], extensions: 'permessage-deflate', origin: 'http://a.example' });
    assert.equal(h['Sec-WebSocket-Protocol'], 'chat, superchat');
    assert.equal(h['Sec-WebSocket-Extensions'], 'permessage-deflate');
    assert.equal(h['Origin'], 'http://a.example');
    assert.equal('Sec-WebSocket-Protocol' in requestHeaders({ key: KEY, protocols: [] }), false);
  });

  it('throws UsageError on a subprotocol that is not a token, or on duplicates', () => {
    for (const protocols of [['a b'], [''], ['chat', 'chat'], ['a,b']]) {
      assert.throws(() => requestHeaders({ key: KEY, protocols }), (e: unknown) => e instanceof UsageError && e.code === 'WS_ERR_INVALID_SUBPROTOCOL');
    }
  });
});

describe('validateResponse', () => {
  it('accepts the 101 answer of RFC 6455 §1.3', () => {
    assert.deepEqual(ok(validateResponse(response({ 'sec-websocket-protocol': 'chat' }), { key: KEY, protocols: ['chat', 'superchat'] })), {
      protocol: 'chat',
      extensions: [],
    });
  });

  it('accepts Upgrade and Connection case-insensitively and in lists', () => {
    ok(validateResponse(response({ upgrade: 'WebSocket', connection: 'keep-alive, UPGRADE' }), { key: KEY }));
    ok(validateResponse(response({ upgrade: ['websocket'], connection: ['keep-alive', 'upgrade'] }), { key: KEY }));
  });

  it('fails with WS_ERR_UNEXPECTED_RESPONSE on any status other than 101', () => {
    for (const status of [200, 400, 426, 302]) {
      const result = validateResponse(response({}, status), { key: KEY });
      failsWith(result, 'WS_ERR_UNEXPECTED_RESPONSE');
      assert.match((result as HandshakeError).message, new RegExp(String(status)));
    }
  });

  it('fails with WS_ERR_INVALID_UPGRADE_RESPONSE when Upgrade or Connection is missing or wrong', () => {
    failsWith(validateResponse(response({ upgrade: undefined }), { key: KEY }), 'WS_ERR_INVALID_UPGRADE_RESPONSE');
    failsWith(validateResponse(response({ upgrade: 'h2c' }), { key: KEY }), 'WS_ERR_INVALID_UPGRADE_RESPONSE');
    failsWith(validateResponse(response({ connection: undefined }), { key: KEY }), 'WS_ERR_INVALID_UPGRADE_RESPONSE');
    failsWith(validateResponse(response({ connection: 'keep-alive' }), { key: KEY }), 'WS_ERR_INVALID_UPGRADE_RESPONSE');
  });

  it('fails with WS_ERR_INVALID_ACCEPT on a wrong, missing or repeated accept value', () => {
    failsWith(validateResponse(response(), { key: 'AAAAAAAAAAAAAAAAAAAAAA==' }), 'WS_ERR_INVALID_ACCEPT');
    failsWith(validateResponse(response({ 'sec-websocket-accept': undefined }), { key: KEY }), 'WS_ERR_INVALID_ACCEPT');
    failsWith(validateResponse(response({ 'sec-websocket-accept': ACCEPT.toLowerCase() }), { key: KEY }), 'WS_ERR_INVALID_ACCEPT');
    failsWith(validateResponse(response({ 'sec-websocket-accept': [ACCEPT, ACCEPT] }), { key: KEY }), 'WS_ERR_INVALID_ACCEPT');
    ok(validateResponse(response({ 'sec-websocket-accept': ` ${acceptValue(KEY)} ` }), { key: KEY }));
  });

  it('fails with WS_ERR_SERVER_PROTOCOL when the server picks a subprotocol that was not offered', () => {
    failsWith(validateResponse(response({ 'sec-websocket-protocol': 'other' }), { key: KEY, protocols: ['chat'] }), 'WS_ERR_SERVER_PROTOCOL');
    failsWith(validateResponse(response({ 'sec-websocket-protocol': 'chat' }), { key: KEY }), 'WS_ERR_SERVER_PROTOCOL');
    failsWith(validateResponse(response({ 'sec-websocket-protocol': 'chat, superchat' }), { key: KEY, protocols: ['chat', 'superchat'] }), 'WS_ERR_SERVER_PROTOCOL');
  });

  it('accepts a server that picks no subprotocol when some were offered', () => {
    assert.equal(ok(validateResponse(response(), { key: KEY, protocols: ['chat'] })).protocol, '');
  });

  it('fails with WS_ERR_SERVER_EXTENSIONS on an extension that was not offered', () => {
    failsWith(validateResponse(response({ 'sec-websocket-extensions': 'permessage-deflate' }), { key: KEY }), 'WS_ERR_SERVER_EXTENSIONS');
    failsWith(
      validateResponse(response({ 'sec-websocket-extensions': 'x-other' }), { key: KEY, extensionNames: ['permessage-deflate'] }),
      'WS_ERR_SERVER_EXTENSIONS',
    );
  });

  it('fails with WS_ERR_SERVER_EXTENSIONS on a malformed extension header', () => {
    failsWith(
      validateResponse(response({ 'sec-websocket-extensions': 'permessage-deflate; =1' }), { key: KEY, extensionNames: ['permessage-deflate'] }),
      'WS_ERR_SERVER_EXTENSIONS',
    );
  });

  it('returns the accepted extensions with their parameters', () => {
    const result = ok(
      validateResponse(response({ 'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10' }), {
        key: KEY,
        extensionNames: ['permessage-deflate'],
      }),
    );
    assert.deepEqual(result.extensions, [
      { name: 'permessage-deflate', params: [['server_no_context_takeover', true], ['client_max_window_bits', '10']] },
    ]);
  });
});
