/**
 * The load generator's protocols above WebSocket (src/loadgen/wires.ts) and the counter that
 * counts their deliveries unread (src/loadgen/frames.ts, MessageCounter.match): what it
 * counts must be exactly the publications, whatever the reads' boundaries, and what it sends
 * must be what each protocol's specification says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serialize } from '../../../src/realtime/protocol.js';
import { MessageCounter, makePayloads } from '../../../src/loadgen/frames.js';
import { WIRES } from '../../../src/loadgen/wires.js';
import { clientFrame, concat, serverFrame, splitAt, utf8, text, OP } from '../../support/frames.js';
import { decodeFrames } from '../protocol/wire.js';

const NO_DATA = Buffer.alloc(0);

const CHANNEL = 'room:bench';
const textFrame = (message: string): Uint8Array => serverFrame({ opcode: OP.TEXT, payload: utf8(message) });

/** Pushes the chunks through a fresh counter; returns what it counted and what it handed over. */
function count(match: Buffer | null, chunks: Uint8Array[], isDelivery = (_: string) => false): { counted: number; others: string[]; controls: number[] } {
  const others: string[] = [];
  const controls: number[] = [];
  const counter = new MessageCounter(
    (opcode: number) => controls.push(opcode),
    (payload: Buffer) => {
      const message = payload.toString();
      others.push(message);
      return isDelivery(message);
    },
  );
  counter.match = match;
  let counted = 0;
  for (const chunk of chunks) counted += counter.push(Buffer.from(chunk));
  return { counted, others, controls };
}

/** The one message a client frame carries, unmasked (decodeFrames also checks the framing). */
function sentText(frame: Buffer): string {
  const frames = decodeFrames(frame);
  assert.equal(frames.length, 1);
  assert.ok(frames[0]!.masked, 'a client frame is masked (RFC 6455 §5.3)');
  assert.equal(frames[0]!.opcode, OP.TEXT);
  return text(frames[0]!.payload);
}

test('the counter counts the messages that start with the delivery prefix and hands every other one over whole', () => {
  const pub = (offset: number) => serialize({ type: 'pub', channel: CHANNEL, offset: String(offset), epoch: 'e1', data: { text: 'hi' } });
  const stream = concat([
    textFrame(pub(1)),
    textFrame('{"type":"reply","id":10,"result":{"offset":"1","epoch":"e1"}}'),
    serverFrame({ opcode: OP.PING, payload: utf8('p') }),
    textFrame(pub(2)),
    textFrame('{}'),
  ]);
  const match = WIRES.fdx.delivery(CHANNEL, NO_DATA);
  const whole = count(match, [stream]);
  assert.equal(whole.counted, 2);
  assert.deepEqual(whole.others, ['{"type":"reply","id":10,"result":{"offset":"1","epoch":"e1"}}', '{}']);
  assert.deepEqual(whole.controls, [OP.PING]);
  // Every split of the stream into two reads gives the same, and so do reads of one byte.
  for (let cut = 1; cut < stream.length; cut++) {
    assert.deepEqual(count(match, splitAt(stream, [cut])), whole, `split at ${cut}`);
  }
  assert.deepEqual(count(match, splitAt(stream, Array.from(stream, (_, i) => i))), whole);
});

test('the counter counts a message handed over when the wire recognises it as a delivery after all', () => {
  const reordered = '{"channel":"room:bench","type":"pub","offset":"1","epoch":"e1","data":null}';
  const result = count(WIRES.fdx.delivery(CHANNEL, NO_DATA), [textFrame(reordered)], (message) => WIRES.fdx.other(message, CHANNEL) === 'delivery');
  assert.equal(result.counted, 1);
  assert.deepEqual(result.others, [reordered]);
});

test('without a prefix the counter counts every data message, as the WebSocket scenarios need', () => {
  const result = count(null, [concat([textFrame('a'), textFrame('{"type":"reply"}'), serverFrame({ opcode: OP.BINARY, payload: new Uint8Array(300) })])]);
  assert.equal(result.counted, 3);
  assert.deepEqual(result.others, []);
});

test('masked frames from the server are protocol errors, unless the server is a byte echo that sends the client frames back', () => {
  // A byte echo's replies: the client's own masked frames, one long enough for a 16-bit length.
  const stream = concat([clientFrame({ opcode: OP.TEXT, payload: utf8('a') }), clientFrame({ opcode: OP.BINARY, payload: new Uint8Array(300) })]);
  for (const expected of [false, true]) {
    const counter = new MessageCounter(() => {});
    counter.maskedExpected = expected;
    let counted = 0;
    // Reads of one byte: the masking key is stepped over across reads too.
    for (const chunk of splitAt(stream, Array.from(stream, (_, i) => i))) counted += counter.push(Buffer.from(chunk));
    assert.equal(counted, 2, `maskedExpected ${expected}`);
    assert.equal(counter.payloadBytes, 301);
    assert.equal(counter.protocolErrors, expected ? 0 : 2);
  }
});

test('fdx.v1: the delivery prefix is how the real-time server serializes a pub message', () => {
  const message = serialize({ type: 'pub', channel: CHANNEL, offset: '42', epoch: 'k2x9', data: { text: 'hello' } });
  assert.ok(message.startsWith(WIRES.fdx.delivery(CHANNEL, NO_DATA).toString()), message);
});

