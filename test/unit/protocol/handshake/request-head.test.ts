/** The filter that reads plain upgrade request heads and declines everything a full HTTP parser must read. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRequestHead } from '../../../../src/protocol/handshake/request-head.js';

const LINES = ['Host: example.com', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
const head = (lines: string[] = LINES, requestLine = 'GET /chat?room=1 HTTP/1.1'): string => [requestLine, ...lines].join('\r\n');
const replacing = (name: string, line: string): string[] => LINES.map((l) => (l.startsWith(`${name}:`) ? line : l));

describe('readRequestHead', () => {
  it('reads the target, the raw header pairs and the headers by lower-case name', () => {
    const read = readRequestHead(head([...LINES, 'Origin:\thttps://example.com']));
    assert.ok(read);
    assert.equal(read.url, '/chat?room=1');
    assert.deepEqual(read.rawHeaders.slice(0, 4), ['Host', 'example.com', 'Upgrade', 'websocket']);
    assert.equal(read.rawHeaders.length, 12);
    assert.equal(read.headers['sec-websocket-key'], 'dGhlIHNhbXBsZSBub25jZQ==');
    assert.equal(read.headers['origin'], 'https://example.com');
  });

  it('finds the upgrade option among other Connection options, in any case', () => {
    assert.ok(readRequestHead(head(replacing('Connection', 'Connection: keep-alive, UPGRADE'))));
  });

  it('keeps spaces and tabs inside a value and drops those after the colon', () => {
    const read = readRequestHead(head([...LINES, 'X-Words: \t a \tb  c']));
    assert.equal(read?.headers['x-words'], 'a \tb  c');
    assert.deepEqual(read?.rawHeaders.slice(-2), ['X-Words', 'a \tb  c']);
  });

  it('reads a hundred fields and no more', () => {
    const fields = Array.from({ length: 100 - LINES.length }, (_, i) => `X-Field-${i}: ${i}`);
    assert.ok(readRequestHead(head([...LINES, ...fields])));
    assert.equal(readRequestHead(head([...LINES, ...fields, 'X-One-More: 1'])), null);
  });

  it('reads a request that is not a valid handshake, for the handshake checks to refuse', () => {
    const read = readRequestHead(head(replacing('Sec-WebSocket-Version', 'Sec-WebSocket-Version: 8')));
    assert.equal(read?.headers['sec-websocket-version'], '8');
  });

  const declined: Array<[string, string]> = [
    ['another method', head(LINES, 'POST / HTTP/1.1')],
    ['a lower-case method', head(LINES, 'get / HTTP/1.1')],
    ['HTTP/1.0', head(LINES, 'GET / HTTP/1.0')],
    ['the asterisk target', head(LINES, 'GET * HTTP/1.1')],
    ['an absolute-form target', head(LINES, 'GET ws://example.com/ HTTP/1.1')],
    ['a target with a fragment', head(LINES, 'GET /#x HTTP/1.1')],
    ['a target with a space', head(LINES, 'GET /a b HTTP/1.1')],
    ['no Upgrade field', head(LINES.filter((l) => !l.startsWith('Upgrade:')))],
    ['no upgrade option in Connection', head(replacing('Connection', 'Connection: keep-alive'))],
    ['a Connection option that is no token', head(replacing('Connection', 'Connection: up grade'))],
    ['an empty Connection option', head(replacing('Connection', 'Connection: upgrade,,close'))],
    ['a field name given twice', head([...LINES, 'host: other.example'])],
    ['a field name given twice in another case', head([...LINES, 'SEC-WEBSOCKET-KEY: AAAAAAAAAAAAAAAAAAAAAA=='])],
    ['an empty value', head([...LINES, 'Origin:'])],
    ['a value of spaces only', head([...LINES, 'Origin:   '])],
    ['a line without a colon', head([...LINES, 'Origin https://example.com'])],
    ['a field name with a byte outside tchar', head([...LINES, 'X(y): 1'])],
    ['a field name outside ASCII', head([...LINES, 'X-\u00e4: 1'])],
    ['a lone CR inside a value', head([...LINES, 'Origin: a\rb'])],
    ['trailing whitespace in a value', head([...LINES, 'Origin: https://example.com '])],
    ['whitespace before the colon', head([...LINES, 'Origin : https://example.com'])],
    ['obsolete line folding', head([...LINES, 'Origin: https://example.com', ' folded'])],
    ['a byte outside printable ASCII', head([...LINES, 'Origin: https://ex\u00e4mple.com'])],
    ['a NUL byte', head([...LINES, 'Origin: a\u0000b'])],
    ['a bare LF inside the head', head([...LINES, 'Origin: a\nX-Other: b'])],
    ['a body length', head([...LINES, 'Content-Length: 5'])],
    ['a transfer coding', head([...LINES, 'Transfer-Encoding: chunked'])],
    ['an expectation', head([...LINES, 'Expect: 100-continue'])],
    ['a field named as a property every object inherits', head([...LINES, 'Constructor: x'])],
    ['a field named __proto__', head([...LINES, '__proto__: x'])],
    ['more than a hundred fields', head([...LINES, ...Array.from({ length: 100 }, (_, i) => `X-Field-${i}: ${i}`)])],
  ];
  for (const [name, text] of declined) {
    it(`declines ${name}`, () => {
      assert.equal(readRequestHead(text), null);
    });
  }
});
