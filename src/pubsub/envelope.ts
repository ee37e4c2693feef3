/**
 * How a publication crosses the broker: an envelope naming the publishing PubSub (a random
 * origin id), so that a process never delivers its own publication twice, and carrying the flags
 * every process needs to frame it the same way.
 *
 *   [version 1][flags: 1 binary, 2 compress][16 bytes origin id][payload]
 *
 * Must not: use node:* (ids come from globalThis.crypto, which every runtime has).
 */

const VERSION = 1;
const ORIGIN_LENGTH = 16;
export const ENVELOPE_HEADER = 2 + ORIGIN_LENGTH;
const BINARY = 1;
const COMPRESS = 2;

export interface Envelope {
  origin: Uint8Array;
  binary: boolean;
  compress: boolean;
  payload: Uint8Array;
}

interface RandomSource {
  getRandomValues<T extends Uint8Array>(array: T): T;
}

/** A fresh origin id from the runtime's CSPRNG. */
export function newOriginId(): Uint8Array {
  const crypto = (globalThis as { crypto?: RandomSource }).crypto;
  if (crypto === undefined) throw new Error('globalThis.crypto is needed to make a pubsub origin id');
  return crypto.getRandomValues(new Uint8Array(ORIGIN_LENGTH));
}

export function encodeEnvelope(origin: Uint8Array, binary: boolean, compress: boolean, payload: Uint8Array): Uint8Array {
  const envelope = new Uint8Array(ENVELOPE_HEADER + payload.length);
  envelope[0] = VERSION;
  envelope[1] = (binary ? BINARY : 0) | (compress ? COMPRESS : 0);
  envelope.set(origin, 2);
  envelope.set(payload, ENVELOPE_HEADER);
  return envelope;
}

/** The envelope in `data`, or null when it is not one of ours (too short, another version). */
export function decodeEnvelope(data: Uint8Array): Envelope | null {
  if (data.length < ENVELOPE_HEADER || data[0] !== VERSION) return null;
  const flags = data[1]!;
  return {
    origin: data.subarray(2, ENVELOPE_HEADER),
    binary: (flags & BINARY) !== 0,
    compress: (flags & COMPRESS) !== 0,
    payload: data.subarray(ENVELOPE_HEADER),
  };
}

/** Same origin id? */
export function sameOrigin(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
