/**
 * Client-side wire bytes for the load generator, made once before a run: the opening handshake,
 * masked frames (optionally compressed for permessage-deflate), and a reader that counts the
 * server's messages without copying or unmasking them (RFC 6455 §5.2: server frames are
 * unmasked). Frames are encoded by protocol/'s frame writer; the accept value is protocol/'s.
 * The protocols above WebSocket (fdx.v1, socket.io, plain topics) are in wires.ts.
 * Must not: touch sockets or timers (client.ts does), or import node/ (the generator must not
 * measure itself).
 */
import { randomBytes } from 'node:crypto';
import { constants, deflateRawSync } from 'node:zlib';
import { acceptValue } from '../protocol/handshake/accept-key.js';
import { encodeFrame } from '../protocol/frame-writer.js';

export const KEY = randomBytes(16).toString('base64');
export const ACCEPT = acceptValue(KEY);

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;
export type Opcode = (typeof OPCODE)[keyof typeof OPCODE];

export interface UpgradeOptions {
  deflate?: boolean;
  /** The request target: path and query. */
  path?: string;
  subprotocol?: string | null;
  /** Extra header lines, `Name: value`. */
  headers?: readonly string[];
}

/**
 * The opening handshake (RFC 6455 §4.1). With deflate, the offer a browser makes; with
 * `subprotocol`, that one offered in Sec-WebSocket-Protocol. `host` is the Host header's value.
 */
