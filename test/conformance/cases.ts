/**
 * The conformance cases, written once as data and run by three runners: the pure core in memory
 * (both sides), our server over loopback, and our client over loopback.
 *
 * A case is what the peer sends (frames, field by field, possibly malformed, possibly cut off)
 * and what the endpoint under test must do: the messages it delivers, the pongs it sends, and
 * how the connection ends (it fails with a close code, or answers the peer's close frame).
 *
 * Ids of the form N.N(.N) follow the numbering of the Autobahn TestSuite: the case is modelled on
 * the Autobahn case of that number (the same sequence of frames and the same expected outcome;
 * payloads are this suite's own). In the UTF-8 groups 6.5 to 6.23 the group number is Autobahn's
 * and the last number is this suite's own. Ids starting with "fd." are cases of this suite,
 * numbered by RFC 6455 section.
 *
 * Unless a case is cut off or already ends with a close frame, the peer ends it with a close
 * frame carrying 1000: an endpoint that fails to notice a violation then answers that close
 * instead of failing, and the case fails at once rather than timing out.
 */

export interface CaseFrame {
  opcode: number;
  /** Default true. */
  fin?: boolean;
  /** RSV1-RSV3 as one 3-bit number, Autobahn style: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
  rsv?: number;
  payload?: Uint8Array;
  /** Forces the payload length encoding (RFC 6455 §5.2); default the minimal one. */
  lengthForm?: 7 | 16 | 64;
  /** Declares this length instead of the payload's real one (a truncated or oversized frame). */
  declaredLength?: bigint;
  /** Sent with the wrong masking for the peer: a client frame unmasked, a server frame masked. */
  wrongMask?: boolean;
  /** Masking key of a client frame (default: one of four keys, in turn). */
  maskingKey?: Uint8Array;
}

export interface Delivery {
  /** How the bytes are cut into writes: all at once, one write per frame, one per byte, or fixed-size chunks. */
  split: 'whole' | 'frames' | 'bytes' | number;
  /** Pause between writes over loopback, so the pieces arrive separately. Not a timing assertion. */
  delayMs?: number;
}

export type Runner = 'memory' | 'server' | 'client';

export interface Message {
  binary: boolean;
  data: Uint8Array;
}

export type CloseExpectation =
  /** The endpoint fails the connection (RFC 6455 §7.1.7) and its close frame carries this code. */
  | { fail: number }
  /** The peer's close frame is answered: `code` null means an empty close frame (no code). */
  | { code: number | null; reason?: Uint8Array };

export interface Expectation {
  /** Messages delivered to the application, in order, exact bytes. */
  messages?: Message[];
  /** Payloads of the pongs the endpoint sends, in order. */
  pongs?: Uint8Array[];
  close: CloseExpectation;
}

export interface Case {
  id: string;
  /** RFC 6455 section of the rule. */
  section: string;
  /** The behaviour, as a sentence: also the test name. */
  title: string;
  frames: CaseFrame[];
  /** The peer sends frames before `frame`, then only the header and `payloadBytes` of `frame`, then nothing more. */
  cutOff?: { frame: number; payloadBytes?: number };
  /** How the loopback runners write the bytes (the in-memory runner tries several splits anyway). */
  delivery?: Delivery;
  /** Endpoint options (the same on Connection, WebSocketServer and the client). */
  options?: { maxPayload?: number; maxFragments?: number };
  expect: Expectation;
  /** Runners the case does not apply to, each with the reason. */
  notFor?: Partial<Record<Runner, string>>;
}

// ------------------------------------------------------------------ builders

