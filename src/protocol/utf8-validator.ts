/**
 * Incremental UTF-8 validation (RFC 3629 §4, as RFC 6455 §8.1 requires for text messages).
 * Fed piece by piece, it reports the first invalid byte in the piece where it arrives, so a
 * connection fails fast instead of at the end of the message.
 * Must not: allocate, decode, or keep references to the bytes it checks.
 */

export class Utf8Validator {
  /** Continuation bytes still expected by the current sequence. */
  #need = 0;
  /** Allowed range of the next continuation byte (narrowed after E0, ED, F0, F4). */
  #lower = 0x80;
  #upper = 0xbf;

  /** Checks `bytes[start..end)`; false as soon as a byte cannot be part of valid UTF-8. */
  update(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
    let need = this.#need;
    let lower = this.#lower;
    let upper = this.#upper;
    let i = start;
    while (i < end) {
      const b = bytes[i]!;
      if (need === 0) {
        if (b < 0x80) {
          i++;
          // ASCII runs are the common case: skip them without touching the state.
          while (i < end && bytes[i]! < 0x80) i++;
          continue;
        }
        if (b >= 0xc2 && b <= 0xdf) need = 1;
        else if (b >= 0xe0 && b <= 0xef) {
          need = 2;
          if (b === 0xe0) lower = 0xa0; // overlong
          else if (b === 0xed) upper = 0x9f; // UTF-16 surrogates
        } else if (b >= 0xf0 && b <= 0xf4) {
          need = 3;
          if (b === 0xf0) lower = 0x90; // overlong
          else if (b === 0xf4) upper = 0x8f; // beyond U+10FFFF
        } else {
          return this.#fail();
        }
      } else {
        if (b < lower || b > upper) return this.#fail();
        lower = 0x80;
        upper = 0xbf;
        need--;
      }
      i++;
    }
    this.#need = need;
    this.#lower = lower;
    this.#upper = upper;
    return true;
  }

  /** True when the bytes so far end on a character boundary (a message may end here). */
  isComplete(): boolean {
    return this.#need === 0;
  }

  reset(): void {
    this.#need = 0;
    this.#lower = 0x80;
    this.#upper = 0xbf;
  }

  #fail(): false {
    this.reset();
    return false;
  }
}

const shared = new Utf8Validator();

/** Whole-buffer check, for close reasons and complete messages. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  shared.reset();
  const ok = shared.update(bytes) && shared.isComplete();
  shared.reset();
  return ok;
}
