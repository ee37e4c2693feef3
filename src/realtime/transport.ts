/**
 * The Transport port: one connection as the real-time server sees it. The glue of an entry
 * point (src/realtime.ts) adapts a WebSocket to it; tests use a fake. Text in, text out.
 * Must not: know about HTTP, sockets or WebSocket framing.
 */
import type { SharedText } from './shared-text.js';

export interface Transport {
  /** The subprotocol negotiated in the opening handshake ('' when none). */
  readonly protocol: string;
  /** Sends one text frame. Calls after close are ignored by the implementation. */
  send(text: string): void;
  /**
   * Optional capability: sends `message.text` as one text frame, like send, where the same
   * message goes to many connections (a channel's fan-out). An implementation that can frame
   * once for many keeps the framed form in the message (`message.prepared`), so the bytes are
   * made once and shared. Without it, the layer calls send(message.text).
   */
  sendShared?(message: SharedText): void;
  /** Starts the closing handshake with `code` and `reason`; onclose follows once. */
  close(code: number, reason: string): void;
  /** Set by the layer: a text frame arrived (binary frames arrive as bytes). */
  onmessage: ((data: string | Uint8Array) => void) | null;
  /** Set by the layer: the connection is closed (called once). */
  onclose: ((code: number, reason: string) => void) | null;
}
