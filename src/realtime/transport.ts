/**
 * The Transport port: one connection as the real-time server sees it. The glue of an entry
 * point (src/realtime.ts) adapts a WebSocket to it; tests use a fake. Strings go as text frames,
 * bytes as binary frames (binary publications).
 * Must not: know about HTTP, sockets or WebSocket framing.
 */
import type { SharedText } from './shared-text.js';

export interface Transport {
  /** The subprotocol negotiated in the opening handshake ('' when none). */
  readonly protocol: string;
  /**
   * Sends one frame: text for a string, binary for bytes. `key` (a publication's `latest`) lets
   * a backed-up connection replace a waiting message of the same key by this one; messages
   * without a key are never replaced. Calls after close are ignored by the implementation.
   */
  send(data: string | Uint8Array, key?: string): void;
  /**
   * Optional capability: sends `message.data` as one frame, like send, where the same message
   * goes to many connections (a channel's fan-out). An implementation that can frame once for
   * many keeps the framed form in the message (`message.prepared`), so the bytes are made once
   * and shared. Without it, the layer calls send(message.data, key).
   */
  sendShared?(message: SharedText, key?: string): void;
  /** Starts the closing handshake with `code` and `reason`; onclose follows once. */
  close(code: number, reason: string): void;
  /** Set by the layer: a text frame (a string) or a binary frame (bytes) arrived. */
  onmessage: ((data: string | Uint8Array) => void) | null;
  /** Set by the layer: the connection is closed (called once). */
  onclose: ((code: number, reason: string) => void) | null;
}
