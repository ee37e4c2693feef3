/**
 * A received binary message in the shape users asked for (`binaryType`, as in `ws` and the
 * browser): a Buffer view, an ArrayBuffer, a list of fragments, or a Blob. Text messages are
 * not converted: `binaryType` applies to binary messages only.
 * Must not: copy bytes that can be viewed instead.
 */
import { Buffer } from 'node:buffer';

export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';

export function isBinaryType(type: unknown): type is BinaryType {
  return type === 'nodebuffer' || type === 'arraybuffer' || type === 'fragments' || type === 'blob';
}

/** A Buffer view of core bytes (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A message payload in the shape `binaryType` asks for. */
export function convertMessage(bytes: Uint8Array, binaryType: BinaryType): Buffer | ArrayBuffer | Buffer[] | Blob {
  const buffer = asBuffer(bytes);
  if (binaryType === 'arraybuffer') {
    if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength) return buffer.buffer as ArrayBuffer;
    return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
  }
  if (binaryType === 'fragments') return [buffer];
  if (binaryType === 'blob') return new Blob([buffer]);
  return buffer;
}
