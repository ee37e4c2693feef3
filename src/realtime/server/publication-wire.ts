/**
 * Publications as they go on the wire: the `pub` of a live publication (a text frame, or a
 * binary frame when its data is bytes) and a kept publication in a subscribe reply's JSON
 * (bytes as base64 in `bytes`). docs/protocol.md sections 1 and 4 specify both.
 * Must not: import node:* (Buffer is used only when the runtime has it).
 */
import type { EnginePublication } from '../engine.js';
import { frameBinary, serialize, type PublicationBody } from '../protocol.js';

/** A publication's `pub`: a text frame, or a binary frame for bytes (docs/protocol.md section 1). */
export function pubFrame({ channel, offset, epoch, data }: EnginePublication): string | Uint8Array {
  return data instanceof Uint8Array ? frameBinary({ type: 'pub', channel, offset, epoch }, data) : serialize({ type: 'pub', channel, offset, epoch, data });
}

/** A kept publication in a subscribe reply (JSON): bytes as base64 in `bytes`. */
export function wirePublication(publication: PublicationBody): PublicationBody {
  const data = publication.data;
  return data instanceof Uint8Array ? { offset: publication.offset, bytes: toBase64(data) } : publication;
}

function toBase64(bytes: Uint8Array): string {
  const buffer = (globalThis as { Buffer?: { from(b: ArrayBufferLike, o: number, l: number): { toString(e: string): string } } }).Buffer;
  if (buffer) return buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
