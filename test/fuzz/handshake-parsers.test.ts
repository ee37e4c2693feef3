/**
 * Property (c): the opening-handshake parsers never throw on any input. validateRequest returns
 * either what the request offers or a HandshakeError from HANDSHAKE_ERRORS with its status; the
 * client check and the extension grammar behave the same way on arbitrary answers and strings.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  HANDSHAKE_ERRORS,
  HandshakeError,
  acceptValue,
  formatExtensions,
  generateKey,
  isToken,
  parseExtensions,
  validateRequest,
  validateResponse,
  type HandshakeRequest,
  type HeaderValue,
} from '../../src/protocol/index.js';
import { assertProperty, runs } from './fuzz-options.js';

const NAMES = [
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'origin',
  'sec-websocket-origin',
];

const pieces = fc.constantFrom(
  'websocket',
  'WebSocket',
  'Upgrade',
  'keep-alive',
  '13',
  '8',
  'dGhlIHNhbXBsZSBub25jZQ==',
  'permessage-deflate',
  'client_max_window_bits',
  '=',
  ';',
  ',',
  ' ',
  '\t',
  '"',
  '\\',
  '10',
  'chat',
  '',
  '\u0000',
  'é',
  '==',
);
const valueString = fc.oneof(fc.string({ maxLength: 30 }), fc.array(pieces, { maxLength: 8 }).map((p) => p.join('')), fc.base64String({ maxLength: 28 }));
const headerValue: fc.Arbitrary<HeaderValue> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: valueString },
  { weight: 1, arbitrary: fc.array(valueString, { maxLength: 3 }) },
);

/** Mostly a good request with some headers replaced by arbitrary values, sometimes all arbitrary. */
const requestArb: fc.Arbitrary<HandshakeRequest> = fc.record(
  {
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constant('GET') },
      { weight: 1, arbitrary: fc.constantFrom('POST', 'get', '') },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    ),
    httpVersion: fc.oneof(
      { weight: 8, arbitrary: fc.constant('1.1') },
      { weight: 1, arbitrary: fc.constantFrom('1.0', '2.0', '2', '1', '1.1.1', '', 'x.y', '-1.5', '1.1 ') },
      { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
    ),
    headers: fc
      .tuple(
        fc.dictionary(
          fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
          headerValue,
          { maxKeys: 4 },
        ),
        fc.boolean(),
      )
      .map(([random, startGood]) =>
        startGood
          ? {
              host: 'example.com',
              upgrade: 'websocket',
              connection: 'Upgrade',
              'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
              'sec-websocket-version': '13',
              ...random,
            }
          : random,
      ),
    rawHeaders: fc.array(fc.oneof(fc.constantFrom(...NAMES, 'Host', 'Sec-WebSocket-Key'), fc.string({ maxLength: 10 })), { maxLength: 6 }),
  },
  { requiredKeys: ['method', 'httpVersion', 'headers'] },
);

const SERVER_STATUSES = new Set([400, 405, 426, 505]);

function decodesTo16Bytes(key: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key, 'base64').length === 16 && Buffer.from(key, 'base64').toString('base64') === key;
}

