/**
 * RFC 6455 §4.2.2: the Sec-WebSocket-Accept value of a key, hashed by node:crypto (the core has
 * a portable SHA-1 for other runtimes; this one is native and faster).
 * Must not: differ from the core's value for any key (the tests compare both).
 */
import * as crypto from 'node:crypto';
import { WEBSOCKET_GUID } from '../../protocol/constants.js';

/** crypto.hash (Node 20.12 and later) hashes in one call, without a Hash object. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

export function acceptKey(key: string): string {
  const input = key + WEBSOCKET_GUID;
  return oneShotHash ? oneShotHash('sha1', input, 'base64') : crypto.createHash('sha1').update(input).digest('base64');
}
