/**
 * The whole-message UTF-8 check handed to the core (RFC 6455 §8.1): short ASCII text is settled
 * in JS, everything else by node:buffer's native isUtf8. Pieces of fragmented messages use the
 * core's incremental validator instead.
 * Must not: accept what the core's validator rejects (the tests compare both).
 */
import { isUtf8 } from 'node:buffer';

/** Up to this length a JS scan for ASCII costs less than the call into node:buffer's isUtf8. */
const ASCII_SCAN_LIMIT = 64;

export function isValidUtf8Message(bytes: Uint8Array): boolean {
  const length = bytes.length;
  if (length <= ASCII_SCAN_LIMIT) {
    let high = 0;
    for (let i = 0; i < length; i++) high |= bytes[i]!;
    if (high < 0x80) return true;
  }
  return isUtf8(bytes);
}