test('fdx.v1: the session connects and subscribes with the messages of docs/protocol.md and fails on an error reply', async () => {
  const sent: string[] = [];
  const replies = ['{"type":"reply","id":1,"result":{"client":"c1","pingIntervalMs":25000}}', '{"type":"reply","id":2,"result":{"recovered":true}}'];
  await WIRES.fdx.open({ send: (m: string) => sent.push(m), next: async () => replies.shift()! }, { channel: CHANNEL, subscribe: true });
  assert.deepEqual(sent.map((m) => JSON.parse(m)), [
    { type: 'connect', id: 1 },
    { type: 'subscribe', id: 2, channel: CHANNEL },
  ]);

  const publisherSent: string[] = [];
  await WIRES.fdx.open({ send: (m: string) => publisherSent.push(m), next: async () => '{"type":"reply","id":1,"result":{}}' }, { channel: CHANNEL, subscribe: false });
  assert.deepEqual(publisherSent, ['{"type":"connect","id":1}']);

  const refused = ['{"type":"reply","id":1,"result":{}}', '{"type":"reply","id":2,"error":{"code":"CHANNEL_FORBIDDEN"}}'];
  await assert.rejects(WIRES.fdx.open({ send: () => {}, next: async () => refused.shift()! }, { channel: CHANNEL, subscribe: true }), /subscribe refused: CHANNEL_FORBIDDEN/);
});

test('fdx.v1: a publication is a masked publish request with its own id; error replies are reported', () => {
  const [data] = makePayloads({ type: 'chat', size: 32 });
  assert.equal(data.length, 32);
  const first = JSON.parse(sentText(WIRES.fdx.publish(CHANNEL, data, 0)));
  const second = JSON.parse(sentText(WIRES.fdx.publish(CHANNEL, data, 1)));
  assert.equal(first.type, 'publish');
  assert.equal(first.channel, CHANNEL);
  assert.deepEqual(first.data, JSON.parse(data.toString()));
  assert.notEqual(first.id, second.id);
  assert.equal(WIRES.fdx.other('{"type":"reply","id":10,"result":{"offset":"1","epoch":"e"}}', CHANNEL), 'reply');
  assert.match(WIRES.fdx.other('{"type":"reply","id":10,"error":{"code":"RATE_LIMITED","message":"slow down"}}', CHANNEL), /RATE_LIMITED/);
  assert.match(WIRES.fdx.other('{"type":"drain"}', CHANNEL), /unexpected/);
});

test('socket.io: the session opens engine.io, connects to "/" and joins the room with an acked event', async () => {
  const sent: string[] = [];
  const incoming = ['0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}', '40{"sid":"n1"}', '431[]'];
  await WIRES.socketio.open({ send: (m: string) => sent.push(m), next: async () => incoming.shift()! }, { channel: CHANNEL, subscribe: true });
  assert.deepEqual(sent, ['40', `421["subscribe","${CHANNEL}"]`]);
  await assert.rejects(
    WIRES.socketio.open({ send: () => {}, next: async () => '44{"message":"nope"}' }, { channel: CHANNEL, subscribe: true }),
    /expected the open packet/,
  );
});

test('socket.io: engine.io pings are answered with pongs and never counted; acks and room events are told apart', () => {
  const pongs: string[] = [];
  const send = (m: string) => pongs.push(m);
  assert.equal(WIRES.socketio.other('2', CHANNEL, send), 'keepalive');
  assert.deepEqual(pongs, ['3']);
  assert.equal(WIRES.socketio.other('4310[]', CHANNEL, send), 'reply');
  assert.equal(WIRES.socketio.other(`42["pub","${CHANNEL}",{"text":"x"}]`, CHANNEL, send), 'delivery');
  assert.match(WIRES.socketio.other('42["other",1]', CHANNEL, send), /unexpected/);

  const match = WIRES.socketio.delivery(CHANNEL, NO_DATA);
  const stream = concat([textFrame('2'), textFrame(`42["pub","${CHANNEL}",{"text":"x"}]`), textFrame('4311[]')]);
  assert.deepEqual(count(match, [stream]), { counted: 1, others: ['2', '4311[]'], controls: [] });
  assert.deepEqual(JSON.parse(sentText(WIRES.socketio.publish(CHANNEL, Buffer.from('{"text":"x"}'), 0)).replace(/^42\d+/, '')), ['publish', CHANNEL, { text: 'x' }]);
});

test('topics: the session subscribes with one message, and a delivery is the published data itself', async () => {
  const sent: string[] = [];
  await WIRES.topics.open({ send: (m: string) => sent.push(m), next: async () => 'subscribed' }, { channel: CHANNEL, subscribe: true });
  assert.deepEqual(sent, ['subscribe']);
  const data = Buffer.from('{"text":"abc"}');
  assert.equal(sentText(WIRES.topics.publish(CHANNEL, data, 0)), '{"text":"abc"}');
  assert.deepEqual(count(WIRES.topics.delivery(CHANNEL, data), [concat([textFrame('{"text":"abc"}'), textFrame('subscribed')])]), {
    counted: 1,
    others: ['subscribed'],
    controls: [],
  });
});
