/**
 * The port through which a negotiated compression extension (RFC 7692 permessage-deflate) plugs
 * into the pure core. The core decides when a message is compressed (RSV1 on its first frame,
 * RFC 7692 §6) and applies limits; the codec only turns bytes into bytes, synchronously.
 * Implementations live outside protocol/ (node/ wraps node:zlib); core tests use a fake.
 * Must not: import anything but the error type, or be asynchronous.
 */
import type { ProtocolError } from './errors.js';

export interface MessageCodec {
  /** Should an outgoing message of `length` bytes be compressed (the threshold rule)? */
  shouldCompress(length: number): boolean;
  /**
   * Compresses one whole message (RFC 7692 §7.2.1: the trailing 00 00 ff ff removed), or with
   * `fin` false one fragment of it, which keeps its flush marker.
   */
  compress(data: Uint8Array, fin: boolean): Uint8Array;
  /**
   * Inflates one whole message. Must stop and return a ProtocolError with code
   * WS_ERR_UNSUPPORTED_MESSAGE_LENGTH as soon as the output passes `maxLength` (0: no limit),
   * before allocating beyond it, and WS_ERR_INFLATE_FAILED on corrupt data.
   */
  decompress(data: Uint8Array, maxLength: number): Uint8Array | ProtocolError;
}
