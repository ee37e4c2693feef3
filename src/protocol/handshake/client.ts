/**
 * The client side of the opening handshake, RFC 6455 §4.1, as pure functions: the key, the
 * request headers, and the checks of the server's 101 answer.
 * Must not: open connections or pick random bytes itself (the caller gives 16 random bytes).
 */
import { HandshakeError, UsageError } from '../errors.js';
import { isToken, listHasToken, parseExtensions, type ExtensionOffer, type HeaderValue } from '../header-tokens.js';
import { acceptValue } from './accept-key.js';
import { base64Encode } from './base64.js';

/** RFC 6455 §4.1 item 7: a key is 16 random bytes in base64. */
export function generateKey(random16: Uint8Array): string {
  if (random16.length !== 16) throw new UsageError('WS_ERR_INVALID_KEY_SOURCE', 'a key needs 16 random bytes');
  return base64Encode(random16);
}

export interface ClientRequestOptions {
  key: string;
  protocols?: readonly string[];
  extensions?: string | undefined;
  origin?: string | undefined;
}

/** The handshake headers a client sends with its GET (Host is the HTTP client's job). */
export function requestHeaders(options: ClientRequestOptions): Record<string, string> {
  const headers: Record<string, string> = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': options.key,
  };
  if (options.protocols && options.protocols.length > 0) {
    for (const p of options.protocols) {
      if (!isToken(p)) throw new UsageError('WS_ERR_INVALID_SUBPROTOCOL', `invalid subprotocol ${JSON.stringify(p)}`);
    }
    if (new Set(options.protocols).size !== options.protocols.length) {
      throw new UsageError('WS_ERR_INVALID_SUBPROTOCOL', 'subprotocols must be unique');
    }
    headers['Sec-WebSocket-Protocol'] = options.protocols.join(', ');
  }
  if (options.extensions) headers['Sec-WebSocket-Extensions'] = options.extensions;
  if (options.origin) headers['Origin'] = options.origin;
  return headers;
}

export interface ServerResponse {
  status: number;
  headers: Record<string, HeaderValue>;
}

export interface AcceptedResponse {
  protocol: string;
  extensions: ExtensionOffer[];
}

/**
 * Checks the server's answer (RFC 6455 §4.1, the client's checks 1-6): 101, Upgrade and
 * Connection, the accept value, a subprotocol that was offered, extensions that were offered.
 */
export function validateResponse(
  response: ServerResponse,
  expected: { key: string; protocols?: readonly string[]; extensionNames?: readonly string[] },
): AcceptedResponse | HandshakeError {
  if (response.status !== 101) {
    return new HandshakeError('WS_ERR_UNEXPECTED_RESPONSE', `unexpected server response: ${response.status}`);
  }
  const h = response.headers;
  const upgrade = Array.isArray(h['upgrade']) ? h['upgrade'].join(',') : h['upgrade'];
  const connection = Array.isArray(h['connection']) ? h['connection'].join(',') : h['connection'];
  if (!listHasToken(upgrade, 'websocket') || !listHasToken(connection, 'upgrade')) {
    return new HandshakeError('WS_ERR_INVALID_UPGRADE_RESPONSE');
  }
  const accept = h['sec-websocket-accept'];
  if (typeof accept !== 'string' || accept.trim() !== acceptValue(expected.key)) {
    return new HandshakeError('WS_ERR_INVALID_ACCEPT');
  }
  return checkAgreement(h, expected);
}

/**
 * The checks an answer's agreement must pass over HTTP/1.1 and HTTP/2 alike (RFC 6455 §4.1,
 * the client's checks 5-6): a subprotocol that was offered, extensions that were offered.
 */
export function checkAgreement(
  h: Record<string, HeaderValue>,
  expected: { protocols?: readonly string[]; extensionNames?: readonly string[] },
): AcceptedResponse | HandshakeError {
  const protocolValue = h['sec-websocket-protocol'];
  let protocol = '';
  if (protocolValue !== undefined) {
    const value = Array.isArray(protocolValue) ? protocolValue.join(', ') : protocolValue.trim();
    if (!expected.protocols || !expected.protocols.includes(value)) {
      return new HandshakeError('WS_ERR_SERVER_PROTOCOL', 'the server sent a subprotocol that was not offered');
    }
    protocol = value;
  } else if (expected.protocols && expected.protocols.length > 0) {
    // ws and browsers accept a server that picks none of the offered subprotocols.
    protocol = '';
  }
  let extensions: ExtensionOffer[] = [];
  const extValue = h['sec-websocket-extensions'];
  if (extValue !== undefined) {
    const value = Array.isArray(extValue) ? extValue.join(', ') : extValue;
    const parsed = parseExtensions(value);
    if (parsed === null) return new HandshakeError('WS_ERR_SERVER_EXTENSIONS', 'malformed Sec-WebSocket-Extensions');
    for (const e of parsed) {
      if (!expected.extensionNames || !expected.extensionNames.includes(e.name)) {
        return new HandshakeError('WS_ERR_SERVER_EXTENSIONS', `the server accepted ${e.name}, which was not offered`);
      }
    }
    extensions = parsed;
  }
  return { protocol, extensions };
}
