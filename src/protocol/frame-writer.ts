/**
 * The frame writer: encodes frame headers, RFC 6455 §5.2 (fields and the minimal length
 * encoding), with the masking key of §5.3 when the caller gives one. Payload bytes are never
 * copied here unless the caller asks for a whole frame (`encodeFrame`: for tests, tools and
 * frames built once for many connections).
 * Must not: decide policy (which side masks, when to fragment, where bytes go): the caller says.
 */
import { maskInto } from './mask.js';

/** Size of a header for a payload of `payloadLength` bytes, masked or not. */
export function frameHeaderSize(payloadLength: number, masked: boolean): number {
  const base = payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10;
  return masked ? base + 4 : base;
}

/**
 * Writes a frame header into `target` at `offset` and returns its size. The payload length uses
 * the minimal encoding (RFC 6455 §5.2: "the minimal number of bytes MUST be used").
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  fin: boolean,
  rsv1: boolean,
  opcode: number,
  payloadLength: number,
  maskingKey: Uint8Array | null,
): number {
  let i = offset;
  target[i++] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = maskingKey ? 0x80 : 0;
  if (payloadLength < 126) {
    target[i++] = maskBit | payloadLength;
  } else if (payloadLength < 0x10000) {
    target[i++] = maskBit | 126;
    target[i++] = payloadLength >>> 8;
    target[i++] = payloadLength & 0xff;
  } else {
    target[i++] = maskBit | 127;
    const hi = Math.floor(payloadLength / 0x100000000);
    const lo = payloadLength >>> 0;
    target[i++] = hi >>> 24;
    target[i++] = (hi >>> 16) & 0xff;
    target[i++] = (hi >>> 8) & 0xff;
    target[i++] = hi & 0xff;
    target[i++] = lo >>> 24;
    target[i++] = (lo >>> 16) & 0xff;
    target[i++] = (lo >>> 8) & 0xff;
    target[i++] = lo & 0xff;
  }
  if (maskingKey) {
    target[i++] = maskingKey[0]!;
    target[i++] = maskingKey[1]!;
    target[i++] = maskingKey[2]!;
    target[i++] = maskingKey[3]!;
  }
  return i - offset;
}

export interface FrameFields {
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  opcode: number;
  payload?: Uint8Array;
  maskingKey?: Uint8Array | null;
}

/** One whole frame in a new buffer (header and, masked if a key is given, the payload). */
export function encodeFrame(fields: FrameFields): Uint8Array {
  const payload = fields.payload ?? new Uint8Array(0);
  const key = fields.maskingKey ?? null;
  const size = frameHeaderSize(payload.length, key !== null);
  const out = new Uint8Array(size + payload.length);
  writeFrameHeader(out, 0, fields.fin ?? true, fields.rsv1 ?? false, fields.opcode, payload.length, key);
  if (fields.rsv2) out[0]! |= 0x20;
  if (fields.rsv3) out[0]! |= 0x10;
  if (key) maskInto(payload, out, size, key);
  else out.set(payload, size);
  return out;
}
