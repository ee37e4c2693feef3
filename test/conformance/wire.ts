/**
 * Wire helpers of the conformance suite: turn a case's frame specs into the exact bytes a peer
 * sends (including the malformed ones frame-writer refuses to make: non-minimal lengths, RSV2/3,
 * reserved opcodes, truncated frames), cut those bytes into deliveries, and parse what the
 * endpoint under test sends back.
 * Must not: import the implementation under test beyond its constants, so a bug there cannot hide
 * itself in the oracle; nor test/support/frames.ts, the other tests' frame builder: the oracle is
 * independent of them by design, so one mistake in a shared helper cannot pass both suites.
 */
import type { CaseFrame, Case, Delivery } from './cases.js';

export type Peer = 'client' | 'server';

/** Masking keys for client frames, used in turn when a frame does not name its own (RFC 6455 §5.3). */
const MASKING_KEYS = [
  Uint8Array.of(0x37, 0xfa, 0x21, 0x3d),
  Uint8Array.of(0x8e, 0x01, 0xc4, 0x7b),
  Uint8Array.of(0x00, 0xff, 0x55, 0xaa),
  Uint8Array.of(0x9d, 0x63, 0xe2, 0x10),
];

export interface EncodedFrame {
  bytes: Uint8Array;
  headerLength: number;
}

/** One frame as `peer` would put it on the wire. A client masks unless the frame says `wrongMask`; a server masks only then. */
export function encodeCaseFrame(frame: CaseFrame, peer: Peer, index: number): EncodedFrame {
  const payload = frame.payload ?? new Uint8Array(0);
  const masked = (peer === 'client') !== (frame.wrongMask === true);
  const declared = frame.declaredLength ?? BigInt(payload.length);
  const form = frame.lengthForm ?? (declared < 126n ? 7 : declared < 0x10000n ? 16 : 64);
  const header: number[] = [];
  const rsv = frame.rsv ?? 0;
  header.push(((frame.fin ?? true) ? 0x80 : 0) | ((rsv & 0b111) << 4) | (frame.opcode & 0x0f));
  const maskBit = masked ? 0x80 : 0;
  if (form === 7) {
    header.push(maskBit | Number(declared));
  } else if (form === 16) {
    header.push(maskBit | 126, Number((declared >> 8n) & 0xffn), Number(declared & 0xffn));
  } else {
    header.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) header.push(Number((declared >> shift) & 0xffn));
  }
  const key = frame.maskingKey ?? MASKING_KEYS[index % MASKING_KEYS.length]!;
  if (masked) header.push(...key);
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  for (let i = 0; i < payload.length; i++) out[header.length + i] = masked ? payload[i]! ^ key[i & 3]! : payload[i]!;
  return { bytes: out, headerLength: header.length };
}

/**
 * The byte runs `peer` sends for a case, one per frame, cut off where the case says (the rest of
 * the conversation then never arrives).
 */
export function caseFrameBytes(c: Case, peer: Peer): Uint8Array[] {
  const frames = c.frames.map((f, i) => encodeCaseFrame(f, peer, i));
  if (!c.cutOff) return frames.map((f) => f.bytes);
  const { frame, payloadBytes } = c.cutOff;
  const kept = frames.slice(0, frame).map((f) => f.bytes);
  const last = frames[frame]!;
  kept.push(payloadBytes === undefined ? last.bytes : last.bytes.subarray(0, last.headerLength + payloadBytes));
  return kept;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
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

/** Cuts the per-frame byte runs into the writes of one delivery. Each piece is a fresh copy. */
export function deliver(frames: Uint8Array[], split: Delivery['split']): Uint8Array[] {
  if (split === 'frames') return frames.map((f) => f.slice());
  const all = concatBytes(frames);
  if (split === 'whole') return [all];
  const size = split === 'bytes' ? 1 : split;
  const out: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
  return out;
}

export interface ParsedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/**
 * Parses the frames an endpoint sent. Payloads are unmasked. `rest` holds the bytes of a frame
 * that did not arrive whole (an endpoint must never leave one).
 */
export function parseFrames(bytes: Uint8Array): { frames: ParsedFrame[]; rest: Uint8Array } {
  const frames: ParsedFrame[] = [];
  let i = 0;
  while (bytes.length - i >= 2) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1]!;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let header = 2;
    if (length === 126) {
      if (bytes.length - i < 4) break;
      length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
      header = 4;
    } else if (length === 127) {
      if (bytes.length - i < 10) break;
      let n = 0;
      for (let k = 2; k < 10; k++) n = n * 256 + bytes[i + k]!;
      length = n;
      header = 10;
    }
    if (masked) header += 4;
    if (bytes.length - i < header + length) break;
    const payload = bytes.slice(i + header, i + header + length);
    if (masked) {
      const key = bytes.subarray(i + header - 4, i + header);
      for (let k = 0; k < payload.length; k++) payload[k]! ^= key[k & 3]!;
    }
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 0b111, opcode: b0 & 0x0f, masked, payload });
    i += header + length;
  }
  return { frames, rest: bytes.subarray(i) };
}
