/**
 * Conversions between what users send or want to receive and the bytes the core handles,
 * plus the masking-key and handshake-key sources (node:crypto).
 * Must not: copy bytes that can be viewed instead.
 */
import { isUtf8 } from 'node:buffer';
import * as crypto from 'node:crypto';
import { WEBSOCKET_GUID } from '../protocol/constants.js';

export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments';

export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView | number | readonly Buffer[];

/** Bytes to send, and whether they are ours to modify (a fresh encoding of a string). */
export function toBytes(data: SendData): { bytes: Buffer; owned: boolean } {
  if (Buffer.isBuffer(data)) return { bytes: data, owned: false };
  if (typeof data === 'string') return { bytes: Buffer.from(data, 'utf8'), owned: true };
  if (typeof data === 'number') return { bytes: Buffer.from(String(data), 'utf8'), owned: true };
  if (data instanceof ArrayBuffer) return { bytes: Buffer.from(data), owned: false };
  if (ArrayBuffer.isView(data)) return { bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength), owned: false };
  if (Array.isArray(data)) return { bytes: Buffer.concat(data as Buffer[]), owned: true };
  throw new TypeError('data must be a string, Buffer, ArrayBuffer or ArrayBufferView');
}

/** A Buffer view of core bytes (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A message payload in the shape `binaryType` asks for. */
export function convertMessage(bytes: Uint8Array, binaryType: BinaryType): Buffer | ArrayBuffer | Buffer[] {
  const buffer = asBuffer(bytes);
  if (binaryType === 'arraybuffer') {
    if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength) return buffer.buffer as ArrayBuffer;
    return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
  }
  if (binaryType === 'fragments') return [buffer];
  return buffer;
}

/** Up to this length a JS scan for ASCII costs less than the call into node:buffer's isUtf8. */
const ASCII_SCAN_LIMIT = 64;

/** Whole-message UTF-8 check: short ASCII text is settled in JS, everything else natively. */
export function isValidUtf8Message(bytes: Uint8Array): boolean {
  const length = bytes.length;
  if (length <= ASCII_SCAN_LIMIT) {
    let high = 0;
    for (let i = 0; i < length; i++) high |= bytes[i]!;
    if (high < 0x80) return true;
  }
  return isUtf8(bytes);
}

/** crypto.hash (Node 20.12 and later) hashes in one call, without a Hash object. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

/** RFC 6455 §4.2.2: the Sec-WebSocket-Accept value of a key, hashed by node:crypto. */
export function acceptKey(key: string): string {
  const input = key + WEBSOCKET_GUID;
  return oneShotHash ? oneShotHash('sha1', input, 'base64') : crypto.createHash('sha1').update(input).digest('base64');
}

const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** RFC 6455 §5.3: fresh, unpredictable masking keys, drawn from a pooled CSPRNG buffer. */
export function generateMask(key: Uint8Array): void {
  if (poolOffset + 4 > POOL_SIZE) {
    crypto.randomFillSync(pool);
    poolOffset = 0;
  }
  key[0] = pool[poolOffset]!;
  key[1] = pool[poolOffset + 1]!;
  key[2] = pool[poolOffset + 2]!;
  key[3] = pool[poolOffset + 3]!;
  poolOffset += 4;
}

export function randomBytes16(): Uint8Array {
  return crypto.randomFillSync(new Uint8Array(16));
}
