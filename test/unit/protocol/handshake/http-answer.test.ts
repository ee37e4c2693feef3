/** The server's HTTP answers: the 101 head (RFC 6455 §4.2.2) and the error answers (§4.4 for 426). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptHead } from '../../../../src/protocol/handshake/http-answer.js';
import { acceptHeaders, formatHead, rejectResponse } from '../../../../src/protocol/index.js';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

describe('rejectResponse', () => {
  function parse(response: string) {
    const [head, body] = response.split('\r\n\r\n') as [string, string];
    const [statusLine, ...lines] = head.split('\r\n');
    return { statusLine, lines, body };
  }

  it('carries Sec-WebSocket-Version: 13 with a 426', () => {
    const { statusLine, lines } = parse(rejectResponse(426));
    assert.equal(statusLine, 'HTTP/1.1 426 Upgrade Required');
    assert.ok(lines.includes('Sec-WebSocket-Version: 13'));
  });

  it('carries Allow: GET with a 405, and neither header otherwise', () => {
    assert.ok(parse(rejectResponse(405)).lines.includes('Allow: GET'));
    const { lines } = parse(rejectResponse(400));
    assert.ok(!lines.some((l) => l.startsWith('Allow') || l.startsWith('Sec-WebSocket-Version')));
  });

  it('closes the connection and gives the UTF-8 byte length of the body', () => {
    const { statusLine, lines, body } = parse(rejectResponse(400, 'clé invalide ✓', { 'X-Reason': 'key' }));
    assert.equal(statusLine, 'HTTP/1.1 400 Bad Request');
    assert.ok(lines.includes('Connection: close'));
    assert.ok(lines.includes('X-Reason: key'));
    assert.equal(body, 'clé invalide ✓');
    assert.ok(lines.includes(`Content-Length: ${Buffer.byteLength(body)}`));
  });

  it('uses the reason phrase as body by default, and "Error" for unknown statuses', () => {
    assert.equal(parse(rejectResponse(503)).body, 'Service Unavailable');
    assert.equal(parse(rejectResponse(599)).statusLine, 'HTTP/1.1 599 Error');
  });

  it('answers every handshake error status with a well-formed response', () => {
    for (const status of [400, 401, 403, 405, 408, 426, 431, 503, 505]) {
      const response = rejectResponse(status);
      assert.match(response, new RegExp(`^HTTP/1\\.1 ${status} [A-Za-z ]+\\r\\n`));
      const { lines, body } = parse(response);
      assert.ok(lines.includes(`Content-Length: ${Buffer.byteLength(body)}`));
    }
  });
});

describe('acceptHeaders and formatHead', () => {
  it('writes the 101 answer of RFC 6455 §1.3', () => {
    assert.equal(
      formatHead(acceptHeaders({ key: RFC_KEY, protocol: 'chat' })),
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n',
    );
  });

  it('uses a precomputed accept value, adds extensions and extra headers, and omits empty protocol', () => {
    const lines = acceptHeaders({ accept: 'abc=', protocol: '', extensions: 'permessage-deflate', headers: ['X-A: 1'] });
    assert.deepEqual(lines.slice(3), ['Sec-WebSocket-Accept: abc=', 'Sec-WebSocket-Extensions: permessage-deflate', 'X-A: 1']);
  });
});

describe('acceptHead', () => {
  it('writes the same bytes as formatHead(acceptHeaders(...)) for every mix of subprotocol and extensions', () => {
    for (const protocol of [undefined, '', 'chat']) {
      for (const extensions of [undefined, '', 'permessage-deflate; client_max_window_bits=10']) {
        assert.equal(acceptHead('abc=', protocol, extensions), formatHead(acceptHeaders({ accept: 'abc=', protocol, extensions })), `${protocol} ${extensions}`);
      }
    }
  });
});
