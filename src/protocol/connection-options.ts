/**
 * What a Sans-I/O connection (connection.ts) is made with and what it reports: its options, the
 * events it queues, its states and the defaults of its limits.
 * Must not: hold state or code beyond these declarations (the connection itself is connection.ts).
 */
import type { MessageCodec } from './codec.js';
import type { ProtocolError } from './errors.js';
import type { MaskFunction, MaskIntoFunction } from './mask.js';

export type Side = 'server' | 'client';
export type ConnectionState = 'OPEN' | 'CLOSING' | 'CLOSED';

/**
 * A connection keeps its options object and reads it again when it makes its parts, so the
 * object must not change after the connection is made; one object may serve many connections.
 */
export interface ConnectionOptions {
  side: Side;
  /** Largest message accepted, in bytes, after reassembly (and inflation). 0 means no limit. */
  maxPayload?: number;
  /** Most frames one message may be split into. 0 means no limit. */
  maxFragments?: number;
  /** Most automatic pongs queued and not yet taken; past it only the newest ping is answered. */
  maxPendingPongs?: number;
  /** Answer pings with pongs automatically (RFC 6455 §5.5.2). */
  autoPong?: boolean;
  /**
   * Answer a received close frame at once (the default). With false, the caller answers with
   * sendClose() when it has handled the events before the close, so replies to messages that
   * arrived just before the close can still be sent (RFC 6455 §5.5.1 allows data until then).
   * The same holds for a failure found in the peer's bytes: on the 'error' event the caller
   * sends sendClose(error.closeCode).
   */
  autoCloseReply?: boolean;
  /** Trust the peer's text to be UTF-8 (skips §8.1 checks; only for trusted peers). */
  skipUtf8Validation?: boolean;
  /** Fills a 4-byte masking key; required on the client (RFC 6455 §5.3: unpredictable keys). */
  generateMask?: (maskingKey: Uint8Array) => void;
  /** Masks in place, as applyMask does (Node passes a WebAssembly SIMD one). Default: applyMask. */
  mask?: MaskFunction;
  /** Masks while copying, as maskInto does (Node passes a SIMD one). Default: maskInto. */
  maskInto?: MaskIntoFunction;
  /** Allocates output and message buffers (Node passes Buffer.allocUnsafe so output needs no conversion). */
  allocate?: (size: number) => Uint8Array;
  /** A faster whole-buffer UTF-8 check to use on complete messages (the incremental one is kept for pieces). */
  isUtf8?: (bytes: Uint8Array) => boolean;
  /** The negotiated compression extension, if any: lets RSV1 through and handles its messages. */
  codec?: MessageCodec | null;
}

export type ConnectionEvent =
  | { type: 'message'; data: Uint8Array; binary: boolean }
  | { type: 'ping'; data: Uint8Array }
  | { type: 'pong'; data: Uint8Array }
  /** A close frame arrived. `code` is 1005 when it carried none. */
  | { type: 'close'; code: number; reason: Uint8Array }
  /** This endpoint failed the connection; a close frame with `error.closeCode` is queued. */
  | { type: 'error'; error: ProtocolError };

export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
export const DEFAULT_MAX_FRAGMENTS = 131072;
export const DEFAULT_MAX_PENDING_PONGS = 16;