const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function hexBytes(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const asBytes = (p: string | Uint8Array): Uint8Array => (typeof p === 'string' ? utf8(p) : p);

/** `n` bytes of printable ASCII in a fixed pattern (valid UTF-8). */
export function asciiFill(n: number): Uint8Array {
  const pattern = utf8('fullduplex*conformance-');
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = pattern[i % pattern.length]!;
  return out;
}

/** `n` bytes covering all byte values (not valid UTF-8 from 0x80 on). */
export function byteFill(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

const text = (p: string | Uint8Array, more: Partial<CaseFrame> = {}): CaseFrame => ({ opcode: OP.TEXT, payload: asBytes(p), ...more });
const binary = (p: Uint8Array, more: Partial<CaseFrame> = {}): CaseFrame => ({ opcode: OP.BINARY, payload: p, ...more });
const cont = (p: string | Uint8Array, more: Partial<CaseFrame> = {}): CaseFrame => ({ opcode: OP.CONT, payload: asBytes(p), ...more });
const ping = (p: string | Uint8Array = '', more: Partial<CaseFrame> = {}): CaseFrame => ({ opcode: OP.PING, payload: asBytes(p), ...more });
const pong = (p: string | Uint8Array = '', more: Partial<CaseFrame> = {}): CaseFrame => ({ opcode: OP.PONG, payload: asBytes(p), ...more });
const raw = (opcode: number, p: string | Uint8Array = '', more: Partial<CaseFrame> = {}): CaseFrame => ({ opcode, payload: asBytes(p), ...more });

function closePayload(code: number, reason: string | Uint8Array = ''): Uint8Array {
  const r = asBytes(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}
const close = (code?: number, reason: string | Uint8Array = '', more: Partial<CaseFrame> = {}): CaseFrame => ({
  opcode: OP.CLOSE,
  payload: code === undefined ? new Uint8Array(0) : closePayload(code, reason),
  ...more,
});

/** A message split into fragments: first frame with the message opcode, the rest continuations. */
function fragments(opcode: number, parts: Array<string | Uint8Array>): CaseFrame[] {
  return parts.map((p, i) => ({ opcode: i === 0 ? opcode : OP.CONT, fin: i === parts.length - 1, payload: asBytes(p) }));
}

function chop(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out.length > 0 ? out : [bytes];
}

const T = (p: string | Uint8Array): Message => ({ binary: false, data: asBytes(p) });
const B = (p: Uint8Array): Message => ({ binary: true, data: p });
const fail = (code: number): CloseExpectation => ({ fail: code });
const echo = (code: number | null, reason: string | Uint8Array = ''): CloseExpectation => ({ code, reason: asBytes(reason) });

const NORMAL = echo(1000);

const cases: Case[] = [];
function add(c: Omit<Case, 'expect'> & { expect?: Partial<Expectation> }): void {
  const frames = [...c.frames];
  if (!c.cutOff && frames[frames.length - 1]?.opcode !== OP.CLOSE) frames.push(close(1000));
  cases.push({ ...c, frames, expect: { messages: [], pongs: [], close: NORMAL, ...c.expect } });
}

// ------------------------------------------------------------------ §5.2, §5.6 framing and data frames (Autobahn 1.x)

const SIZES: Array<[string, number]> = [
  ['1', 0],
  ['2', 125],
  ['3', 126],
  ['4', 127],
  ['5', 128],
  ['6', 65535],
  ['7', 65536],
];
for (const [n, size] of SIZES) {
  const form = size < 126 ? '7-bit' : size < 65536 ? '16-bit' : '64-bit';
  const payload = asciiFill(size);
  add({
    id: `1.1.${n}`,
    section: '§5.2',
    title: `delivers a text message of ${size} bytes (${form} length)`,
    frames: [text(payload)],
    expect: { messages: [T(payload)] },
  });
}
add({
  id: '1.1.8',
  section: '§5.2',
  title: 'delivers a text message of 65536 bytes that arrives in chunks of 997 bytes',
  frames: [text(asciiFill(65536))],
  delivery: { split: 997 },
  expect: { messages: [T(asciiFill(65536))] },
});
for (const [n, size] of SIZES) {
  const form = size < 126 ? '7-bit' : size < 65536 ? '16-bit' : '64-bit';
  const payload = byteFill(size);
  add({
    id: `1.2.${n}`,
    section: '§5.6',
    title: `delivers a binary message of ${size} bytes (${form} length), any byte values`,
    frames: [binary(payload)],
    expect: { messages: [B(payload)] },
  });
}
add({
  id: '1.2.8',
  section: '§5.2',
  title: 'delivers a binary message of 65536 bytes that arrives in chunks of 997 bytes',
  frames: [binary(byteFill(65536))],
  delivery: { split: 997 },
  expect: { messages: [B(byteFill(65536))] },
});
add({
  id: 'fd.5.2.1',
  section: '§5.2',
  title: 'delivers messages whose frame headers arrive one byte at a time',
  frames: [text('head'), binary(byteFill(200)), text(asciiFill(300))],
  delivery: { split: 'bytes' },
  expect: { messages: [T('head'), B(byteFill(200)), T(asciiFill(300))] },
});
add({
  id: 'fd.5.2.2',
  section: '§5.2',
  title: 'fails with 1002 when a 16-bit length encodes 125 (the minimal encoding is required)',
  frames: [text(asciiFill(125), { lengthForm: 16 })],
  expect: { close: fail(1002) },
});
add({
  id: 'fd.5.2.3',
  section: '§5.2',
  title: 'fails with 1002 when a 64-bit length encodes 65535 (the minimal encoding is required)',
  frames: [binary(byteFill(65535), { lengthForm: 64 })],
  expect: { close: fail(1002) },
});
add({
  id: 'fd.5.2.4',
  section: '§5.2',
  title: 'fails with 1002 when a 64-bit length encodes 0 (the minimal encoding is required)',
  frames: [binary(new Uint8Array(0), { lengthForm: 64 })],
  expect: { close: fail(1002) },
});
add({
  id: 'fd.5.2.5',
  section: '§5.2',
  title: 'fails with 1002 on a 64-bit length with its most significant bit set, before any payload',
  frames: [binary(new Uint8Array(0), { lengthForm: 64, declaredLength: 0x8000_0000_0000_0010n })],
  cutOff: { frame: 0, payloadBytes: 0 },
  expect: { close: fail(1002) },
});
add({
  id: 'fd.5.2.6',
  section: '§5.2',
  title: 'delivers a message of empty frames: empty first frame, empty continuations',
  frames: fragments(OP.BINARY, [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)]),
  expect: { messages: [B(new Uint8Array(0))] },
});

// ------------------------------------------------------------------ §5.1, §5.3 masking

add({
  id: 'fd.5.1.1',
  section: '§5.1',
  title: 'fails with 1002 when a frame has the wrong masking (client frame unmasked, server frame masked)',
  frames: [text('masking is wrong', { wrongMask: true })],
  expect: { close: fail(1002) },
});
add({
  id: 'fd.5.1.2',
  section: '§5.1',
  title: 'fails with 1002 when a control frame has the wrong masking',
  frames: [text('ok'), ping('wrong mask', { wrongMask: true })],
  expect: { messages: [T('ok')], close: fail(1002) },
});
add({
  id: 'fd.5.1.3',
  section: '§5.1',
  title: 'fails with 1002 when one fragment of a message has the wrong masking',
  frames: [...fragments(OP.TEXT, ['frag', 'ment'])].map((f, i) => (i === 1 ? { ...f, wrongMask: true } : f)),
  expect: { close: fail(1002) },
});
const SERVER_SENDS_NO_KEY = 'server frames carry no masking key';
add({
  id: 'fd.5.3.1',
  section: '§5.3',
  title: 'unmasks a payload masked with the all-zero key',
  frames: [text('zero key', { maskingKey: Uint8Array.of(0, 0, 0, 0) })],
  expect: { messages: [T('zero key')] },
  notFor: { client: SERVER_SENDS_NO_KEY },
});
add({
  id: 'fd.5.3.2',
  section: '§5.3',
  title: 'unmasks each fragment with its own key, the key offset restarting at each frame',
  frames: [
    text('abc', { fin: false, maskingKey: Uint8Array.of(1, 2, 3, 4) }),
    cont('defgh', { fin: false, maskingKey: Uint8Array.of(0xf0, 0x0f, 0xaa, 0x55) }),
    cont('ijklmnopq', { maskingKey: Uint8Array.of(0xff, 0xff, 0xff, 0xff) }),
  ],
  expect: { messages: [T('abcdefghijklmnopq')] },
  notFor: { client: SERVER_SENDS_NO_KEY },
});
add({
  id: 'fd.5.3.3',
  section: '§5.3',
  title: 'unmasks a payload that arrives in 3-byte pieces (key offset kept across pieces)',
  frames: [binary(byteFill(301))],
  delivery: { split: 3 },
  expect: { messages: [B(byteFill(301))] },
  notFor: { client: SERVER_SENDS_NO_KEY },
});

// ------------------------------------------------------------------ §5.2 reserved bits (Autobahn 3.x)

add({
  id: '3.1',
  section: '§5.2',
  title: 'fails with 1002 on a text frame with RSV3 set (no extension negotiated)',
  frames: [text('Hello, world!', { rsv: 1 })],
  expect: { close: fail(1002) },
});
add({
  id: '3.2',
  section: '§5.2',
  title: 'delivers a text message, then fails with 1002 on one with RSV2 set, and never answers the ping after it',
  frames: [text('Hello, world!'), text('Hello, world!', { rsv: 2 }), ping()],
  expect: { messages: [T('Hello, world!')], close: fail(1002) },
});
add({
  id: '3.3',
  section: '§5.2',
  title: 'fails with 1002 on a text frame with RSV2 and RSV3 set, frames written one by one',
  frames: [text('Hello, world!'), text('Hello, world!', { rsv: 3 }), ping()],
  delivery: { split: 'frames', delayMs: 5 },
  expect: { messages: [T('Hello, world!')], close: fail(1002) },
});
add({
  id: '3.4',
  section: '§5.2',
  title: 'fails with 1002 on a text frame with RSV1 set when no extension was negotiated, bytes written one by one',
  frames: [text('Hello, world!'), text('Hello, world!', { rsv: 4 }), ping()],
  delivery: { split: 'bytes' },
  expect: { messages: [T('Hello, world!')], close: fail(1002) },
});
add({
  id: '3.5',
  section: '§5.2',
  title: 'fails with 1002 on a binary frame with RSV1 and RSV3 set',
  frames: [binary(byteFill(8), { rsv: 5 })],
  expect: { close: fail(1002) },
});
add({
  id: '3.6',
  section: '§5.2',
  title: 'fails with 1002 on a ping with RSV1 and RSV2 set, and does not answer it',
  frames: [ping('ping', { rsv: 6 })],
  expect: { close: fail(1002) },
});
add({
  id: '3.7',
  section: '§5.2',
  title: 'fails with 1002 on a close frame with all RSV bits set',
  frames: [close(1000, '', { rsv: 7 })],
  expect: { close: fail(1002) },
});

// ------------------------------------------------------------------ §5.2 opcodes (Autobahn 4.x)

for (const [id, opcode, withPayload, textFirst] of [
  ['4.1.1', 3, false, false],
  ['4.1.2', 4, true, false],
  ['4.1.3', 5, false, true],
  ['4.1.4', 6, true, true],
  ['4.1.5', 7, true, true],
  ['4.2.1', 11, false, false],
  ['4.2.2', 12, true, false],
  ['4.2.3', 13, false, true],
  ['4.2.4', 14, true, true],
  ['4.2.5', 15, true, true],
] as const) {
  const kind = opcode < 8 ? 'non-control' : 'control';
  const frames = [raw(opcode, withPayload ? 'reserved' : '')];
  if (textFirst) frames.unshift(text('Hello, world!'));
  if (textFirst) frames.push(ping());
  add({
    id,
    section: '§5.2',
    title: `fails with 1002 on reserved ${kind} opcode 0x${opcode.toString(16).toUpperCase()}${withPayload ? ' with a payload' : ''}${textFirst ? ', after delivering the message before it' : ''}`,
    frames,
    expect: { messages: textFirst ? [T('Hello, world!')] : [], close: fail(1002) },
  });
}

// ------------------------------------------------------------------ §5.4 fragmentation (Autobahn 5.x)

add({
  id: '5.1',
  section: '§5.4',
  title: 'fails with 1002 when a ping is fragmented',
  frames: [ping('fragment1', { fin: false }), cont('fragment2')],
  expect: { close: fail(1002) },
});
add({
  id: '5.2',
  section: '§5.4',
  title: 'fails with 1002 when a pong is fragmented',
  frames: [pong('fragment1', { fin: false }), cont('fragment2')],
  expect: { close: fail(1002) },
});
add({
  id: 'fd.5.4.1',
  section: '§5.4',
  title: 'fails with 1002 when a close frame is fragmented',
  frames: [close(1000, 'frag', { fin: false }), cont('ment')],
  expect: { close: fail(1002) },
});
for (const [id, delivery, how] of [
  ['5.3', { split: 'whole' }, 'arriving together'],
  ['5.4', { split: 'frames', delayMs: 5 }, 'written frame by frame'],
  ['5.5', { split: 'bytes' }, 'written byte by byte'],
] as const) {
  add({
    id,
    section: '§5.4',
    title: `reassembles a text message of 2 fragments, ${how}`,
    frames: fragments(OP.TEXT, ['fragment1', 'fragment2']),
    delivery,
    expect: { messages: [T('fragment1fragment2')] },
  });
}
for (const [id, delivery, how] of [
  ['5.6', { split: 'whole' }, 'arriving together'],
  ['5.7', { split: 'frames', delayMs: 5 }, 'written frame by frame'],
  ['5.8', { split: 'bytes' }, 'written byte by byte'],
] as const) {
  add({
    id,
    section: '§5.4',
    title: `answers a ping sent between two fragments at once and still reassembles the message, ${how}`,
    frames: [text('fragment1', { fin: false }), ping('ping payload'), cont('fragment2')],
    delivery,
    expect: { messages: [T('fragment1fragment2')], pongs: [utf8('ping payload')] },
  });
}
for (const [id, fin, delivery, how] of [
  ['5.9', true, { split: 'whole' }, 'arriving together'],
  ['5.10', true, { split: 'frames', delayMs: 5 }, 'written frame by frame'],
  ['5.11', true, { split: 'bytes' }, 'written byte by byte'],
  ['5.12', false, { split: 'whole' }, 'arriving together'],
  ['5.13', false, { split: 'frames', delayMs: 5 }, 'written frame by frame'],
  ['5.14', false, { split: 'bytes' }, 'written byte by byte'],
] as const) {
  add({
    id,
    section: '§5.4',
    title: `fails with 1002 on a continuation frame (FIN ${fin ? 1 : 0}) with no message to continue, ${how}`,
    frames: [cont('fragment1', { fin }), text('fragment2')],
    delivery,
    expect: { close: fail(1002) },
  });
}
add({
  id: '5.15',
  section: '§5.4',
  title: 'delivers a fragmented message, then fails with 1002 on a continuation frame that follows it',
  frames: [...fragments(OP.TEXT, ['fragment1', 'fragment2']), cont('fragment3', { fin: false }), text('fragment4')],
  expect: { messages: [T('fragment1fragment2')], close: fail(1002) },
});
for (const [id, fin] of [
  ['5.16', false],
  ['5.17', true],
] as const) {
  const round = [cont('fragment1', { fin }), ...fragments(OP.TEXT, ['fragment2', 'fragment3'])];
  add({
    id,
    section: '§5.4',
    title: `fails with 1002 at a leading continuation frame (FIN ${fin ? 1 : 0}) and delivers nothing after it`,
    frames: [...round, ...round],
    expect: { close: fail(1002) },
  });
}
add({
  id: '5.18',
  section: '§5.4',
  title: 'fails with 1002 when a new text frame starts while a fragmented message is open',
  frames: [text('fragment1', { fin: false }), text('fragment2')],
  expect: { close: fail(1002) },
});
add({
  id: 'fd.5.4.2',
  section: '§5.4',
  title: 'fails with 1002 when a binary frame starts while a fragmented text message is open',
  frames: [text('fragment1', { fin: false }), binary(byteFill(4))],
  expect: { close: fail(1002) },
});
for (const [id, delivery, how] of [
  ['5.19', { split: 'frames', delayMs: 5 }, 'written frame by frame'],
  ['5.20', { split: 'whole' }, 'arriving together'],
] as const) {
  add({
    id,
    section: '§5.4',
    title: `reassembles a text message of 5 fragments with pings after the 2nd and 4th, answering each, ${how}`,
    frames: [
      text('fragment1', { fin: false }),
      cont('fragment2', { fin: false }),
      ping('pongme 1!'),
      cont('fragment3', { fin: false }),
      cont('fragment4', { fin: false }),
      ping('pongme 2!'),
      cont('fragment5'),
    ],
    delivery,
    expect: { messages: [T('fragment1fragment2fragment3fragment4fragment5')], pongs: [utf8('pongme 1!'), utf8('pongme 2!')] },
  });
}
add({
  id: 'fd.5.4.3',
  section: '§5.4',
  title: 'reassembles a binary message of 3 fragments with an empty middle fragment and an unsolicited pong between',
  frames: [binary(byteFill(10), { fin: false }), cont(new Uint8Array(0), { fin: false }), pong('unsolicited'), cont(byteFill(3))],
  expect: { messages: [B(Uint8Array.of(...byteFill(10), ...byteFill(3)))] },
});
add({
  id: 'fd.5.4.4',
  section: '§5.4',
  title: 'keeps messages in order: a fragmented message, then an unfragmented one',
  frames: [...fragments(OP.BINARY, [byteFill(5), byteFill(6)]), text('second')],
  expect: { messages: [B(Uint8Array.of(...byteFill(5), ...byteFill(6))), T('second')] },
});
add({
  id: '10.1.1',
  section: '§5.4',
  title: 'reassembles a 65536-byte text message sent in fragments of 1300 bytes',
  frames: fragments(OP.TEXT, chop(asciiFill(65536), 1300)),
  expect: { messages: [T(asciiFill(65536))] },
});

// ------------------------------------------------------------------ §5.5.2, §5.5.3 pings and pongs (Autobahn 2.x)

add({
  id: '2.1',
  section: '§5.5.2',
  title: 'answers a ping without payload with an empty pong',
  frames: [ping()],
  expect: { pongs: [new Uint8Array(0)] },
});
add({
  id: '2.2',
  section: '§5.5.2',
  title: 'answers a ping with a text payload with a pong carrying the same bytes',
  frames: [ping('Hello, world!')],
  expect: { pongs: [utf8('Hello, world!')] },
});
add({
  id: '2.3',
  section: '§5.5.2',
  title: 'answers a ping with a binary payload (not UTF-8) with a pong carrying the same bytes',
  frames: [ping(hexBytes('00 ff fe fd fc fb 00 ff'))],
  expect: { pongs: [hexBytes('00 ff fe fd fc fb 00 ff')] },
});
add({
  id: '2.4',
  section: '§5.5.2',
  title: 'answers a ping with a 125-byte payload (the maximum) with an identical pong',
  frames: [ping(byteFill(125))],
  expect: { pongs: [byteFill(125)] },
});
add({
  id: '2.5',
  section: '§5.5',
  title: 'fails with 1002 on a ping with a 126-byte payload, and does not answer it',
  frames: [ping(byteFill(126))],
  expect: { close: fail(1002) },
});
add({
  id: '2.6',
  section: '§5.5.2',
  title: 'answers a 125-byte ping that arrives byte by byte',
  frames: [ping(byteFill(125))],
  delivery: { split: 'bytes' },
  expect: { pongs: [byteFill(125)] },
});
add({
  id: '2.7',
  section: '§5.5.3',
  title: 'ignores an unsolicited pong without payload',
  frames: [pong()],
});
add({
  id: '2.8',
  section: '§5.5.3',
  title: 'ignores an unsolicited pong with a payload',
  frames: [pong('unsolicited pong payload')],
});
add({
  id: '2.9',
  section: '§5.5.3',
  title: 'ignores an unsolicited pong and answers the ping after it',
  frames: [pong('unsolicited pong payload'), ping('ping payload')],
  expect: { pongs: [utf8('ping payload')] },
});
const TEN_PINGS = Array.from({ length: 10 }, (_, i) => utf8(`payload-${i}`));
add({
  id: '2.10',
  section: '§5.5.2',
  title: 'answers 10 pings arriving together with 10 pongs in order',
  frames: TEN_PINGS.map((p) => ping(p)),
  expect: { pongs: TEN_PINGS },
});
add({
  id: '2.11',
  section: '§5.5.2',
  title: 'answers 10 pings written one by one with 10 pongs in order',
  frames: TEN_PINGS.map((p) => ping(p)),
  delivery: { split: 'frames', delayMs: 2 },
  expect: { pongs: TEN_PINGS },
});
add({
  id: 'fd.5.5.1',
  section: '§5.5',
  title: 'fails with 1002 on a pong with a 126-byte payload',
  frames: [pong(byteFill(126))],
  expect: { close: fail(1002) },
});
add({
  id: 'fd.5.5.2',
  section: '§5.5',
  title: 'fails with 1002 on a ping whose length uses the 16-bit form (control frames are at most 125 bytes)',
  frames: [ping('short', { lengthForm: 16 })],
  expect: { close: fail(1002) },
});

// ------------------------------------------------------------------ §8.1 UTF-8 (Autobahn 6.x)

add({ id: '6.1.1', section: '§8.1', title: 'delivers an empty text message', frames: [text('')], expect: { messages: [T('')] } });
add({
  id: '6.1.2',
  section: '§8.1',
  title: 'delivers a text message of 3 empty fragments as one empty message',
  frames: fragments(OP.TEXT, ['', '', '']),
  expect: { messages: [T('')] },
});
add({
  id: '6.1.3',
  section: '§8.1',
  title: 'delivers a text message of 3 fragments, first and last empty',
  frames: fragments(OP.TEXT, ['', 'middle frame payload', '']),
  expect: { messages: [T('middle frame payload')] },
});
const HELLO = 'Hello-µ@ßöäüàá-UTF-8!!';
const KOSME = hexBytes('cebae1bdb9cf83cebcceb5');
add({ id: '6.2.1', section: '§8.1', title: 'delivers valid multi-byte UTF-8 text in one frame', frames: [text(HELLO)], expect: { messages: [T(HELLO)] } });
add({
  id: '6.2.2',
  section: '§8.1',
  title: 'delivers valid multi-byte UTF-8 text in 2 fragments split on a code point boundary',
  frames: fragments(OP.TEXT, ['Hello-µ@ßöä', 'üàá-UTF-8!!']),
  expect: { messages: [T(HELLO)] },
});
add({
  id: '6.2.3',
  section: '§8.1',
  title: 'delivers valid multi-byte UTF-8 text in 1-byte fragments, splitting code points',
  frames: fragments(OP.TEXT, chop(utf8(HELLO), 1)),
  expect: { messages: [T(HELLO)] },
});
add({
  id: '6.2.4',
  section: '§8.1',
  title: 'delivers "κόσμε" in 1-byte fragments, splitting every code point',
  frames: fragments(OP.TEXT, chop(KOSME, 1)),
  expect: { messages: [T(KOSME)] },
});
const KOSME_EDITED = hexBytes('cebae1bdb9cf83cebcceb5eda080656469746564');
add({
  id: '6.3.1',
  section: '§8.1',
  title: 'fails with 1007 on text containing an encoded surrogate (ED A0 80)',
  frames: [text(KOSME_EDITED)],
  expect: { close: fail(1007) },
});
add({
  id: '6.3.2',
  section: '§8.1',
  title: 'fails with 1007 on text containing an encoded surrogate, sent in 1-byte fragments',
  frames: fragments(OP.TEXT, chop(KOSME_EDITED, 1)),
  expect: { close: fail(1007) },
});
// Fail fast (§8.1, Autobahn 6.4): the failure must come with the invalid bytes; the rest never arrives.
const PART1 = KOSME;
const PART3 = utf8('edited');
for (const [id, part2, label] of [
  ['6.4.1', hexBytes('f4908080'), 'F4 90 80 80 (above U+10FFFF)'],
  ['6.4.2', hexBytes('f490'), 'F4 90 (a prefix no code point has)'],
] as const) {
  add({
    id,
    section: '§8.1',
    title: `fails with 1007 as soon as a fragment brings ${label}, while the message is still open`,
    frames: [text(PART1, { fin: false }), cont(part2, { fin: false }), cont(PART3)],
    cutOff: { frame: 1 },
    delivery: { split: 'frames', delayMs: 20 },
    expect: { close: fail(1007) },
  });
}
for (const [id, part2, label] of [
  ['6.4.3', hexBytes('f4908080'), 'F4 90 80 80'],
  ['6.4.4', hexBytes('f490'), 'F4 90'],
] as const) {
  const payload = Uint8Array.of(...PART1, ...part2, ...PART3);
  add({
    id,
    section: '§8.1',
    title: `fails with 1007 as soon as the part of one frame holding ${label} arrives, before the frame is complete`,
    frames: [text(payload)],
    cutOff: { frame: 0, payloadBytes: PART1.length + part2.length },
    delivery: { split: 'bytes', delayMs: 2 },
    expect: { close: fail(1007) },
  });
}
add({
  id: 'fd.8.1.1',
  section: '§8.1',
  title: 'fails with 1007 at the end of a text message that stops inside a code point',
  frames: fragments(OP.TEXT, [utf8('ab'), hexBytes('e2 82')]),
  expect: { close: fail(1007) },
});
add({
  id: 'fd.8.1.2',
  section: '§8.1',
  title: 'delivers invalid UTF-8 untouched in a binary message (only text is checked)',
  frames: [binary(KOSME_EDITED)],
  expect: { messages: [B(KOSME_EDITED)] },
});

const VALID_UTF8: Array<[string, string, string]> = [
  ['6.5', 'cebae1bdb9cf83cebcceb5', '"κόσμε"'],
  ['6.7', '00', 'U+0000 (first 1-byte)'],
  ['6.7', 'c280', 'U+0080 (first 2-byte)'],
  ['6.7', 'e0a080', 'U+0800 (first 3-byte)'],
  ['6.7', 'f0908080', 'U+10000 (first 4-byte)'],
  ['6.9', '7f', 'U+007F (last 1-byte)'],
  ['6.9', 'dfbf', 'U+07FF (last 2-byte)'],
  ['6.9', 'efbfbf', 'U+FFFF (last 3-byte)'],
  ['6.9', 'f48fbfbf', 'U+10FFFF (last code point)'],
  ['6.11', 'ed9fbf', 'U+D7FF (just below the surrogates)'],
  ['6.11', 'ee8080', 'U+E000 (just above the surrogates)'],
  ['6.11', 'efbfbd', 'U+FFFD'],
  ['6.22', 'efbfbe', 'U+FFFE (a noncharacter, still valid)'],
  ['6.22', 'f09fbfbf', 'U+1FFFF (a noncharacter, still valid)'],
  ['6.23', 'efbbbf', 'U+FEFF (byte order mark)'],
];
const INVALID_UTF8: Array<[string, string, string]> = [
  ['6.8', 'f888808080', 'a 5-byte sequence'],
  ['6.8', 'fc8480808080', 'a 6-byte sequence'],
  ['6.10', 'f7bfbfbf', 'F7 BF BF BF (above U+10FFFF)'],
  ['6.11', 'f4908080', 'F4 90 80 80 (U+110000)'],
  ['6.12', '80', 'a lone continuation byte 80'],
  ['6.12', 'bf', 'a lone continuation byte BF'],
  ['6.12', '80bf80', 'three continuation bytes'],
  ['6.13', 'c320', 'a 2-byte lead followed by a space'],
  ['6.13', 'e220', 'a 3-byte lead followed by a space'],
  ['6.13', 'f020', 'a 4-byte lead followed by a space'],
  ['6.14', 'df', 'a 2-byte sequence missing its last byte'],
  ['6.14', 'efbf', 'a 3-byte sequence missing its last byte'],
  ['6.14', 'f48fbf', 'a 4-byte sequence missing its last byte'],
  ['6.15', 'dfefbff48fbf', 'incomplete 2-, 3- and 4-byte sequences one after another'],
  ['6.16', 'fe', 'the impossible byte FE'],
  ['6.16', 'ff', 'the impossible byte FF'],
  ['6.17', 'c0af', 'an overlong "/" in 2 bytes'],
  ['6.17', 'e080af', 'an overlong "/" in 3 bytes'],
  ['6.17', 'f08080af', 'an overlong "/" in 4 bytes'],
  ['6.18', 'c1bf', 'the largest overlong 2-byte sequence'],
  ['6.18', 'e09fbf', 'the largest overlong 3-byte sequence'],
  ['6.18', 'f08fbfbf', 'the largest overlong 4-byte sequence'],
  ['6.19', 'c080', 'an overlong NUL in 2 bytes'],
  ['6.19', 'e08080', 'an overlong NUL in 3 bytes'],
  ['6.20', 'eda080', 'the lone surrogate U+D800'],
  ['6.20', 'edafbf', 'the lone surrogate U+DBFF'],
  ['6.20', 'edb080', 'the lone surrogate U+DC00'],
  ['6.20', 'edbfbf', 'the lone surrogate U+DFFF'],
  ['6.21', 'eda080edb080', 'the surrogate pair U+D800 U+DC00 in CESU-8 form'],
];
const groupCount = new Map<string, number>();
const nextId = (group: string): string => {
  const n = (groupCount.get(group) ?? 0) + 1;
  groupCount.set(group, n);
  return `${group}.${n}`;
};
for (const [group, bytes, label] of VALID_UTF8) {
  const payload = Uint8Array.of(...utf8('<'), ...hexBytes(bytes), ...utf8('>'));
  add({
    id: nextId(group),
    section: '§8.1',
    title: `delivers text holding ${label}`,
    frames: [text(payload)],
    expect: { messages: [T(payload)] },
  });
}
for (const [group, bytes, label] of INVALID_UTF8) {
  add({
    id: nextId(group),
    section: '§8.1',
    title: `fails with 1007 on text holding ${label}`,
    frames: [text(Uint8Array.of(...utf8('<'), ...hexBytes(bytes), ...utf8('>')))],
    expect: { close: fail(1007) },
  });
}

// ------------------------------------------------------------------ §10.4 limits (and Autobahn 9.3.1)

add({
  id: 'fd.10.4.1',
  section: '§10.4',
  title: 'delivers a 1024-byte message when maxPayload is 1024',
  frames: [binary(byteFill(1024))],
  options: { maxPayload: 1024 },
  expect: { messages: [B(byteFill(1024))] },
});
add({
  id: 'fd.10.4.2',
  section: '§10.4',
  title: 'fails with 1009 on a 1025-byte message when maxPayload is 1024, from the header alone',
  frames: [binary(byteFill(1025))],
  cutOff: { frame: 0, payloadBytes: 0 },
  options: { maxPayload: 1024 },
  expect: { close: fail(1009) },
});
add({
  id: 'fd.10.4.3',
  section: '§10.4',
  title: 'fails with 1009 when fragments add up past maxPayload, at the header of the fragment that crosses it',
  frames: fragments(OP.TEXT, [asciiFill(400), asciiFill(400), asciiFill(400)]),
  cutOff: { frame: 2, payloadBytes: 0 },
  options: { maxPayload: 1024 },
  expect: { close: fail(1009) },
});
add({
  id: 'fd.10.4.4',
  section: '§10.4',
  title: 'fails with 1009 on a message of more fragments than maxFragments',
  frames: fragments(OP.BINARY, chop(byteFill(5), 1)),
  options: { maxFragments: 4 },
  expect: { close: fail(1009) },
});
add({
  id: 'fd.10.4.5',
  section: '§10.4',
  title: 'delivers a message of exactly maxFragments fragments',
  frames: fragments(OP.BINARY, chop(byteFill(4), 1)),
  options: { maxFragments: 4 },
  expect: { messages: [B(byteFill(4))] },
});
add({
  id: '9.3.1',
  section: '§5.4',
  title: 'delivers a 4 MiB text message sent in 65536 fragments of 64 bytes',
  frames: fragments(OP.TEXT, chop(asciiFill(4 * 1024 * 1024), 64)),
  delivery: { split: 65536 },
  expect: { messages: [T(asciiFill(4 * 1024 * 1024))] },
});

// ------------------------------------------------------------------ §5.5.1, §7 closing (Autobahn 7.x)

add({
  id: '7.1.1',
  section: '§5.5.1',
  title: 'delivers a message, then answers the close frame after it',
  frames: [text('Hello World!'), close(1000)],
  expect: { messages: [T('Hello World!')] },
});
add({
  id: '7.1.2',
  section: '§5.5.1',
  title: 'sends exactly one close frame when the peer sends two',
  frames: [close(1000), close(1001)],
});
add({
  id: '7.1.3',
  section: '§5.5.1',
  title: 'ignores a ping that arrives after the close frame',
  frames: [close(1000), ping('after close')],
});
add({
  id: '7.1.4',
  section: '§5.5.1',
  title: 'ignores a text message that arrives after the close frame',
  frames: [close(1000), text('after close')],
});
add({
  id: '7.1.5',
  section: '§5.5.1',
  title: 'drops a fragmented message interrupted by a close frame, and ignores its last fragment',
  frames: [text('fragment1', { fin: false }), close(1000), cont('fragment2')],
});
add({
  id: '7.1.6',
  section: '§5.5.1',
  title: 'delivers a 256 KiB message, answers the close after it, and ignores the ping after that',
  frames: [text(asciiFill(256 * 1024)), close(1000), ping('after close')],
  expect: { messages: [T(asciiFill(256 * 1024))] },
});
add({
  id: '7.3.1',
  section: '§7.1.5',
  title: 'answers an empty close frame with an empty close frame (the close code is 1005)',
  frames: [close()],
  expect: { close: echo(null) },
});
add({
  id: '7.3.2',
  section: '§5.5.1',
  title: 'fails with 1002 on a close frame with a 1-byte payload',
  frames: [raw(OP.CLOSE, Uint8Array.of(0x03))],
  expect: { close: fail(1002) },
});
add({
  id: '7.3.3',
  section: '§5.5.1',
  title: 'answers a close frame with a code and no reason by echoing the code',
  frames: [close(1000)],
});
add({
  id: '7.3.4',
  section: '§5.5.1',
  title: 'answers a close frame with a code and a reason by echoing both',
  frames: [close(1000, 'Hello World!')],
  expect: { close: echo(1000, 'Hello World!') },
});
add({
  id: '7.3.5',
  section: '§5.5.1',
  title: 'answers a close frame with a 123-byte reason (the maximum) by echoing it',
  frames: [close(1000, asciiFill(123))],
  expect: { close: echo(1000, asciiFill(123)) },
});
add({
  id: '7.3.6',
  section: '§5.5',
  title: 'fails with 1002 on a close frame with a 124-byte reason (payload of 126 bytes)',
  frames: [close(1000, asciiFill(124))],
  expect: { close: fail(1002) },
});
add({
  id: '7.5.1',
  section: '§5.5.1',
  title: 'fails with 1007 on a close reason that is not UTF-8',
  frames: [close(1000, KOSME_EDITED)],
  expect: { close: fail(1007) },
});
add({
  id: 'fd.7.4.1',
  section: '§5.5.1',
  title: 'answers a close frame with a multi-byte UTF-8 reason by echoing it',
  frames: [close(1000, 'κόσμε')],
  expect: { close: echo(1000, 'κόσμε') },
});
const VALID_CODES: Array<[string, number]> = [
  ['7.7.1', 1000],
  ['7.7.2', 1001],
  ['7.7.3', 1002],
  ['7.7.4', 1003],
  ['7.7.5', 1007],
  ['7.7.6', 1008],
  ['7.7.7', 1009],
  ['7.7.8', 1010],
  ['7.7.9', 1011],
  ['7.7.10', 3000],
  ['7.7.11', 3999],
  ['7.7.12', 4000],
  ['7.7.13', 4999],
  ['fd.7.4.2', 1012],
  ['fd.7.4.3', 1013],
  ['fd.7.4.4', 1014],
];
for (const [id, code] of VALID_CODES) {
  add({
    id,
    // §7.4.1 defines 1000-1011; 1012-1014 are registered with IANA (§7.4.2, §11.7); 3000-4999 are for libraries and applications (§7.4.2).
    section: code <= 1011 ? '§7.4.1' : '§7.4.2',
    title: `answers a close frame with code ${code} by echoing it${code >= 1012 && code <= 1014 ? ' (registered with IANA)' : ''}`,
    frames: [close(code)],
    expect: { close: echo(code) },
  });
}
const INVALID_CODES: Array<[string, number]> = [
  ['7.9.1', 0],
  ['7.9.2', 999],
  ['7.9.3', 1004],
  ['7.9.4', 1005],
  ['7.9.5', 1006],
  ['7.9.6', 1016],
  ['7.9.7', 1100],
  ['7.9.8', 2000],
  ['7.9.9', 2999],
  ['fd.7.4.5', 1015],
  ['fd.7.4.6', 5000],
  ['fd.7.4.7', 65535],
];
for (const [id, code] of INVALID_CODES) {
  add({
    id,
    // §7.4.1: 1004-1006 and 1015 must not be sent; §7.4.2: 0-999 are unused, 1016-2999 unassigned; nothing is defined from 5000 up.
    section: [1004, 1005, 1006, 1015].includes(code) ? '§7.4.1' : '§7.4.2',
    title: `fails with 1002 on a close frame with code ${code}, which never travels in a close frame`,
    frames: [close(code)],
    expect: { close: fail(1002) },
  });
}

export const CASES: readonly Case[] = cases;

/** The cases a runner runs. */
export function casesFor(runner: Runner): Case[] {
  return cases.filter((c) => !c.notFor?.[runner]);
}
