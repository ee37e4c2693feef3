/**
 * One sample of one series as the bytes of a binary publication: 16 bytes, little-endian,
 *   0  float64  t   ms since the epoch
 *   8  float64  v   the value
 * Shared by the server and the page (bundled into it), so both read the same layout.
 * Must not: import anything (the page's bundle takes this file as it is).
 */

export const SAMPLE_BYTES = 16;

export interface Sample {
  t: number;
  v: number;
}

export function encodeSample(t: number, v: number): Uint8Array {
  const bytes = new Uint8Array(SAMPLE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, t, true);
  view.setFloat64(8, v, true);
  return bytes;
}

/** The sample in `bytes`, or null when they are not one. */
export function decodeSample(bytes: Uint8Array): Sample | null {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SAMPLE_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { t: view.getFloat64(0, true), v: view.getFloat64(8, true) };
}
