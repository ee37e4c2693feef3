/**
 * The Sec-WebSocket-Accept value, RFC 6455 §4.2.2 item 5.4 (and §1.3): what a server answers for
 * a client's key and what a client expects back.
 * Must not: check the key's form (the server's request validation does that).
 */
import { WEBSOCKET_GUID } from '../constants.js';
import { base64Encode } from './base64.js';
import { sha1 } from './sha1.js';

/** RFC 6455 §4.2.2 item 5.4: base64(SHA-1(key + GUID)). */
export function acceptValue(key: string): string {
  return base64Encode(sha1(asciiBytes(key + WEBSOCKET_GUID)));
}

/** ASCII/Latin-1 text to bytes (header values are ASCII). */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}
