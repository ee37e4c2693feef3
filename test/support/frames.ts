/**
 * The one frame builder and parser of the tests (RFC 6455 §5.2): frames built field by field,
 * malformed ones included (RSV bits, reserved opcodes, non-minimal or false lengths, a missing
 * mask), frames parsed out of bytes or out of a stream that arrives in chunks, and wire bytes
 * written as hex.
 * Must not: import src/. A bug shared by the implementation and its tests' view of the wire
 * would hide itself; so this module writes and reads frames with code of its own.
 * (test/conformance/wire.ts is the conformance suite's oracle and stays separate by design.)
 */
import { Buffer } from 'node:buffer';

/** Opcodes (RFC 6455 §5.2), under the names src/protocol's `Opcode` uses. */
export const OP = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

/** The masking key of client frames that do not name one. */
export const MASK = hex('37 fa 21 3d');

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** The masking key, or null for an unmasked frame. Default: MASK for clientFrame, null for serverFrame. */
  maskingKey?: Uint8Array | null;
  /** Encode the length in 7, 7+16 or 7+64 bits whatever its size (non-minimal encodings). */
  lengthBits?: 7 | 16 | 64;
  /** Write this length in the header instead of the payload's (the payload bytes still follow). */
  declaredLength?: bigint | number;
}

/** A frame as a client sends it: masked unless the spec says `maskingKey: null`. No validation: whatever the spec says goes on the wire. */
export function clientFrame(spec: FrameSpec): Uint8Array {
  return buildFrame(spec, spec.maskingKey === undefined ? MASK : spec.maskingKey);
}

/** A frame as a server sends it: unmasked unless the spec gives a masking key. No validation either. */
export function serverFrame(spec: FrameSpec): Uint8Array {
  return buildFrame(spec, spec.maskingKey ?? null);
}

function buildFrame(spec: FrameSpec, key: Uint8Array | null): Uint8Array {
  const payload = typeof spec.payload === 'string' ? utf8(spec.payload) : (spec.payload ?? new Uint8Array(0));
  const length = BigInt(spec.declaredLength ?? payload.length);
  const bits = spec.lengthBits ?? (length < 126n ? 7 : length < 0x10000n ? 16 : 64);
  const header: number[] = [(spec.fin === false ? 0 : 0x80) | (spec.rsv1 ? 0x40 : 0) | (spec.rsv2 ? 0x20 : 0) | (spec.rsv3 ? 0x10 : 0) | (spec.opcode & 0x0f)];
  const maskBit = key ? 0x80 : 0;
  if (bits === 7) {
    header.push(maskBit | (Number(length) & 0x7f));
  } else if (bits === 16) {
    header.push(maskBit | 126, Number(length >> 8n) & 0xff, Number(length) & 0xff);
  } else {
    header.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) header.push(Number((length >> shift) & 0xffn));
  }
  if (key) header.push(key[0]!, key[1]!, key[2]!, key[3]!);
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  if (key) for (let i = 0; i < payload.length; i++) out[header.length + i]! ^= key[i & 3]!;
  return out;
}

/** A message as frames of the given payloads (the first of `opcode`, then continuations), masked as a client sends them. */
export function fragmented(pieces: Array<Uint8Array | string>, opcode: number = OP.TEXT): Uint8Array {
  return concat(pieces.map((payload, i) => clientFrame({ opcode: i === 0 ? opcode : OP.CONTINUATION, fin: i === pieces.length - 1, payload })));
}

