// Client-side wire bytes for the load generator, made once before a run: the upgrade request,
// masked frames (optionally compressed for permessage-deflate), and a reader that counts the
// server's messages without copying or unmasking them (RFC 6455 §5.2: server frames are
// unmasked). Pings are answered with pongs so servers with heartbeats keep the connection.
// The protocols above WebSocket (fdx.v1, socket.io) are in wires.mjs.
import { createHash, randomBytes } from 'node:crypto';
import { constants, deflateRawSync } from 'node:zlib';

export const KEY = randomBytes(16).toString('base64');
export const ACCEPT = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/**
 * The opening handshake (RFC 6455 §4.1). With deflate, the offer a browser makes; with
 * `subprotocol`, that one offered in Sec-WebSocket-Protocol.
 */
export function upgradeRequest(host, port, { deflate = false, path = '/', subprotocol = null } = {}) {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${KEY}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (deflate) lines.push('Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits');
  if (subprotocol) lines.push(`Sec-WebSocket-Protocol: ${subprotocol}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/**
 * Checks a complete response head. Returns null when it is a valid 101 (with the extension
 * answered when it was offered, and the subprotocol chosen when one was offered), else the reason.
 */
export function checkUpgradeResponse(head, { deflate = false, subprotocol = null } = {}) {
  if (!head.startsWith('HTTP/1.1 101')) return `expected 101, got "${head.split('\r\n', 1)[0]}"`;
  if (!head.includes(ACCEPT)) return 'Sec-WebSocket-Accept does not match the key';
  const extension = /\r\nsec-websocket-extensions:\s*permessage-deflate/i.test(head);
  if (deflate && !extension) return 'permessage-deflate was offered but not accepted';
  if (!deflate && extension) return 'permessage-deflate was accepted but not offered';
  if (subprotocol) {
    const chosen = /\r\nsec-websocket-protocol:[ \t]*([^\r\n]*)/i.exec(head)?.[1]?.trim();
    if (chosen !== subprotocol) return `subprotocol ${subprotocol} was offered, the server chose ${chosen ?? 'none'}`;
  }
  return null;
}

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

/** One masked client frame (RFC 6455 §5.3), final, with RSV1 set when `compressed`. */
export function maskedFrame(opcode, payload, { compressed = false } = {}) {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = 2 + lengthBytes + 4;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x80 | (compressed ? 0x40 : 0) | opcode;
  if (lengthBytes === 0) frame[1] = 0x80 | length;
  else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  const mask = randomBytes(4);
  mask.copy(frame, header - 4);
  for (let i = 0; i < length; i += 1) frame[header + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/**
 * A message compressed on its own (RFC 7692 §7.2.1): a fresh deflate stream flushed with
 * Z_SYNC_FLUSH, the trailing 00 00 ff ff removed. It never refers to earlier messages and never
 * ends the stream, so it is valid with and without context takeover.
 */
export function compressMessage(payload) {
  const out = deflateRawSync(payload, { finishFlush: constants.Z_SYNC_FLUSH });
  const tail = out.subarray(out.length - 4);
  if (tail.toString('hex') !== '0000ffff') throw new Error('deflate output does not end with a sync flush');
  return out.subarray(0, out.length - 4);
}

/** A client message as a frame: text or binary, compressed when deflate is on. */
export function messageFrame(payload, { binary = false, deflate = false } = {}) {
  const opcode = binary ? OPCODE.binary : OPCODE.text;
  return deflate
    ? maskedFrame(opcode, compressMessage(payload), { compressed: true })
    : maskedFrame(opcode, payload);
}

/**
 * Frames written back to back, cycling through `variants`, long enough that any run of up to
 * `window` frames starting at any variant is one contiguous slice: ring.subarray(offsets[v],
 * offsets[v + k]).
 */
export function frameRing(variants, window) {
  const count = variants.length + window;
  const offsets = new Array(count + 1);
  let size = 0;
  for (let i = 0; i < count; i += 1) {
    offsets[i] = size;
    size += variants[i % variants.length].length;
  }
  offsets[count] = size;
  const ring = Buffer.allocUnsafe(size);
  for (let i = 0; i < count; i += 1) variants[i % variants.length].copy(ring, offsets[i]);
  return { ring, offsets, variants: variants.length };
}

/**
 * Counts complete messages in the server's byte stream. Data payloads are skipped, never
 * copied; control frames are handed to `onControl(opcode, payload)` whole.
 *
 * With `match` set (a Buffer), only messages whose payload starts with those bytes are counted
 * unread (a publication of the protocol spoken, e.g. `{"type":"pub","channel":"bench",`); any
 * other message is handed whole to `onOther(payload)`, which returns true when it was one
 * after all (e.g. the same message with its fields in another order). Such messages (replies,
 * engine.io pings) are small and single-frame on every server here.
 */
export class MessageCounter {
  #carry = null;
  #skip = 0;
  #fin = false;
  /** Messages that arrived compressed (RSV1), and the payload bytes of all data frames. */
  compressed = 0;
  payloadBytes = 0;
  /** null: every data message counts; else the prefix of the messages that count. */
  match = null;
  #onControl;
  #onOther;
  protocolErrors = 0;

  constructor(onControl, onOther = () => false) {
    this.#onControl = onControl;
    this.#onOther = onOther;
  }

  /** Consumes a chunk; returns how many messages it completed. */
  push(chunk) {
    let buf = chunk;
    if (this.#carry !== null) {
      buf = Buffer.concat([this.#carry, chunk]);
      this.#carry = null;
    }
    const n = buf.length;
    const match = this.match;
    let i = 0;
    let messages = 0;
    while (i < n) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, n - i);
        this.#skip -= take;
        i += take;
        if (this.#skip === 0 && this.#fin) messages += 1;
        continue;
      }
      if (n - i < 2) break;
      const b0 = buf[i];
      const b1 = buf[i + 1];
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (n - i < 4) break;
        length = buf.readUInt16BE(i + 2);
        header = 4;
      } else if (length === 127) {
        if (n - i < 10) break;
        length = buf.readUInt32BE(i + 2) * 2 ** 32 + buf.readUInt32BE(i + 6);
        header = 10;
      }
      if (b1 & 0x80) {
        // RFC 6455 §5.1: a server must not mask. Count it and step over the key.
        this.protocolErrors += 1;
        header += 4;
      }
      const opcode = b0 & 0x0f;
      if (opcode >= 8) {
        if (n - i < header + length) break;
        this.#onControl(opcode, buf.subarray(i + header, i + header + length));
        i += header + length;
        continue;
      }
      if (n - i < header) break;
      if (match !== null && opcode !== 0) {
        const start = i + header;
        let other = length < match.length;
        if (!other) {
          // Wait for the prefix (the rest of this chunk is carried to the next read).
          if (n - start < match.length) break;
          for (let k = 0; k < match.length; k += 1) {
            if (buf[start + k] !== match[k]) {
              other = true;
              break;
            }
          }
        }
        if (other) {
          if (n - start < length) break;
          if (this.#onOther(buf.subarray(start, start + length))) messages += 1;
          i = start + length;
          continue;
        }
      }
      if (opcode !== 0 && (b0 & 0x40) !== 0) this.compressed += 1;
      this.payloadBytes += length;
      this.#fin = (b0 & 0x80) !== 0;
      i += header;
      const available = n - i;
      if (available >= length) {
        i += length;
        if (this.#fin) messages += 1;
      } else {
        this.#skip = length - available;
        i = n;
      }
    }
    // Chunks live in a read buffer that the next read overwrites: keep a copy.
    if (i < n) this.#carry = Buffer.from(buf.subarray(i));
    return messages;
  }
}

/**
 * Message payloads from a spec, the same in every process:
 *   { type: 'text', size }      ASCII text
 *   { type: 'binary', size }    random bytes (incompressible, as most binary payloads are)
 *   { type: 'json', size, variants }  JSON records of about `size` bytes, each different,
 *                               compressible as real JSON is
 *   { type: 'chat', size }      a chat line as a JSON object, {"text":"..."}, of exactly `size`
 *                               bytes (at least 12)
 */
export function makePayloads({ type, size, variants = 1 }) {
  if (type === 'binary') return Array.from({ length: variants }, () => randomBytes(size));
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const letters = (count, v) => Array.from({ length: count }, (_, i) => alphabet[(i * 7 + v) % alphabet.length]).join('');
  if (type === 'text') return Array.from({ length: variants }, (_, v) => Buffer.from(letters(size, v)));
  if (type === 'chat') {
    if (size < 12) throw new Error('a chat payload has at least 12 bytes');
    return Array.from({ length: variants }, (_, v) => Buffer.from(JSON.stringify({ text: letters(size - 11, v) })));
  }
  if (type === 'json') {
    const names = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'donald', 'ken', 'dennis'];
    return Array.from({ length: variants }, (_, v) => {
      const items = [];
      let text = '';
      for (let i = 0; text.length < size; i += 1) {
        items.push({
          id: v * 1000 + i,
          user: names[(v + i) % names.length],
          price: Math.round(((v * 31 + i * 17) % 1000) * 1.37) / 100,
          tags: ['market', i % 2 ? 'bid' : 'ask'],
          at: 1_700_000_000_000 + v * 60_000 + i * 250,
        });
        text = JSON.stringify({ type: 'update', seq: v, items });
      }
      return Buffer.from(text);
    });
  }
  throw new Error(`unknown payload type ${type}`);
}
