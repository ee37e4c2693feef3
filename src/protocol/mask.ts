/**
 * RFC 6455 §5.3: XOR masking of payload bytes with a 4-byte masking key.
 * Works a 32-bit word at a time on the aligned middle of the data, bytes at the ends. The
 * 32-bit views are made once per underlying ArrayBuffer and reused: socket reads carry many
 * small frames in one buffer, so most calls make no view at all.
 * Must not: allocate per call, or care which side is masking.
 */

const keyBytes = new Uint8Array(4);
const keyWord = new Uint32Array(keyBytes.buffer);

/** Below this length the unrolled byte loop is cheaper than setting up the word loop. */
const WORD_THRESHOLD = 384;

let sourceBuffer: ArrayBufferLike | null = null;
let sourceWords: Uint32Array = new Uint32Array(0);
let targetBuffer: ArrayBufferLike | null = null;
let targetWords: Uint32Array = new Uint32Array(0);

function wordsOf(buffer: ArrayBufferLike, cached: ArrayBufferLike | null, view: Uint32Array): Uint32Array {
  return buffer === cached && view.length === buffer.byteLength >>> 2
    ? view
    : new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
}

/** The signature of applyMask, for faster implementations passed in from outside the core. */
export type MaskFunction = (data: Uint8Array, maskingKey: Uint8Array, phase: number) => void;
/** The signature of maskInto, likewise. */
export type MaskIntoFunction = (source: Uint8Array, target: Uint8Array, targetOffset: number, maskingKey: Uint8Array, phase: number) => void;

/**
 * XORs `data` in place with `maskingKey`, as if `data` started `phase` bytes into the payload
 * (so a payload may be unmasked piece by piece as it arrives).
 */
export function applyMask(data: Uint8Array, maskingKey: Uint8Array, phase = 0): void {
  const length = data.length;
  if (length >= WORD_THRESHOLD) return maskInto(data, data, 0, maskingKey, phase);
  const k0 = maskingKey[phase & 3]!;
  const k1 = maskingKey[(phase + 1) & 3]!;
  const k2 = maskingKey[(phase + 2) & 3]!;
  const k3 = maskingKey[(phase + 3) & 3]!;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    data[i] ^= k0;
    data[i + 1] ^= k1;
    data[i + 2] ^= k2;
    data[i + 3] ^= k3;
  }
  if (i < length) data[i++] ^= k0;
  if (i < length) data[i++] ^= k1;
  if (i < length) data[i] ^= k2;
}

/**
 * Writes `source` XOR `maskingKey` into `target` at `targetOffset`. `target` may be `source`.
 */
export function maskInto(
  source: Uint8Array,
  target: Uint8Array,
  targetOffset: number,
  maskingKey: Uint8Array,
  phase = 0,
): void {
  const length = source.length;
  let i = 0;
  const targetAbs = target.byteOffset + targetOffset;
  // Words only where the source lines up with the target's 4-byte alignment.
  if (length >= WORD_THRESHOLD && (source.byteOffset & 3) === (targetAbs & 3)) {
    const head = (4 - (targetAbs & 3)) & 3;
    for (; i < head; i++) target[targetOffset + i] = source[i]! ^ maskingKey[(phase + i) & 3]!;
    const words = (length - i) >>> 2;
    const p = phase + i;
    keyBytes[0] = maskingKey[p & 3]!;
    keyBytes[1] = maskingKey[(p + 1) & 3]!;
    keyBytes[2] = maskingKey[(p + 2) & 3]!;
    keyBytes[3] = maskingKey[(p + 3) & 3]!;
    const k = keyWord[0]!;
    const src = (sourceWords = wordsOf(source.buffer, sourceBuffer, sourceWords));
    sourceBuffer = source.buffer;
    const dst = target.buffer === source.buffer ? src : (targetWords = wordsOf(target.buffer, targetBuffer, targetWords));
    if (dst !== src) targetBuffer = target.buffer;
    const s0 = (source.byteOffset + i) >>> 2;
    const d0 = (targetAbs + i) >>> 2;
    for (let w = 0; w < words; w++) dst[d0 + w] = src[s0 + w]! ^ k;
    i += words << 2;
  }
  if (i === 0) {
    // Short data: four bytes a step with the key rotated by the phase.
    const k0 = maskingKey[phase & 3]!;
    const k1 = maskingKey[(phase + 1) & 3]!;
    const k2 = maskingKey[(phase + 2) & 3]!;
    const k3 = maskingKey[(phase + 3) & 3]!;
    for (; i + 3 < length; i += 4) {
      const t = targetOffset + i;
      target[t] = source[i]! ^ k0;
      target[t + 1] = source[i + 1]! ^ k1;
      target[t + 2] = source[i + 2]! ^ k2;
      target[t + 3] = source[i + 3]! ^ k3;
    }
  }
  for (; i < length; i++) target[targetOffset + i] = source[i]! ^ maskingKey[(phase + i) & 3]!;
}
