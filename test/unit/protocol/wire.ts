/**
 * Shared by the protocol unit tests and the fuzz properties: connection factories, a strict
 * frame decoder for what a Connection writes, and event summaries that compare by value.
 */
import { Connection, type ConnectionEvent, type ConnectionOptions } from '../../../src/protocol/index.js';
import { toHex } from '../../support/frames.js';

/** A deterministic mask source: each call gives the next key of a fixed cycle. */
export function cyclingMask(): (key: Uint8Array) => void {
  let n = 0;
  return (key) => {
    n++;
    key[0] = (0x11 * n) & 0xff;
    key[1] = (0x5a + n) & 0xff;
    key[2] = (0xc3 ^ n) & 0xff;
    key[3] = (0x7e + 3 * n) & 0xff;
  };
}

export function serverConnection(options: Partial<ConnectionOptions> = {}): Connection {
  return new Connection({ ...options, side: 'server' });
}

export function clientConnection(options: Partial<ConnectionOptions> = {}): Connection {
  return new Connection({ generateMask: cyclingMask(), ...options, side: 'client' });
}

// Frames are decoded by the tests' one parser; these names stay for the tests that use them.
import { closeCodeOf, concat as joinChunks, decodeFrames, type ParsedFrame as DecodedFrame } from '../../support/frames.js';
export { closeCodeOf, decodeFrames, joinChunks, type DecodedFrame };

/** Takes and decodes everything the connection queued to send. */
export function takeFrames(conn: Connection): DecodedFrame[] {
  return decodeFrames(joinChunks(conn.takeOutput()));
}

export type EventSummary =
  | { type: 'message'; binary: boolean; hex: string }
  | { type: 'ping' | 'pong'; hex: string }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; code: string; closeCode: number };

/** Events as plain values (payloads as hex), so deepStrictEqual compares them. */
export function summarize(events: ConnectionEvent[]): EventSummary[] {
  return events.map((e): EventSummary => {
    switch (e.type) {
      case 'message':
        return { type: 'message', binary: e.binary, hex: toHex(e.data) };
      case 'ping':
      case 'pong':
        return { type: e.type, hex: toHex(e.data) };
      case 'close':
        return { type: 'close', code: e.code, reason: toHex(e.reason) };
      case 'error':
        return { type: 'error', code: e.error.code, closeCode: e.error.closeCode };
    }
  });
}

/** Feeds each chunk (copied, since the connection unmasks in place) and returns all events. */
export function feed(conn: Connection, chunks: Uint8Array[]): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (const chunk of chunks) {
    conn.receiveData(chunk.slice());
    events.push(...conn.takeEvents());
  }
  return events;
}

/** One-byte chunks. */
export function bytewise(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (b) => Uint8Array.of(b));
}
