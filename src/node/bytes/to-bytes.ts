/**
 * What users may send, turned into the bytes the core frames: strings encoded once, binary data
 * viewed where it can be (RFC 6455 §5.6: text is UTF-8, binary is opaque).
 * Must not: copy bytes that can be viewed instead.
 */

export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView | number | readonly Buffer[];

/** Bytes to send, and whether they are ours to modify (a fresh encoding of a string). */
export function toBytes(data: SendData): { bytes: Buffer; owned: boolean } {
  if (Buffer.isBuffer(data)) return { bytes: data, owned: false };
  if (typeof data === 'string') return { bytes: Buffer.from(data, 'utf8'), owned: true };
  if (typeof data === 'number') return { bytes: Buffer.from(String(data), 'utf8'), owned: true };
  if (data instanceof ArrayBuffer) return { bytes: Buffer.from(data), owned: false };
  if (ArrayBuffer.isView(data)) return { bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength), owned: false };
  if (Array.isArray(data)) return { bytes: Buffer.concat(data as Buffer[]), owned: true };
  throw new TypeError('data must be a string, Buffer, ArrayBuffer or ArrayBufferView');
}
