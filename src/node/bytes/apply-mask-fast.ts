/**
 * Masking at memory speed: a WebAssembly SIMD loop (src/node/bytes/wasm/mask.wat, assembled with
 * wat2wasm from Debian's wabt into the bytes below) XORs 16 bytes per instruction. Payloads are
 * copied into the module's memory, masked there and copied back, 64 KiB at a time; for the
 * payload sizes where that pays (see MIN_LENGTH) it is several times faster than the 32-bit JS
 * loop. Where WebAssembly SIMD is missing, the JS loop of the core does the work. maskIntoFast
 * copies the masked bytes out into another buffer instead of back, for the same cost.
 * Must not: keep any payload bytes between calls.
 */
import { applyMask, maskInto } from '../../protocol/mask.js';

/** Below this the copies cost more than the SIMD loop saves. */
const MIN_LENGTH = 512;
/** The module's memory: one page, so each call handles 64 KiB at most. */
const BLOCK = 65536;

const MODULE_BASE64 =
  'AGFzbQEAAAABBgFgAn9/AAMCAQAFAwEAAQcRAgZtZW1vcnkCAARtYXNrAAAKkwEBkAECAXsCfyAB/REhAiAAQUBxIQQCQANAIAMgBE8NASADIAP9AAQAIAL9Uf0LBAAgAyAD/QAEECAC/VH9CwQQIAMgA/0ABCAgAv1R/QsEICADIAP9AAQwIAL9Uf0LBDAgA0HAAGohAwwACwsCQANAIAMgAE8NASADIAP9AAQAIAL9Uf0LBAAgA0EQaiEDDAALCws=';

interface MaskExports {
  memory: { buffer: ArrayBuffer };
  mask: (length: number, key: number) => void;
}

/** The part of the WebAssembly global used here (the project's TypeScript libs do not declare it). */
interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

let exports: MaskExports | null | undefined;
/** The module's memory as bytes (it never grows, so the view stays valid). */
let memory: Uint8Array = new Uint8Array(0);

function load(): MaskExports | null {
  try {
    const bytes = Buffer.from(MODULE_BASE64, 'base64');
    const wasm = (globalThis as { WebAssembly?: WasmGlobal }).WebAssembly;
    if (wasm === undefined) return null;
    const instance = new wasm.Instance(new wasm.Module(bytes));
    const loaded = instance.exports as unknown as MaskExports;
    memory = new Uint8Array(loaded.memory.buffer, 0, BLOCK);
    return loaded;
  } catch {
    return null;
  }
}

/**
 * XORs `data` in place with `maskingKey`, as if `data` started `phase` bytes into the payload;
 * the same contract as the core's applyMask.
 */
export function applyMaskFast(data: Uint8Array, maskingKey: Uint8Array, phase = 0): void {
  if (data.length < MIN_LENGTH) return applyMask(data, maskingKey, phase);
  maskIntoFast(data, data, 0, maskingKey, phase);
}

/**
 * Writes `source` XOR `maskingKey` into `target` at `targetOffset` (`target` may be `source`);
 * the same contract as the core's maskInto.
 */
export function maskIntoFast(source: Uint8Array, target: Uint8Array, targetOffset: number, maskingKey: Uint8Array, phase = 0): void {
  const length = source.length;
  if (length < MIN_LENGTH) return maskInto(source, target, targetOffset, maskingKey, phase);
  if (exports === undefined) exports = load();
  if (exports === null) return maskInto(source, target, targetOffset, maskingKey, phase);
  // The key as it lines up with source[0], packed little-end first as the module reads it.
  const key =
    (maskingKey[phase & 3]! |
      (maskingKey[(phase + 1) & 3]! << 8) |
      (maskingKey[(phase + 2) & 3]! << 16) |
      (maskingKey[(phase + 3) & 3]! << 24)) |
    0;
  // Blocks start at multiples of 64 KiB, so every block lines up with the key as source[0] does.
  for (let start = 0; start < length; start += BLOCK) {
    const end = Math.min(start + BLOCK, length);
    // A source of one block (a 16 KiB message) is copied as it is, with no view made of it.
    memory.set(start === 0 && end === length ? source : source.subarray(start, end));
    exports.mask((end - start + 15) & ~15, key);
    target.set(memory.subarray(0, end - start), targetOffset + start);
  }
}
