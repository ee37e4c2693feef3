/**
 * Frame builders and hex helpers for tests: wire bytes written as hex, frames built field by field.
 */
import { encodeFrame, Opcode, type FrameFields } from '../../src/protocol/index.js';

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

export const MASK = hex('37 fa 21 3d');

/** A frame as a client sends it (masked). */
export function clientFrame(fields: FrameFields): Uint8Array {
  return encodeFrame({ maskingKey: MASK, ...fields });
}

/** A frame as a server sends it (unmasked). */
export function serverFrame(fields: FrameFields): Uint8Array {
  return encodeFrame({ ...fields, maskingKey: null });
}

export function closePayload(code: number, reason = ''): Uint8Array {
  const r = utf8(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Splits bytes at the given offsets (sorted, within range), copying each piece. */
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

export { Opcode };
