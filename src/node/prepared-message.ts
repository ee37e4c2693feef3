/**
 * A message framed once for many connections (broadcast, publish): the unmasked frame is built
 * once, and the compressed frame once per window size, then the same bytes go to every
 * recipient. Compressing once is valid for every peer: a sender may always compress a message
 * without referring to earlier ones (RFC 7692 §7.2.1); the connection then restarts its own
 * sending window.
 * deliverToAll() hands one to many connections (a server's broadcast).
 * Must not: hold per-connection state.
 */
import { Opcode } from '../protocol/constants.js';
import { frameHeaderSize, writeFrameHeader } from '../protocol/frame-writer.js';
import { compressShared } from './compression/deflate-codec.js';
import type { ResolvedDeflateOptions } from './options.js';

export class PreparedMessage {
  readonly payload: Buffer;
  readonly binary: boolean;
  readonly compress: boolean;
  readonly #deflateOptions: ResolvedDeflateOptions;
  #plain: Buffer | null = null;
  readonly #compressed = new Map<number, Buffer>();

  constructor(payload: Buffer, binary: boolean, compress: boolean, deflateOptions: ResolvedDeflateOptions = {}) {
    this.payload = payload;
    this.binary = binary;
    this.compress = compress;
    this.#deflateOptions = deflateOptions;
  }

  /** The uncompressed frame. */
  get plainFrame(): Buffer {
    return (this.#plain ??= frame(this.payload, this.binary, false));
  }

  /** The frame compressed with `windowBits` (RSV1 set), made on first use. */
  compressedFrame(windowBits: number): Buffer {
    let out = this.#compressed.get(windowBits);
    if (!out) {
      out = frame(compressShared(this.payload, windowBits, this.#deflateOptions), this.binary, true);
      this.#compressed.set(windowBits, out);
    }
    return out;
  }
}

function frame(payload: Uint8Array, binary: boolean, rsv1: boolean): Buffer {
  const size = frameHeaderSize(payload.length, false);
  const out = Buffer.allocUnsafe(size + payload.length);
  writeFrameHeader(out, 0, true, rsv1, binary ? Opcode.BINARY : Opcode.TEXT, payload.length, null);
  out.set(payload, size);
  return out;
}

/** Delivers `message` to each of `connections` whose owner `filter` keeps (all without one); returns to how many it was not dropped. */
export function deliverToAll<O>(
  connections: Iterable<{ readonly owner: O; deliver(message: PreparedMessage, key: undefined): string }>,
  message: PreparedMessage,
  filter: ((owner: O) => boolean) | undefined,
): number {
  let sent = 0;
  for (const connection of connections) {
    if (filter && !filter(connection.owner)) continue;
    if (connection.deliver(message, undefined) !== 'dropped') sent++;
  }
  return sent;
}
