/**
 * The command line's vocabulary (cli/args.ts) and connect's pure helpers (cli/session.ts,
 * cli/plain-session.ts): values, headers, binary input, and the exit code of a close.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode, UsageMistake, parseChoice, parseCommandLine, parseHeaders, parseInteger } from '../../../src/cli/args.js';
import { decodeBinary } from '../../../src/cli/plain-session.js';
import { exitCodeForClose, formatText } from '../../../src/cli/session.js';

describe('parseHeaders', () => {
  test('reads Name: value pairs, trimming spaces around the value', () => {
    assert.deepEqual(parseHeaders(['X-A: 1', 'Authorization:Bearer t0k ', 'X-Empty:']), { 'X-A': '1', Authorization: 'Bearer t0k', 'X-Empty': '' });
  });
  test('joins a repeated name (any case) with ", "', () => {
    assert.deepEqual(parseHeaders(['Accept: a', 'accept: b']), { Accept: 'a, b' });
  });
  test('refuses a line without a colon, a name that is no token, and CR or LF in a value', () => {
    for (const line of ['nocolon', ': value', 'Bad Name: v', 'X-A: a\r\nX-B: b']) {
      assert.throws(() => parseHeaders([line]), UsageMistake, line);
    }
  });
});

describe('parseInteger and parseChoice', () => {
  test('take whole numbers within bounds, undefined when absent', () => {
    assert.equal(parseInteger('--n', '42', 0, 100), 42);
    assert.equal(parseInteger('--n', undefined, 0, 100), undefined);
    assert.throws(() => parseInteger('--n', '101', 0, 100), /--n must be between 0 and 100, got '101'/);
    assert.throws(() => parseInteger('--n', '1e3', 0, 10_000), /--n must be a whole number/);
  });
  test('take one of the choices', () => {
    assert.equal(parseChoice('--b', 'hex', ['hex', 'base64']), 'hex');
    assert.throws(() => parseChoice('--b', 'HEX', ['hex', 'base64']), /--b must be one of hex, base64, got 'HEX'/);
  });
});

describe('parseCommandLine', () => {
  test('collects repeatable options and positionals', () => {
    const { values, positionals } = parseCommandLine(['ws://x', '-H', 'A: 1', '--header', 'B: 2'], { header: { type: 'string', short: 'H', multiple: true } }, true);
    assert.deepEqual(values.header, ['A: 1', 'B: 2']);
    assert.deepEqual(positionals, ['ws://x']);
  });
  test('turns parseArgs errors into short usage mistakes', () => {
    assert.throws(() => parseCommandLine(['--nope'], {}, false), (e: unknown) => e instanceof UsageMistake && e.message === "unknown option '--nope'");
    assert.throws(() => parseCommandLine(['extra'], {}, false), (e: unknown) => e instanceof UsageMistake && e.message === "unexpected argument 'extra'");
  });
});

describe('decodeBinary', () => {
  test('reads hex (spaces allowed) and base64 (standard and URL-safe)', () => {
    assert.deepEqual(decodeBinary('00 ff 10', 'hex'), Buffer.from([0, 255, 16]));
    assert.deepEqual(decodeBinary('', 'hex'), Buffer.alloc(0));
    assert.deepEqual(decodeBinary('AP8Q', 'base64'), Buffer.from([0, 255, 16]));
    assert.deepEqual(decodeBinary('_-8', 'base64'), Buffer.from([0xff, 0xef]));
  });
  test('returns null for text that is not in the encoding', () => {
    for (const text of ['abc', 'zz', '0x00']) assert.equal(decodeBinary(text, 'hex'), null, text);
    for (const text of ['a', 'AP8Q!', 'A===']) assert.equal(decodeBinary(text, 'base64'), null, text);
  });
});

describe('exitCodeForClose', () => {
  test('is 0 for a close fdx started, whatever its code, once the handshake completed', () => {
    assert.equal(exitCodeForClose(1000, true, true), ExitCode.OK);
    assert.equal(exitCodeForClose(4001, true, true), ExitCode.OK);
  });
  test('is 0 for a server close with 1000, 1001, 1005 or 1012', () => {
    for (const code of [1000, 1001, 1005, 1012]) assert.equal(exitCodeForClose(code, true, false), ExitCode.OK, String(code));
  });
  test('is 3 for an error code from the server, or without a close handshake', () => {
    for (const code of [1002, 1008, 1011, 4000, 4500]) assert.equal(exitCodeForClose(code, true, false), ExitCode.ABNORMAL_CLOSE, String(code));
    assert.equal(exitCodeForClose(1006, false, true), ExitCode.ABNORMAL_CLOSE);
    assert.equal(exitCodeForClose(1000, false, false), ExitCode.ABNORMAL_CLOSE);
  });
});

describe('formatText', () => {
  test('pretty-prints JSON with --json and leaves everything else as it is', () => {
    assert.equal(formatText('{"a":1}', true), '{\n  "a": 1\n}');
    assert.equal(formatText('{"a":1}', false), '{"a":1}');
    assert.equal(formatText('not json', true), 'not json');
  });
});