/** The body of a close frame (RFC 6455 §5.5.1): the code in two bytes, then the reason. */
export function closePayload(code: number, reason: Uint8Array | string = ''): Uint8Array {
  const r = typeof reason === 'string' ? utf8(reason) : reason;
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

/** One parsed frame; `payload` is unmasked and of the input's kind (a Buffer when parsing a Buffer). */
export interface ParsedFrame<T extends Uint8Array = Uint8Array> {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  maskingKey: T | null;
  payload: T;
  /** Bytes used by the extended length field: 0 (7-bit length), 2 or 8. */
  lengthBytes: 0 | 2 | 8;
}

/** Parses the whole frames at the start of `bytes`; an incomplete frame at the end is left out. */
export function parseFrames<T extends Uint8Array>(bytes: T): Array<ParsedFrame<T>> {
  return splitFrames(bytes).frames;
}

/** The whole frames at the start of `bytes`, and the bytes of the frame not complete yet. */
function splitFrames<T extends Uint8Array>(bytes: T): { frames: Array<ParsedFrame<T>>; rest: T } {
  const frames: Array<ParsedFrame<T>> = [];
  let offset = 0;
  for (;;) {
    const size = frameSize(bytes, offset);
    if (bytes.length - offset < size) break;
    const b0 = bytes[offset]!;
    const b1 = bytes[offset + 1]!;
    const masked = (b1 & 0x80) !== 0;
    const lengthBytes = (b1 & 0x7f) === 126 ? 2 : (b1 & 0x7f) === 127 ? 8 : 0;
    const start = offset + 2 + lengthBytes + (masked ? 4 : 0);
    // Copies, of the input's kind (TypedArray slice keeps a Buffer a Buffer).
    const maskingKey = masked ? (Uint8Array.prototype.slice.call(bytes, start - 4, start) as T) : null;
    const payload = Uint8Array.prototype.slice.call(bytes, start, offset + size) as T;
    if (maskingKey) for (let i = 0; i < payload.length; i++) payload[i]! ^= maskingKey[i & 3]!;
    frames.push({
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode: b0 & 0x0f,
      masked,
      maskingKey,
      payload,
      lengthBytes,
    });
    offset += size;
  }
  return { frames, rest: bytes.subarray(offset) as T };
}

/**
 * Parses bytes that must be whole, well-formed frames: throws on a truncated frame or a
 * non-minimal length (RFC 6455 §5.2), so a test that decodes what an endpoint wrote also checks it.
 */
export function decodeFrames<T extends Uint8Array>(bytes: T): Array<ParsedFrame<T>> {
  const { frames, rest } = splitFrames(bytes);
  if (rest.length > 0) throw new Error(`truncated frame at ${bytes.length - rest.length}`);
  for (const f of frames) {
    if (f.lengthBytes === 2 && f.payload.length < 126) throw new Error('non-minimal 16-bit length');
    if (f.lengthBytes === 8 && f.payload.length < 0x10000) throw new Error('non-minimal 64-bit length');
  }
  return frames;
}

/** Bytes the frame at `offset` needs in all (header and payload), as far as its first bytes tell. */
export function frameSize(bytes: Uint8Array, offset = 0): number {
  const have = bytes.length - offset;
  if (have < 2) return 2;
  const b1 = bytes[offset + 1]!;
  const mask = b1 & 0x80 ? 4 : 0;
  const length7 = b1 & 0x7f;
  if (length7 < 126) return 2 + mask + length7;
  const extra = length7 === 126 ? 2 : 8;
  if (have < 2 + extra) return 2 + extra;
  let length = 0;
  for (let i = 0; i < extra; i++) length = length * 256 + bytes[offset + 2 + i]!;
  return 2 + extra + mask + length;
}

/** Frames out of a byte stream that arrives in chunks; each frame is parsed once, when it is whole. */
export class FrameStream {
  #pending: Buffer[] = [];
  #pendingLength = 0;
  #need = 2;

  /** Takes the next chunk; returns the frames it completed. */
  push(chunk: Buffer): Array<ParsedFrame<Buffer>> {
    this.#pending.push(chunk);
    this.#pendingLength += chunk.length;
    if (this.#pendingLength < this.#need) return [];
    const { frames, rest } = splitFrames(Buffer.concat(this.#pending));
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingLength = rest.length;
    this.#need = frameSize(rest);
    return frames;
  }
}

/** The close code a close frame carries, or null for an empty one. */
export function closeCodeOf(frame: ParsedFrame): number | null {
  return frame.payload.length >= 2 ? (frame.payload[0]! << 8) | frame.payload[1]! : null;
}

/** "81 05 48 65" (spaces optional) to bytes. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

export function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Splits bytes at the given offsets (any order; out of range and repeated ones ignored), copying each piece. */
export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    out.push(bytes.slice(start, p));
    start = p;
  }
  out.push(bytes.slice(start));
  return out;
}
