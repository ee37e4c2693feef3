/**
 * Masking at memory speed: a WebAssembly SIMD loop (src/node/bytes/wasm/mask.wat, assembled with
 * wat2wasm from Debian's wabt into the bytes below) XORs 16 bytes per instruction. Payloads are
 * copied into the module's memory, masked there and copied back, 64 KiB at a time; for the
 * payload sizes where that pays (see MIN_LENGTH) it is several times faster than the 32-bit JS
 * loop. Where WebAssembly SIMD is missing, the JS loop of the core does the work. maskIntoFast
 * copies the masked bytes out into another buffer instead of back, for the same cost.
 * The module's second page is the read area (sharedReadArea): bytes a socket read there are
 * masked in place, with no copy at all.
 * Must not: keep any payload bytes between calls, or hand out the read area to anything that
 * keeps it past the read it holds.
 */
import { applyMask, maskInto } from '../../protocol/mask.js';

/** Below this the copies cost more than the SIMD loop saves. */
const MIN_LENGTH = 512;
/** The first page of the module's memory, where payloads are copied: each call masks 64 KiB at most. */
const BLOCK = 65536;
/** The second page: the read area (see sharedReadArea). */
const READ_AREA_SIZE = 65536;
/** In the read area, below this the JS loop is cheaper than the call into the module. */
const MIN_IN_PLACE = 64;

const MODULE_BASE64 =
  'AGFzbQEAAAABBwFgA39/fwADAgEABQMBAAIHEQIGbWVtb3J5AgAEbWFzawAACtoBAdcBAgF7BH8gAv0RIQMgACEEIAAgAWohBSAAIAFBQHFqIQYgACABQXBxaiEHAkADQCAEIAZPDQEgBCAE/QAAACAD/VH9CwAAIAQgBP0AABAgA/1R/QsAECAEIAT9AAAgIAP9Uf0LACAgBCAE/QAAMCAD/VH9CwAwIARBwABqIQQMAAsLAkADQCAEIAdPDQEgBCAE/QAAACAD/VH9CwAAIARBEGohBAwACwsCQANAIAQgBU8NASAEIAQtAAAgAiAEIABrQQNxQQN0dnM6AAAgBEEBaiEEDAALCws=';

interface MaskExports {
  memory: { buffer: ArrayBuffer };
  mask: (at: number, length: number, key: number) => void;
}

/** The part of the WebAssembly global used here (the project's TypeScript libs do not declare it). */
interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

let exports: MaskExports | null | undefined;
/** The module's memory as bytes (it never grows, so the view stays valid). */
let memory: Uint8Array = new Uint8Array(0);
/** The module's memory itself, to tell bytes of the read area from any others. */
let memoryBuffer: ArrayBuffer | null = null;
/** The read area as a Buffer, made once. */
let readArea: Buffer | null = null;

function load(): MaskExports | null {
  try {
    const bytes = Buffer.from(MODULE_BASE64, 'base64');
    const wasm = (globalThis as { WebAssembly?: WasmGlobal }).WebAssembly;
    if (wasm === undefined) return null;
    const instance = new wasm.Instance(new wasm.Module(bytes));
    const loaded = instance.exports as unknown as MaskExports;
    memory = new Uint8Array(loaded.memory.buffer, 0, BLOCK);
    memoryBuffer = loaded.memory.buffer;
    return loaded;
  } catch {
    return null;
  }
}

/** The key as it lines up with a payload byte at `phase`, packed little-end first as the module reads it. */
function packKey(maskingKey: Uint8Array, phase: number): number {
  return (
    (maskingKey[phase & 3]! |
      (maskingKey[(phase + 1) & 3]! << 8) |
      (maskingKey[(phase + 2) & 3]! << 16) |
      (maskingKey[(phase + 3) & 3]! << 24)) |
    0
  );
}

/**
 * The read area: 64 KiB of the module's memory that a server's sockets read into (one read at a
 * time, each used up before the next), so the bytes a read brings are unmasked where they landed,
 * with no copy in and out. Null where the module cannot be loaded.
 */
export function sharedReadArea(): Buffer | null {
  if (exports === undefined) exports = load();
  if (exports === null) return null;
  return (readArea ??= Buffer.from(memoryBuffer!, BLOCK, READ_AREA_SIZE));
}

/**
 * XORs `data` in place with `maskingKey`, as if `data` started `phase` bytes into the payload;
 * the same contract as the core's applyMask. Bytes of the read area are masked where they are.
 */
export function applyMaskFast(data: Uint8Array, maskingKey: Uint8Array, phase = 0): void {
  // (The length first: reading `buffer` of a small on-heap array would move it off the heap.)
  if (data.length >= MIN_IN_PLACE && data.buffer === memoryBuffer) return exports!.mask(data.byteOffset, data.length, packKey(maskingKey, phase));
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
  const key = packKey(maskingKey, phase);
  // Blocks start at multiples of 64 KiB, so every block lines up with the key as source[0] does.
  for (let start = 0; start < length; start += BLOCK) {
    const end = Math.min(start + BLOCK, length);
    // A source of one block (a 16 KiB message) is copied as it is, with no view made of it.
    memory.set(start === 0 && end === length ? source : source.subarray(start, end));
    exports.mask(0, end - start, key);
    target.set(memory.subarray(0, end - start), targetOffset + start);
  }
}
