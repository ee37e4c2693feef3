/**
 * What users may send, turned into the bytes the core frames: strings encoded once, binary data
 * viewed where it can be (RFC 6455 §5.6: text is UTF-8, binary is opaque). Accepts what `ws`
 * accepts: numbers are sent as their decimal text, nothing (undefined, null) as an empty
 * message, arrays and objects with valueOf as Buffer.from makes them; a Blob is read
 * asynchronously by the caller (its bytes are not at hand).
 * Must not: copy bytes that can be viewed instead.
 */

/** Everything `send()` takes (the types `ws` accepts). */
export type SendData =
  | string
  | number
  | Buffer
  | ArrayBuffer
  | SharedArrayBuffer
  | ArrayBufferView
  | DataView
  | Blob
  | readonly any[]
  | readonly number[]
  | { valueOf(): ArrayBuffer }
  | { valueOf(): SharedArrayBuffer }
  | { valueOf(): Uint8Array }
  | { valueOf(): readonly number[] }
  | { valueOf(): string }
  | { [Symbol.toPrimitive](hint: string): string };

export interface Bytes {
  bytes: Buffer;
  /** A fresh copy (an encoded string, a concatenation): ours to modify, e.g. to mask in place. */
  owned: boolean;
}

const EMPTY: Bytes = { bytes: Buffer.alloc(0), owned: false };

/** The bytes of `data`, or null for a Blob (whose bytes must be read first). */
export function toBytes(data: SendData | null | undefined): Bytes | null {
  if (Buffer.isBuffer(data)) return { bytes: data, owned: false };
  if (typeof data === 'string') return { bytes: Buffer.from(data, 'utf8'), owned: true };
  if (data instanceof ArrayBuffer) return { bytes: Buffer.from(data), owned: false };
  if (ArrayBuffer.isView(data)) return { bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength), owned: false };
  if (typeof data === 'number') return { bytes: Buffer.from(String(data), 'utf8'), owned: true };
  if (data === undefined || data === null) return EMPTY;
  if (data instanceof Blob) return null;
  if (Array.isArray(data) && data.every((item) => Buffer.isBuffer(item))) return { bytes: Buffer.concat(data as Buffer[]), owned: true };
  return { bytes: Buffer.from(data as Parameters<typeof Buffer.from>[0] as string), owned: true };
}

/** toBytes for the synchronous paths (broadcast, publish, control frames), where a Blob cannot wait. */
export function syncBytes(data: SendData | null | undefined): Bytes {
  const converted = toBytes(data);
  if (converted === null) throw new TypeError('A Blob can only be sent with send()');
  return converted;
}

/** Whether `data` goes as text when `binary` is not given: strings and numbers, as in `ws`. */
export function isText(data: unknown): boolean {
  return typeof data === 'string' || typeof data === 'number';
}
