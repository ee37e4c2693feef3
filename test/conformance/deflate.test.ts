/**
 * RFC 7692 conformance over loopback: every combination of the four permessage-deflate
 * parameters a client can offer, against our server (an echo app with compression on for every
 * message). A raw client compresses its messages with node:zlib itself (a second message refers
 * back into the first when the client keeps its context), fragments one compressed message
 * around a ping, mixes in an uncompressed message, and reads the server's answer back with an
 * inflater of its own that follows the negotiated server parameters.
 *
 * Checked per combination: the negotiated response; RSV1 only on the first frame of a compressed
 * message and never on control frames; the pong; every echoed message byte for byte; that the
 * server's compressed messages inflate with the server's window and context rules; the closing
 * handshake.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import type { WebSocketServer } from '../../src/index.js';
import { rawHandshake, readUntilClose, startServer, stopServer } from '../support/servers.js';
import { encodeCaseFrame, parseFrames, type ParsedFrame } from './wire.js';

const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const RSV1 = 4;

interface Offer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** undefined: not offered; null: offered without a value. */
  clientMaxWindowBits: number | null | undefined;
  serverMaxWindowBits: number | undefined;
}

function offerHeader(o: Offer): string {
  const params = ['permessage-deflate'];
  if (o.serverNoContextTakeover) params.push('server_no_context_takeover');
  if (o.clientNoContextTakeover) params.push('client_no_context_takeover');
  if (o.serverMaxWindowBits !== undefined) params.push(`server_max_window_bits=${o.serverMaxWindowBits}`);
  if (o.clientMaxWindowBits === null) params.push('client_max_window_bits');
  else if (o.clientMaxWindowBits !== undefined) params.push(`client_max_window_bits=${o.clientMaxWindowBits}`);
  return params.join('; ');
}

const OFFERS: Offer[] = [];
for (const serverNoContextTakeover of [false, true]) {
  for (const clientNoContextTakeover of [false, true]) {
    for (const clientMaxWindowBits of [undefined, null, 9, 15] as const) {
      for (const serverMaxWindowBits of [undefined, 10, 15]) {
        OFFERS.push({ serverNoContextTakeover, clientNoContextTakeover, clientMaxWindowBits, serverMaxWindowBits });
      }
    }
  }
}

/** Parameters of the server's answer. */
function parseResponse(head: string): Map<string, string | true> {
  const line = head.split('\r\n').find((l) => /^sec-websocket-extensions:/i.test(l));
  assert.ok(line, `no Sec-WebSocket-Extensions in the answer:\n${head}`);
  const [name, ...params] = line.slice(line.indexOf(':') + 1).split(';').map((p) => p.trim());
  assert.equal(name, 'permessage-deflate');
  const out = new Map<string, string | true>();
  for (const p of params) {
    const [k, v] = p.split('=');
    assert.ok(!out.has(k!), `duplicate parameter ${k}`);
    out.set(k!, v === undefined ? true : v);
  }
  return out;
}

