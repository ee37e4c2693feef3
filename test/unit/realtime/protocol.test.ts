/**
 * fdx.v1 messages (docs/protocol.md): the parser turns any input into a message or a stable
 * error code and never throws; the serializer round-trips every message.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { BINARY_TYPES, CLOSE_CODES, ERROR_CODES, channelProblem, frameBinary, parseBinary, parseBinaryMessage, parseMessage, serialize, shouldReconnect, type Message } from '../../../src/realtime/protocol.js';

function code(input: unknown): string {
  const result = parseMessage(input);
  return result.ok ? 'ok' : result.code;
}

describe('fdx.v1 protocol', () => {
  it('parses every example message of docs/protocol.md', () => {
    const examples = [
      '{"type":"connect","id":1,"token":"eyJhbGciOi...","data":{"tab":"a1"}}',
      '{"type":"subscribe","id":3,"channel":"room:42","since":{"offset":"17","epoch":"k2x9"}}',
      '{"type":"unsubscribe","id":4,"channel":"room:42"}',
      '{"type":"publish","id":5,"channel":"room:42","data":{"text":"hello"},"key":"q8Zr2m0c9Kx1Lw7e"}',
      '{"type":"event","id":8,"event":"chat:send","data":{"text":"hi"},"key":"Pq1w8E3r5T7y9U0i"}',
      '{"type":"event","event":"chat:typing","data":{"room":"42"}}',
      '{"type":"reply","id":7,"result":{"ok":true}}',
      '{"type":"reply","id":7,"error":{"code":"CHANNEL_FORBIDDEN","message":"not allowed"}}',
      '{"type":"pub","channel":"room:42","offset":"21","epoch":"k2x9","data":{"text":"hello"}}',
      '{"type":"join","channel":"user:ada","position":{"offset":"3","epoch":"k2x9"}}',
      '{"type":"leave","channel":"room:42","reason":"kicked"}',
      '{"type":"drain"}',
      '{"type":"error","code":"BAD_JSON","message":"not a JSON text"}',
      '{"type":"ping"}',
      '{"type":"pong"}',
      '{"type":"set-presence","id":9,"channel":"room:42","meta":{"typing":true}}',
      '{"type":"presence","channel":"room:42","count":2,"members":{"ada":{"meta":{"name":"Ada"},"connections":2},"bob":{"meta":null,"connections":1}}}',
      '{"type":"presence","channel":"room:42","count":1,"join":{"cy":{"meta":null,"connections":1}},"leave":["bob","dee"]}',
      '{"type":"presence","channel":"stadium","count":48210}',
    ];
    for (const text of examples) {
      const result = parseMessage(text);
      assert.ok(result.ok, text);
      assert.deepEqual(parseMessage(serialize(result.message)), result, text);
    }
  });

  it('parses every JSON example of docs/protocol.md, and each survives a round trip', () => {
    const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const lines = blocks.flatMap((block) => block.split('\n').filter((line) => line.trim() !== ''));
    const session = doc.slice(doc.indexOf('## 10.')).split('\n').filter((line) => /^[<>] \{/.test(line)).map((line) => line.slice(2));
    assert.ok(lines.length >= 20 && session.length >= 10);
    for (const text of [...lines, ...session]) {
      const result = parseMessage(text);
      assert.ok(result.ok, `${text}: ${!result.ok && result.reason}`);
      assert.deepEqual(parseMessage(serialize(result.message)), result, text);
    }
  });

  it('documents the binary frame types of the code in docs/protocol.md, and no other', () => {
    const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Binary frames'), doc.indexOf('## 2.'));
    const documented = Object.fromEntries([...section.matchAll(/^\| `([a-z-]+)` \| ([a-z ]+) \|$/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual(documented, BINARY_TYPES);
  });

  it('parses the binary examples of docs/protocol.md, and frames each again to the same bytes', () => {
    const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
    const lines = [...doc.matchAll(/```binary\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n').filter((line) => line.trim() !== ''));
    assert.equal(lines.length, 2);
    const messages = lines.map((line) => {
      const frame = Uint8Array.from(line.split(' '), (byte) => parseInt(byte, 16));
      const parsed = parseBinary(frame);
      assert.ok(parsed.ok, line);
      const { data, ...header } = parsed.message as Message & { data: Uint8Array };
      const defined = Object.fromEntries(Object.entries(header).filter(([, v]) => v !== undefined));
      assert.deepEqual(frameBinary(defined, data), frame);
      return { ...defined, data: [...data] };
    });
    assert.deepEqual(messages, [
      { type: 'pub', channel: 'arena', offset: '22', epoch: 'k2x9', data: [1, 2, 255] },
      { type: 'publish', id: 8, channel: 'arena', data: [0, 42] },
    ]);
  });

  it('turns any binary frame into a message or BAD_MESSAGE / CHANNEL_INVALID, never throwing; framed messages come back whole', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (frame) => {
        const parsed = parseBinaryMessage(frame);
        assert.ok(parsed.ok || parsed.code === 'BAD_MESSAGE' || parsed.code === 'CHANNEL_INVALID');
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ minLength: 1, maxLength: 64 }), (data, epoch) => {
        const parsed = parseBinary(frameBinary({ type: 'pub', channel: 'c', offset: '1', epoch }, data));
        assert.deepEqual(parsed, { ok: true, message: { type: 'pub', channel: 'c', offset: '1', epoch, data } });
      }),
    );
    assert.equal((parseBinaryMessage(frameBinary({ type: 'event', event: 'x' }, new Uint8Array(1))) as { code: string }).code, 'BAD_MESSAGE');
    assert.deepEqual(parseBinaryMessage(frameBinary({ type: 'subscribe', id: 3, channel: 'c' }, new Uint8Array(0))), { ok: false, code: 'BAD_MESSAGE', reason: '"subscribe" is not sent in a binary frame', id: 3 });
  });

  it('documents every error code and close code in docs/protocol.md, and no other', () => {
    const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
    const errors = doc.slice(doc.indexOf('## 6.'), doc.indexOf('## 7.'));
    const documented = [...errors.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual([...documented].sort(), [...ERROR_CODES].sort());
    const closes = doc.slice(doc.indexOf('## 8.'), doc.indexOf('## 9.'));
    const codes = new Set([...closes.matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1])));
    for (const code of Object.values(CLOSE_CODES)) assert.ok(codes.has(code), `close code ${code} documented`);
  });

  it('answers ill-formed presence messages with BAD_MESSAGE or CHANNEL_INVALID', () => {
    assert.equal(code('{"type":"set-presence","channel":"room:1","meta":1}'), 'BAD_MESSAGE', 'no id');
    assert.equal(code('{"type":"set-presence","id":1,"channel":"no spaces","meta":1}'), 'CHANNEL_INVALID');
    assert.deepEqual(parseMessage('{"type":"set-presence","id":1,"channel":"room:1"}'), { ok: true, message: { type: 'set-presence', id: 1, channel: 'room:1', meta: null } });
    for (const bad of [
      '{"type":"presence","channel":"room:1"}',
      '{"type":"presence","channel":"room:1","count":-1}',
      '{"type":"presence","channel":"room:1","count":1.5}',
      '{"type":"presence","channel":"room:1","count":1,"members":[]}',
      '{"type":"presence","channel":"room:1","count":1,"join":{"ada":{"meta":null,"connections":0}}}',
      '{"type":"presence","channel":"room:1","count":1,"update":{"ada":null}}',
      '{"type":"presence","channel":"room:1","count":1,"leave":"ada"}',
      '{"type":"presence","channel":"room:1","count":1,"leave":[1]}',
    ]) {
      assert.equal(code(bad), 'BAD_MESSAGE', bad);
    }
  });

  it('answers non-JSON with BAD_JSON and non-objects with BAD_MESSAGE', () => {
    assert.equal(code('{"type":'), 'BAD_JSON');
    assert.equal(code('[1,2]'), 'BAD_MESSAGE');
    assert.equal(code('null'), 'BAD_MESSAGE');
    assert.equal(code('"connect"'), 'BAD_MESSAGE');
    assert.equal(code(new Uint8Array(3)), 'BAD_MESSAGE');
  });

  it('keeps the id of a bad request so that the error can be a reply', () => {
    const result = parseMessage('{"type":"subscribe","id":9,"channel":"bad name"}');
    assert.deepEqual(result, { ok: false, code: 'CHANNEL_INVALID', reason: channelProblem('bad name'), id: 9 });
    const unknown = parseMessage('{"type":"frobnicate","id":"x1"}');
    assert.equal(unknown.ok, false);
    assert.equal(!unknown.ok && unknown.id, 'x1');
  });

  it('requires an id on requests and rejects bad ids', () => {
    assert.equal(code('{"type":"connect"}'), 'BAD_MESSAGE');
    assert.equal(code('{"type":"publish","channel":"a","data":1}'), 'BAD_MESSAGE');
    assert.equal(code('{"type":"connect","id":-1}'), 'BAD_MESSAGE');
    assert.equal(code('{"type":"connect","id":1.5}'), 'BAD_MESSAGE');
    assert.equal(code(`{"type":"connect","id":"${'x'.repeat(65)}"}`), 'BAD_MESSAGE');
    assert.equal(code('{"type":"connect","id":"abc"}'), 'ok');
  });

  it('validates channel names by length and charset', () => {
    assert.equal(channelProblem('room:42/a.b@c=d+e,f~g_h-i'), '');
    assert.notEqual(channelProblem(''), '');
    assert.notEqual(channelProblem('a'.repeat(201)), '');
    assert.equal(channelProblem('a'.repeat(200)), '');
    assert.notEqual(channelProblem('héllo'), '');
    assert.notEqual(channelProblem('a b'), '');
    assert.notEqual(channelProblem(42), '');
  });

  it('checks positions, keys, events and reply errors', () => {
    assert.equal(code('{"type":"subscribe","id":1,"channel":"a","since":{"offset":1,"epoch":"e"}}'), 'BAD_MESSAGE');
    assert.equal(code('{"type":"subscribe","id":1,"channel":"a","since":null}'), 'BAD_MESSAGE');
    assert.equal(code('{"type":"publish","id":1,"channel":"a","key":""}'), 'BAD_MESSAGE');
    assert.equal(code('{"type":"event","event":""}'), 'BAD_MESSAGE');
    assert.equal(code('{"type":"reply","id":1,"error":{"message":"x"}}'), 'BAD_MESSAGE');
    assert.equal(code('{"type":"reply","result":1}'), 'BAD_MESSAGE');
  });

  it('takes a session of 1-256 characters in connect and answers any other with BAD_MESSAGE', () => {
    const parsed = parseMessage('{"type":"connect","id":1,"session":"s3f9"}');
    assert.ok(parsed.ok && parsed.message.type === 'connect' && parsed.message.session === 's3f9');
    for (const session of ['""', '7', 'null', JSON.stringify('x'.repeat(257))]) {
      assert.equal(code(`{"type":"connect","id":1,"session":${session}}`), 'BAD_MESSAGE', session);
    }
  });

  it('fills a missing data with null and ignores unknown fields', () => {
    const result = parseMessage('{"type":"publish","id":1,"channel":"a","extra":[1]}');
    assert.deepEqual(result, { ok: true, message: { type: 'publish', id: 1, channel: 'a', data: null, key: undefined } });
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.anything()), (input) => {
        const result = parseMessage(input);
        assert.equal(typeof result.ok, 'boolean');
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.record({ type: fc.constantFrom('connect', 'subscribe', 'publish', 'event', 'reply', 'pub', 'join', 'leave', 'error'), id: fc.anything(), channel: fc.anything(), since: fc.anything(), data: fc.anything(), error: fc.anything(), position: fc.anything(), event: fc.anything(), key: fc.anything(), token: fc.anything() }, { requiredKeys: ['type'] }), (input) => {
        parseMessage(input);
        parseMessage(JSON.stringify(input) ?? '');
      }),
      { numRuns: 2000 },
    );
  });

  it('serializes with plain JSON and no JSON inside strings', () => {
    const message: Message = { type: 'pub', channel: 'a', offset: '1', epoch: 'e', data: { text: 'x' } };
    assert.equal(serialize(message), '{"type":"pub","channel":"a","offset":"1","epoch":"e","data":{"text":"x"}}');
  });

  it('tells which close codes call for a reconnect', () => {
    for (const c of [1000, 1001, 1006, 1008, 1009, 1012, 4000, 4001, 4499]) assert.equal(shouldReconnect(c), true, String(c));
    for (const c of [4500, 4501, 4502, 4999]) assert.equal(shouldReconnect(c), false, String(c));
  });
});
