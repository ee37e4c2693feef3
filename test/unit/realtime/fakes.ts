/**
 * A fake for the real-time layer's Transport port: the server's view of one connection, which
 * records what the layer sent. (The fake clock is the shared one, test/support/fake-clock.ts.)
 */
import type { SharedText } from '../../../src/realtime/shared-text.js';
import type { Transport } from '../../../src/realtime/transport.js';

/** The server's view of one connection, recording every frame it sent. */
export class FakeTransport implements Transport {
  protocol = 'fdx.v1';
  /** The text frames sent, in order. */
  sent: string[] = [];
  /** Every frame sent (text and binary), in order, with its `latest` key. */
  frames: Array<{ data: string | Uint8Array; key: string | undefined }> = [];
  /** What came through sendShared, in order (those frames are in `sent` and `frames` too). */
  shared: SharedText[] = [];
  closed: { code: number; reason: string } | null = null;
  onmessage: ((data: string | Uint8Array) => void) | null = null;
  onclose: ((code: number, reason: string) => void) | null = null;
  /** Present unless made with `{ sendShared: false }`: a transport without the capability. */
  sendShared?: (message: SharedText, key?: string) => void;

  constructor(options: { sendShared?: boolean } = {}) {
    if (options.sendShared !== false) {
      this.sendShared = (message, key) => {
        if (this.closed) return;
        this.shared.push(message);
        this.#record(message.data, key);
      };
    }
  }

  send(data: string | Uint8Array, key?: string): void {
    if (!this.closed) this.#record(data, key);
  }
  #record(data: string | Uint8Array, key: string | undefined): void {
    if (typeof data === 'string') this.sent.push(data);
    this.frames.push({ data, key });
  }
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    this.onclose?.(code, reason);
  }
  /** The client side sends a message. */
  receive(message: unknown): void {
    this.onmessage?.(typeof message === 'string' || message instanceof Uint8Array ? message : JSON.stringify(message));
  }
  /** The connection drops without a close frame. */
  drop(): void {
    if (this.closed) return;
    this.closed = { code: 1006, reason: '' };
    this.onclose?.(1006, '');
  }
  /** Every text message sent so far, parsed; clears the record (of text and binary frames). */
  take(): any[] {
    const out = this.sent.map((text) => JSON.parse(text));
    this.sent = [];
    this.frames = [];
    return out;
  }
}