/** The client's deflater: each message on its own, or after the previous ones (context takeover). */
class ClientDeflater {
  #history = Buffer.alloc(0);
  constructor(
    readonly windowBits: number,
    readonly takeover: boolean,
  ) {}
  compress(data: Buffer): Buffer {
    const options: zlib.ZlibOptions = { ...SYNC, windowBits: Math.max(9, this.windowBits) };
    if (this.takeover && this.#history.length > 0) options.dictionary = this.#history;
    const out = zlib.deflateRawSync(data, options);
    if (this.takeover) this.#history = Buffer.concat([this.#history, data]).subarray(-(1 << this.windowBits));
    return out.subarray(0, out.length - 4);
  }
}

/** Inflates the server's messages by the negotiated server parameters. */
class ServerInflater {
  #history = Buffer.alloc(0);
  constructor(
    readonly windowBits: number,
    readonly takeover: boolean,
  ) {}
  inflate(data: Uint8Array): Buffer {
    const options: zlib.ZlibOptions = { ...SYNC, windowBits: 15 };
    if (this.takeover && this.#history.length > 0) options.dictionary = this.#history;
    const out = zlib.inflateRawSync(Buffer.concat([data, TAIL]), options);
    if (this.takeover) this.#history = Buffer.concat([this.#history, out]).subarray(-(1 << this.windowBits));
    return out;
  }
}

function messagesOf(frames: ParsedFrame[], inflater: ServerInflater, problems: string[]): Array<{ opcode: number; data: Buffer }> {
  const messages: Array<{ opcode: number; data: Buffer }> = [];
  let open: { opcode: number; compressed: boolean; parts: Uint8Array[] } | null = null;
  for (const f of frames) {
    if (f.masked) problems.push('a masked server frame');
    if (f.opcode >= 0x8) {
      if (f.rsv !== 0) problems.push(`RSV bits on a control frame (opcode ${f.opcode})`);
      continue;
    }
    if (f.opcode === 0x0) {
      if (f.rsv !== 0) problems.push('RSV bits on a continuation frame');
      if (!open) problems.push('a continuation without a message');
    } else {
      if (open) problems.push('a new message inside a fragmented one');
      if ((f.rsv & ~RSV1) !== 0) problems.push('RSV2 or RSV3 set');
      open = { opcode: f.opcode, compressed: (f.rsv & RSV1) !== 0, parts: [] };
    }
    open?.parts.push(f.payload);
    if (f.fin && open) {
      const payload = Buffer.concat(open.parts);
      messages.push({ opcode: open.opcode, data: open.compressed ? inflater.inflate(payload) : payload });
      open = null;
    }
  }
  return messages;
}

let wss: WebSocketServer;
let port = 0;

before(async () => {
  ({ wss, port } = await startServer({ perMessageDeflate: { threshold: 0 }, pingIntervalMs: 0 }));
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
});
after(() => stopServer(wss));

describe('permessage-deflate over loopback (RFC 7692)', () => {
  for (const offer of OFFERS) {
    test(`server answers and echoes with: ${offerHeader(offer)}`, async () => {
      const { socket, rest, head } = await rawHandshake(port, `Sec-WebSocket-Extensions: ${offerHeader(offer)}\r\n`);
      assert.match(head, /^HTTP\/1\.1 101 /);
      const params = parseResponse(head);
      // RFC 7692 §7.1: what the answer may and must say.
      if (offer.serverNoContextTakeover) assert.equal(params.get('server_no_context_takeover'), true);
      if (offer.clientMaxWindowBits === undefined) assert.equal(params.has('client_max_window_bits'), false);
      if (offer.serverMaxWindowBits !== undefined) {
        assert.ok(Number(params.get('server_max_window_bits')) <= offer.serverMaxWindowBits);
      }
      const clientBits = params.has('client_max_window_bits') ? Number(params.get('client_max_window_bits')) : 15;
      if (typeof offer.clientMaxWindowBits === 'number') assert.ok(clientBits <= offer.clientMaxWindowBits);
      const serverBits = params.has('server_max_window_bits') ? Number(params.get('server_max_window_bits')) : 15;
      const clientTakeover = !offer.clientNoContextTakeover && !params.has('client_no_context_takeover');
      const serverTakeover = !params.has('server_no_context_takeover');

      const deflater = new ClientDeflater(clientBits, clientTakeover);
      const first = Buffer.from('{"type":"update","items":[1,2,3],"note":"the first message, compressed"}');
      const second = Buffer.from('{"type":"update","items":[1,2,3],"note":"the first message, compressed"} and again');
      const plain = Buffer.from('an uncompressed message between compressed ones');
      const fragmented = Buffer.from('héllo ✓ 🚀 — a compressed message in three fragments, héllo ✓ 🚀');
      const binary = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff));
      const c1 = deflater.compress(first);
      const c2 = deflater.compress(second);
      const cf = deflater.compress(fragmented);
      const cb = deflater.compress(binary);
      const third = Math.floor(cf.length / 3);
      const frames = [
        { opcode: 0x1, rsv: RSV1, payload: c1 },
        { opcode: 0x1, rsv: RSV1, payload: c2 },
        { opcode: 0x1, payload: plain },
        { opcode: 0x1, rsv: RSV1, fin: false, payload: cf.subarray(0, third) },
        { opcode: 0x9, payload: Buffer.from('between fragments') },
        { opcode: 0x0, fin: false, payload: cf.subarray(third, 2 * third) },
        { opcode: 0x0, payload: cf.subarray(2 * third) },
        { opcode: 0x2, rsv: RSV1, payload: cb },
        { opcode: 0x8, payload: Buffer.from([0x03, 0xe8]) },
      ].map((f, i) => encodeCaseFrame(f, 'client', i).bytes);
      const collected = readUntilClose(socket, rest);
      socket.resume();
      socket.write(Buffer.concat(frames));
      const { bytes, closed } = await collected;
      assert.equal(closed, true, 'the server closed the connection');

      const { frames: back, rest: partial } = parseFrames(bytes);
      assert.equal(partial.length, 0, 'a frame cut off');
      const problems: string[] = [];
      const messages = messagesOf(back, new ServerInflater(serverBits, serverTakeover), problems);
      assert.deepEqual(problems, []);
      assert.deepEqual(
        messages.map((m) => [m.opcode, m.data.toString('hex')]),
        [first, second, plain, fragmented, binary].map((d, i) => [i === 4 ? 0x2 : 0x1, d.toString('hex')]),
      );
      assert.ok(back.some((f) => f.opcode === 0x1 && (f.rsv & RSV1) !== 0), 'the server compressed its messages');
      const controls = back.filter((f) => f.opcode >= 0x8).map((f) => [f.opcode, Buffer.from(f.payload).toString('latin1')]);
      assert.deepEqual(controls, [
        [0xa, 'between fragments'],
        [0x8, '\x03\xe8'],
      ]);
    });
  }
});