export function upgradeRequest(host: string, { deflate = false, path = '/', subprotocol = null, headers = [] }: UpgradeOptions = {}): Buffer {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${KEY}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (deflate) lines.push('Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits');
  if (subprotocol) lines.push(`Sec-WebSocket-Protocol: ${subprotocol}`);
  lines.push(...headers);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/**
 * Checks a complete response head. Returns null when it is a valid 101 (with the extension
 * answered when it was offered, and the subprotocol chosen when one was offered), else the reason.
 */
export function checkUpgradeResponse(head: string, { deflate = false, subprotocol = null }: { deflate?: boolean; subprotocol?: string | null } = {}): string | null {
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

const STATUS_101 = Buffer.from('HTTP/1.1 101', 'latin1');
const ACCEPT_BYTES = Buffer.from(ACCEPT, 'latin1');
const EXTENSIONS_NAME = Buffer.from('\r\nsec-websocket-extensions:', 'latin1');

/** Whether head[at, at + name.length) is `name`, letters in any case when `caseless` (name in lower case). */
function startsWith(head: Uint8Array, at: number, name: Uint8Array, caseless: boolean): boolean {
  if (at + name.length > head.length) return false;
  for (let k = 0; k < name.length; k += 1) {
    const b = head[at + k]!;
    if ((caseless && b >= 0x41 && b <= 0x5a ? b | 0x20 : b) !== name[k]) return false;
  }
  return true;
}

/**
 * checkUpgradeResponse on the bytes of a response head that ends at `end` (its blank line):
 * the common answer (a 101 with the accept value, no extension, no subprotocol offered) is
 * checked in place; anything else is read as text by checkUpgradeResponse, which words the
 * reason. Same verdicts as checkUpgradeResponse.
 */
export function checkUpgradeHead(head: Buffer, end: number, offer: { deflate: boolean; subprotocol: string | null }): string | null {
  let plain = !offer.deflate && !offer.subprotocol && startsWith(head, 0, STATUS_101, false);
  if (plain) {
    const accept = head.indexOf(ACCEPT_BYTES);
    plain = accept >= 0 && accept < end;
  }
  for (let at = head.indexOf(13); plain && at >= 0 && at < end; at = head.indexOf(13, at + 2)) {
    if (startsWith(head, at, EXTENSIONS_NAME, true)) plain = false;
  }
  return plain ? null : checkUpgradeResponse(head.toString('latin1', 0, end + 4), offer);
}

/** One masked client frame (RFC 6455 §5.3), final, with RSV1 set when `compressed`. */
export function maskedFrame(opcode: Opcode, payload: Uint8Array, { compressed = false } = {}): Buffer {
  const frame = encodeFrame({ opcode, payload, rsv1: compressed, maskingKey: randomBytes(4) });
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}

/**
 * A message compressed on its own (RFC 7692 §7.2.1): a fresh deflate stream flushed with
 * Z_SYNC_FLUSH, the trailing 00 00 ff ff removed. It never refers to earlier messages and never
 * ends the stream, so it is valid with and without context takeover.
 */
export function compressMessage(payload: Uint8Array): Buffer {
  const out = deflateRawSync(payload, { finishFlush: constants.Z_SYNC_FLUSH });
  const tail = out.subarray(out.length - 4);
  if (tail.toString('hex') !== '0000ffff') throw new Error('deflate output does not end with a sync flush');
  return out.subarray(0, out.length - 4);
}

/** A client message as a frame: text or binary, compressed when deflate is on. */
export function messageFrame(payload: Uint8Array, { binary = false, deflate = false } = {}): Buffer {
  const opcode = binary ? OPCODE.binary : OPCODE.text;
  return deflate ? maskedFrame(opcode, compressMessage(payload), { compressed: true }) : maskedFrame(opcode, payload);
}

export interface FrameRing {
  ring: Buffer;
  offsets: number[];
  variants: number;
}

/**
 * Frames written back to back, cycling through `variants`, long enough that any run of up to
 * `window` frames starting at any variant is one contiguous slice: ring.subarray(offsets[v],
 * offsets[v + k]).
 */
export function frameRing(variants: readonly Buffer[], window: number): FrameRing {
  const count = variants.length + window;
  const offsets = new Array<number>(count + 1);
  let size = 0;
  for (let i = 0; i < count; i += 1) {
    offsets[i] = size;
    size += variants[i % variants.length]!.length;
  }
  offsets[count] = size;
  const ring = Buffer.allocUnsafe(size);
  for (let i = 0; i < count; i += 1) variants[i % variants.length]!.copy(ring, offsets[i]);
  return { ring, offsets, variants: variants.length };
}

/**
 * Counts complete messages in the server's byte stream. Data payloads are skipped, never
 * copied; control frames are handed to `onControl(opcode, payload)` whole.
 *
 * With `match` set, only messages whose payload starts with those bytes are counted unread (a
 * publication of the protocol spoken, e.g. `{"type":"pub","channel":"bench",`); any other
 * message is handed whole to `onOther(payload)`, which returns true when it was one after all.
 * Such messages (replies, engine.io pings) are single-frame on every server measured here.
 * READ_WHOLE as `match` hands every data message over whole.
 */
export class MessageCounter<T = undefined> {
  #carry: Buffer | null = null;
  #skip = 0;
  #fin = false;
  /** Messages that arrived compressed (RSV1), and the payload bytes of all data frames. */
  compressed = 0;
  payloadBytes = 0;
  /** null: every data message counts; else the prefix of the messages that count. */
  match: Uint8Array | null = null;
  /** The server is a byte echo sending masked frames back: their payloads are counted, still masked. */
  maskedExpected = false;
  protocolErrors = 0;
  readonly #onControl: (this: T, opcode: number, payload: Buffer) => void;
  readonly #onOther: (this: T, payload: Buffer) => boolean;
  readonly #target: T;

  /** The handlers are called with `target` as `this` (shared functions, not closures per connection). */
  constructor(onControl: (this: T, opcode: number, payload: Buffer) => void, onOther: (this: T, payload: Buffer) => boolean = () => false, target?: T) {
    this.#onControl = onControl;
    this.#onOther = onOther;
    this.#target = target as T;
  }

  /** Consumes a chunk; returns how many messages it completed. */
  push(chunk: Buffer): number {
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
      const b0 = buf[i]!;
      const b1 = buf[i + 1]!;
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
      // RFC 6455 §5.1: a server must not mask (unless it is a byte echo). Step over the key; the
      // error is counted once the frame is taken, not at each read that stopped inside it.
      const maskedError = (b1 & 0x80) !== 0 && !this.maskedExpected;
      if (b1 & 0x80) header += 4;
      const opcode = b0 & 0x0f;
      if (opcode >= 8) {
        if (n - i < header + length) break;
        if (maskedError) this.protocolErrors += 1;
        this.#onControl.call(this.#target, opcode, buf.subarray(i + header, i + header + length));
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
          if (maskedError) this.protocolErrors += 1;
          if (this.#onOther.call(this.#target, buf.subarray(start, start + length))) messages += 1;
          i = start + length;
          continue;
        }
      }
      if (maskedError) this.protocolErrors += 1;
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

/** A prefix no text message starts with (0xff is never in UTF-8): every message is read whole. */
export const READ_WHOLE = Buffer.from([0xff]);

/**
 * Message payloads, the same in every process:
 *   text    ASCII text of `size` bytes
 *   binary  random bytes (incompressible, as most binary payloads are)
 *   json    JSON records of about `size` bytes, each different, compressible as real JSON is
 *   chat    a chat line as a JSON object, {"text":"..."}, of exactly `size` bytes (at least 12)
 */
export interface PayloadSpec {
  type: 'text' | 'binary' | 'json' | 'chat';
  size: number;
  variants?: number;
}

export function makePayloads({ type, size, variants = 1 }: PayloadSpec): Buffer[] {
  if (type === 'binary') return Array.from({ length: variants }, () => randomBytes(size));
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const letters = (count: number, v: number): string => Array.from({ length: count }, (_, i) => alphabet[(i * 7 + v) % alphabet.length]).join('');
  if (type === 'text') return Array.from({ length: variants }, (_, v) => Buffer.from(letters(size, v)));
  if (type === 'chat') {
    if (size < 12) throw new Error('a chat payload has at least 12 bytes');
    return Array.from({ length: variants }, (_, v) => Buffer.from(JSON.stringify({ text: letters(size - 11, v) })));
  }
  if (type === 'json') {
    const names = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'donald', 'ken', 'dennis'];
    return Array.from({ length: variants }, (_, v) => {
      const items: object[] = [];
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
  throw new Error(`unknown payload type ${String(type)}`);
}
