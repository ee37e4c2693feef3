/**
 * Shared by the protocol unit tests and the fuzz properties: connection factories, a strict
 * frame decoder for what a Connection writes, event summaries that compare by value, and the
 * checks the per-module tests share (a failure and its one close frame, a fake codec).
 */
import assert from 'node:assert/strict';
import {
  Connection,
  Opcode,
  PROTOCOL_ERRORS,
  ProtocolError,
  type ConnectionEvent,
  type ConnectionOptions,
  type MessageCodec,
} from '../../../src/protocol/index.js';
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

export interface DecodedFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  maskingKey: Uint8Array | null;
  /** Unmasked payload. */
  payload: Uint8Array;
  /** Bytes used by the length field: 0 (7-bit), 2 or 8. */
  lengthBytes: number;
}

/**
 * Decodes a byte stream into frames, strictly: throws on a truncated frame or a non-minimal
 * length, so a test that decodes output also checks it is well formed.
 */
export function decodeFrames(bytes: Uint8Array): DecodedFrame[] {
  const frames: DecodedFrame[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (bytes.length - i < 2) throw new Error(`truncated header at ${i}`);
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1]!;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let lengthBytes = 0;
    let p = i + 2;
    if (length === 126) {
      lengthBytes = 2;
      length = (bytes[p]! << 8) | bytes[p + 1]!;
      if (length < 126) throw new Error('non-minimal 16-bit length');
      p += 2;
    } else if (length === 127) {
      lengthBytes = 8;
      let n = 0;
      for (let k = 0; k < 8; k++) n = n * 256 + bytes[p + k]!;
      if (n < 0x10000) throw new Error('non-minimal 64-bit length');
      length = n;
      p += 8;
    }
    let maskingKey: Uint8Array | null = null;
    if (masked) {
      maskingKey = bytes.slice(p, p + 4);
      p += 4;
    }
    if (p + length > bytes.length) throw new Error(`truncated payload at ${i}`);
    const payload = bytes.slice(p, p + length);
    if (maskingKey) for (let k = 0; k < payload.length; k++) payload[k]! ^= maskingKey[k & 3]!;
    frames.push({
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode: b0 & 0x0f,
      masked,
      maskingKey,
      payload,
      lengthBytes,
    });
    i = p + length;
  }
  return frames;
}

export function joinChunks(chunks: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Takes and decodes everything the connection queued to send. */
export function takeFrames(conn: Connection): DecodedFrame[] {
  return decodeFrames(joinChunks(conn.takeOutput()));
}

/** The close code a close frame carries, or null for an empty one. */
export function closeCodeOf(frame: DecodedFrame): number | null {
  return frame.payload.length >= 2 ? (frame.payload[0]! << 8) | frame.payload[1]! : null;
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

export function errorsIn(events: ConnectionEvent[]): ProtocolError[] {
  return events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
}

/** Asserts the events end in exactly one error with `code`, and a close frame with its close code was queued. */
export function assertFailed(conn: Connection, events: ConnectionEvent[], code: keyof typeof PROTOCOL_ERRORS, closeCode: number): void {
  const errors = errorsIn(events);
  assert.equal(errors.length, 1, `expected one error, got ${JSON.stringify(summarize(events))}`);
  assert.equal(errors[0]!.code, code);
  assert.equal(errors[0]!.closeCode, closeCode);
  assert.equal(events.at(-1)!.type, 'error');
  assert.equal(conn.error, errors[0]);
  const frames = takeFrames(conn);
  const closes = frames.filter((f) => f.opcode === Opcode.CLOSE);
  assert.equal(closes.length, 1);
  assert.equal(closeCodeOf(closes[0]!), closeCode);
  assert.equal(closes[0]!.masked, conn.side === 'client');
  assert.equal(conn.closeExpected(), true);
}

/** Server receives `bytes` (client frames) whole. */
export function serverGets(bytes: Uint8Array, options = {}): { conn: Connection; events: ConnectionEvent[] } {
  const conn = serverConnection(options);
  return { conn, events: feed(conn, [bytes]) };
}

export function clientGets(bytes: Uint8Array, options = {}): { conn: Connection; events: ConnectionEvent[] } {
  const conn = clientConnection(options);
  return { conn, events: feed(conn, [bytes]) };
}

/** Feeds one byte at a time; returns the index of the byte after which the first error appeared (-1: none). */
export function firstErrorAt(conn: Connection, bytes: Uint8Array): { index: number; error: ProtocolError | null; events: ConnectionEvent[] } {
  const all: ConnectionEvent[] = [];
  for (let i = 0; i < bytes.length; i++) {
    conn.receiveData(Uint8Array.of(bytes[i]!));
    const events = conn.takeEvents();
    all.push(...events);
    const error = errorsIn(events)[0];
    if (error) return { index: i, error, events: all };
  }
  return { index: -1, error: null, events: all };
}

/** Opcodes by short names, for frame tables. */
export const TEXT = Opcode.TEXT;
export const BINARY = Opcode.BINARY;
export const CONT = Opcode.CONTINUATION;
export const CLOSE = Opcode.CLOSE;
export const PING = Opcode.PING;
export const PONG = Opcode.PONG;

/** A synchronous stand-in for permessage-deflate: "compression" reverses the bytes. */
export function reversingCodec(): MessageCodec & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    shouldCompress: (length) => length >= 4,
    compress: (data) => data.slice().reverse(),
    decompress: (data, maxLength) => {
      calls.push(maxLength);
      if (maxLength > 0 && data.length > maxLength) return new ProtocolError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      if (data.length > 0 && data[0] === 0xff) return new ProtocolError('WS_ERR_INFLATE_FAILED');
      return data.slice().reverse();
    },
  };
}
