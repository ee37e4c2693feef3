/**
 * RFC 6455 §5.3: XOR masking of payload bytes with a 4-byte masking key.
 * Works a 32-bit word at a time on the aligned middle of the data, bytes at the ends.
 * Must not: allocate per call beyond two small views, or care which side is masking.
 */

const keyBytes = new Uint8Array(4);
const keyWord = new Uint32Array(keyBytes.buffer);

/**
 * XORs `data` in place with `maskingKey`, as if `data` started `phase` bytes into the payload
 * (so a payload may be unmasked piece by piece as it arrives).
 */
export function applyMask(data: Uint8Array, maskingKey: Uint8Array, phase = 0): void {
  maskInto(data, data, 0, maskingKey, phase);
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
  // Byte steps until the target is 4-byte aligned and the source lines up with it.
  const targetAbs = target.byteOffset + targetOffset;
  const aligned = (source.byteOffset & 3) === (targetAbs & 3) && length >= 16;
  if (aligned) {
    const head = (4 - (targetAbs & 3)) & 3;
    for (; i < head; i++) target[targetOffset + i] = source[i]! ^ maskingKey[(phase + i) & 3]!;
    const words = (length - i) >>> 2;
    if (words > 0) {
      const p = phase + i;
      keyBytes[0] = maskingKey[p & 3]!;
      keyBytes[1] = maskingKey[(p + 1) & 3]!;
      keyBytes[2] = maskingKey[(p + 2) & 3]!;
      keyBytes[3] = maskingKey[(p + 3) & 3]!;
      const k = keyWord[0]!;
      const src = new Uint32Array(source.buffer, source.byteOffset + i, words);
      const dst = new Uint32Array(target.buffer, targetAbs + i, words);
      for (let w = 0; w < words; w++) dst[w] = src[w]! ^ k;
      i += words << 2;
    }
  }
  for (; i < length; i++) target[targetOffset + i] = source[i]! ^ maskingKey[(phase + i) & 3]!;
}
