import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatExtensions, isToken, listHasToken, parseExtensions, parseTokenList, splitList } from '../../../src/protocol/index.js';

describe('isToken', () => {
  it('accepts RFC 9110 tchar sequences', () => {
    for (const t of ['chat', 'v1.json', "!#$%&'*+-.^_`|~", 'A9z']) assert.equal(isToken(t), true, t);
  });

  it('rejects empty strings, separators, spaces, controls and non-ASCII', () => {
    for (const t of ['', 'a b', 'a,b', 'a;b', 'a=b', '"a"', 'a/b', '(a)', 'a\tb', 'a\u0000', 'é', 'a:b', '[a]', '{a}', 'a@b', 'a?b']) {
      assert.equal(isToken(t), false, JSON.stringify(t));
    }
  });
});

describe('splitList and listHasToken', () => {
  it('trims elements and drops empty ones', () => {
    assert.deepEqual(splitList(' a ,b,, ,c '), ['a', 'b', 'c']);
    assert.deepEqual(splitList(''), []);
  });

  it('finds a token case-insensitively in a comma list', () => {
    assert.equal(listHasToken('keep-alive, Upgrade', 'upgrade'), true);
    assert.equal(listHasToken('UPGRADE', 'upgrade'), true);
    assert.equal(listHasToken('upgrade-insecure', 'upgrade'), false);
    assert.equal(listHasToken('keep-alive upgrade', 'upgrade'), false);
    assert.equal(listHasToken(undefined, 'upgrade'), false);
  });
});

describe('parseTokenList', () => {
  it('returns the tokens in order', () => {
    assert.deepEqual(parseTokenList('chat, superchat,,v2'), ['chat', 'superchat', 'v2']);
  });

  it('returns null on a duplicate or a non-token element', () => {
    assert.equal(parseTokenList('chat, chat'), null);
    assert.equal(parseTokenList('chat, super chat'), null);
    assert.equal(parseTokenList('"chat"'), null);
  });
});

describe('parseExtensions', () => {
  it('parses one extension with no parameters', () => {
    assert.deepEqual(parseExtensions('permessage-deflate'), [{ name: 'permessage-deflate', params: [] }]);
  });

  it('parses parameters without values as true and with token values as strings', () => {
    assert.deepEqual(parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits=12'), [
      { name: 'permessage-deflate', params: [['client_max_window_bits', true], ['server_max_window_bits', '12']] },
    ]);
  });

  it('unquotes quoted-string values, escapes included', () => {
    assert.deepEqual(parseExtensions('x; a="10"; b="1\\0"'), [{ name: 'x', params: [['a', '10'], ['b', '10']] }]);
  });

  it('parses several offers, with spaces and tabs around separators and empty list elements', () => {
    assert.deepEqual(parseExtensions(' , a ;\tp = 1 ,, b, a;q '), [
      { name: 'a', params: [['p', '1']] },
      { name: 'b', params: [] },
      { name: 'a', params: [['q', true]] },
    ]);
  });

  it('returns an empty list for an empty value', () => {
    assert.deepEqual(parseExtensions(''), []);
    assert.deepEqual(parseExtensions(' , '), []);
  });

  for (const value of [
    ';',
    'a;',
    'a; ;b',
    'a; =1',
    'a; b=',
    'a; b=;',
    'a; b="1',
    'a; b="1 2"',
    'a; b=""',
    'a; b="\\',
    'a b',
    'a; b=1 2',
    '"a"',
    'a=1',
    'a; b=1=2',
    'a/b',
    'a; b="x"y',
    'é',
  ]) {
    it(`returns null for the malformed value ${JSON.stringify(value)}`, () => assert.equal(parseExtensions(value), null));
  }
});

describe('formatExtensions', () => {
  it('writes offers back in a form parseExtensions reads identically', () => {
    const offers = parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-y')!;
    const text = formatExtensions(offers);
    assert.equal(text, 'permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-y');
    assert.deepEqual(parseExtensions(text), offers);
  });
});