describe('validateRequest on arbitrary requests', () => {
  it('never throws and returns a result or a HandshakeError with the status of its HANDSHAKE_ERRORS row', () => {
    assertProperty(
      fc.property(requestArb, (request) => {
        let result: ReturnType<typeof validateRequest>;
        assert.doesNotThrow(() => {
          result = validateRequest(request);
        });
        if (result! instanceof HandshakeError) {
          assert.ok(result.code in HANDSHAKE_ERRORS, `undocumented code ${result.code}`);
          assert.equal(result.status, HANDSHAKE_ERRORS[result.code as keyof typeof HANDSHAKE_ERRORS].status);
          assert.ok(SERVER_STATUSES.has(result.status), `status ${result.status}`);
          if (request.method !== 'GET') assert.equal(result.status, 405);
        } else {
          assert.equal(request.method, 'GET');
          assert.ok(decodesTo16Bytes(result!.key), `accepted key ${JSON.stringify(result!.key)}`);
          assert.ok(result!.protocols.every(isToken));
          assert.equal(new Set(result!.protocols).size, result!.protocols.length);
          assert.ok(result!.extensions.every((e) => isToken(e.name) && e.params.every(([k, v]) => isToken(k) && (v === true || isToken(v)))));
        }
      }),
      runs(3000),
    );
  });

  it('accepts every well-formed request, however its token lists are decorated', () => {
    const space = fc.constantFrom('', ' ', '\t', '  ');
    const listAround = (token: string) =>
      fc
        .tuple(fc.array(fc.constantFrom('keep-alive', 'foo', 'h2c', ''), { maxLength: 3 }), fc.nat(), space, fc.boolean())
        .map(([others, at, sp, upper]) => {
          const list: string[] = [...others];
          list.splice(at % (list.length + 1), 0, upper ? token.toUpperCase() : token);
          return list.map((t) => sp + t + sp).join(',');
        });
    assertProperty(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        listAround('websocket'),
        listAround('upgrade'),
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}$/), { maxLength: 4 }),
        (random, upgrade, connection, protocols) => {
          const key = generateKey(random);
          const headers: Record<string, HeaderValue> = { host: 'h:1', upgrade, connection, 'sec-websocket-key': key, 'sec-websocket-version': '13' };
          if (protocols.length > 0) headers['sec-websocket-protocol'] = protocols.join(', ');
          const result = validateRequest({ method: 'GET', httpVersion: '1.1', headers });
          assert.ok(!(result instanceof HandshakeError), `rejected: ${(result as HandshakeError).message}`);
          assert.equal(result.key, key);
          assert.deepEqual(result.protocols, protocols);
          assert.equal(acceptValue(key), createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64'));
        },
      ),
      runs(500),
    );
  });
});

describe('validateResponse on arbitrary answers', () => {
  it('never throws and fails only with client-side HandshakeErrors (status 0)', () => {
    const responseArb = fc.record({
      status: fc.oneof(fc.constant(101), fc.integer({ min: 100, max: 599 })),
      headers: fc.dictionary(
        fc.oneof(fc.constantFrom('upgrade', 'connection', 'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions'), fc.string({ maxLength: 8 })),
        fc.oneof(headerValue, fc.constant('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=')),
        { maxKeys: 6 },
      ),
    });
    const expectedArb = fc.record({
      key: fc.constant('dGhlIHNhbXBsZSBub25jZQ=='),
      protocols: fc.array(fc.constantFrom<string>('chat', 'superchat', 'v2'), { maxLength: 3 }),
      extensionNames: fc.array(fc.constantFrom<string>('permessage-deflate', 'x'), { maxLength: 2 }),
    });
    assertProperty(
      fc.property(responseArb, expectedArb, (response, expected) => {
        let result: ReturnType<typeof validateResponse>;
        assert.doesNotThrow(() => {
          result = validateResponse(response, expected);
        });
        if (result! instanceof HandshakeError) {
          assert.ok(result.code in HANDSHAKE_ERRORS);
          assert.equal(result.status, 0);
        } else {
          assert.equal(response.status, 101);
          assert.ok(result!.protocol === '' || expected.protocols.includes(result!.protocol));
          assert.ok(result!.extensions.every((e) => expected.extensionNames.includes(e.name)));
        }
      }),
      runs(2000),
    );
  });
});

describe('parseExtensions on arbitrary strings', () => {
  it('never throws, and what it parses formats back to the same offers', () => {
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.array(pieces, { maxLength: 12 }).map((p) => p.join('')));
    assertProperty(
      fc.property(text, (value) => {
        let offers: ReturnType<typeof parseExtensions> = null;
        assert.doesNotThrow(() => {
          offers = parseExtensions(value);
        });
        if (offers !== null) assert.deepEqual(parseExtensions(formatExtensions(offers)), offers);
      }),
      runs(3000),
    );
  });
});
