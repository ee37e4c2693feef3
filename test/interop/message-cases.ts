/**
 * The messages every peer must carry both ways, byte for byte, and the deterministic
 * generators for the large ones. The browser page (chromium/peer-page.js) implements the same
 * generators, so a 1 MiB message can be made on either side and compared on the other.
 */
export const MIB = 1024 * 1024;

/** 16 UTF-8 bytes: 1-, 2-, 3- and 4-byte sequences, so 65536 repeats are exactly 1 MiB. */
export const TEXT_UNIT = 'fdx-é✓🚀abc';

export type Pattern = { kind: 'bytes' | 'text'; length: number };

export interface MessageCase {
  name: string;
  binary: boolean;
  /** The exact payload bytes (UTF-8 for text). */
  data: Buffer;
  /** Set for large messages a remote peer should generate itself rather than receive. */
  pattern?: Pattern;
}

/** Bytes from a 32-bit LCG (top byte of each state): no short period, so shifts show up. */
export function patternBytes(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** `length` bytes of UTF-8 text; `length` must be a multiple of 16. */
export function patternText(length: number): string {
  if (length % 16 !== 0) throw new RangeError('text pattern length must be a multiple of 16');
  return TEXT_UNIT.repeat(length / 16);
}

export function generate(pattern: Pattern): Buffer {
  return pattern.kind === 'bytes' ? patternBytes(pattern.length) : Buffer.from(patternText(pattern.length), 'utf8');
}

const allByteValues = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

export const MESSAGE_CASES: readonly MessageCase[] = [
  { name: 'a text message', binary: false, data: Buffer.from('héllo, wörld ✓ 🚀 \u0000 end', 'utf8') },
  { name: 'a binary message', binary: true, data: allByteValues },
  { name: 'an empty text message', binary: false, data: Buffer.alloc(0) },
  { name: 'an empty binary message', binary: true, data: Buffer.alloc(0) },
  { name: 'a 1 MiB binary message', binary: true, data: patternBytes(MIB), pattern: { kind: 'bytes', length: MIB } },
  { name: 'a 1 MiB text message', binary: false, data: generate({ kind: 'text', length: MIB }), pattern: { kind: 'text', length: MIB } },
];

/** Short description of a payload for assertion messages (never dump 1 MiB). */
export function describeBytes(bytes: Buffer): string {
  return bytes.length <= 64 ? `${bytes.length} bytes ${bytes.toString('hex')}` : `${bytes.length} bytes starting ${bytes.subarray(0, 16).toString('hex')}`;
}
