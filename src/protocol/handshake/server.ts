/**
 * The server side of the opening handshake, RFC 6455 §4.2.1, as pure functions: check a
 * client's request and pick a subprotocol (§4.2.2 item 5.4). The answers themselves are written
 * by http-answer.ts, the accept value computed by accept-key.ts.
 * Must not: touch sockets, parse raw HTTP (the transport's HTTP parser does that) or write answers.
 */
import { HandshakeError } from '../errors.js';
import { listHasToken, parseExtensions, parseTokenList, type ExtensionOffer, type HeaderValue } from '../header-tokens.js';

export interface HandshakeRequest {
  method: string;
  /** "1.1", "2.0"... as the HTTP parser read it. */
  httpVersion: string;
  /** Header values by lower-case name; repeated headers as arrays or joined with ", ". */
  headers: Record<string, HeaderValue>;
  /** Name/value pairs as received, for counting repeated headers (Node's req.rawHeaders). */
  rawHeaders?: string[];
  /** The request target (Node's req.url), checked when given. */
  url?: string;
}

export interface ValidRequest {
  key: string;
  /** Subprotocols the client offered, in its order of preference. */
  protocols: string[];
  /** Extension offers, in order. */
  extensions: ExtensionOffer[];
  origin: string | undefined;
}

/** RFC 6455 §4.2.1 item 5: base64 of exactly 16 bytes. */
export const KEY_PATTERN = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

function single(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function countHeader(raw: string[] | undefined, name: string): number {
  if (!raw) return -1;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const field = raw[i]!;
    if (field.length === name.length && field.toLowerCase() === name) count++;
  }
  return count;
}

/** Origin form ("/path?query") or absolute form ("ws://host/path", "https://host/path"). */
const TARGET_PATTERN = /^(\/|[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+([/?][^\s]*)?$)/i;

/**
 * Checks a client's opening handshake (RFC 6455 §4.2.1). Returns what the request offers, or
 * the HandshakeError whose `status` the server must answer with.
 */
export function validateRequest(request: HandshakeRequest): ValidRequest | HandshakeError {
  if (request.method !== 'GET') return new HandshakeError('WS_ERR_HANDSHAKE_METHOD');
  if (request.httpVersion !== '1.1') {
    const [major = 0, minor = 0] = request.httpVersion.split('.').map(Number);
    if (!(major > 1 || (major === 1 && minor >= 1))) return new HandshakeError('WS_ERR_HANDSHAKE_HTTP_VERSION');
  }
  // RFC 6455 §4.1 item 2 and §3: the target names a resource, as a path or an absolute URI
  // (not "*", not an authority).
  if (request.url !== undefined && !TARGET_PATTERN.test(request.url)) return new HandshakeError('WS_ERR_HANDSHAKE_TARGET');
  const h = request.headers;
  const raw = request.rawHeaders;
  const host = single(h['host']);
  if (host === undefined || host.trim() === '' || countHeader(raw, 'host') > 1) {
    return new HandshakeError('WS_ERR_HANDSHAKE_HOST');
  }
  if (!listHasToken(single(h['upgrade']), 'websocket')) return new HandshakeError('WS_ERR_HANDSHAKE_UPGRADE');
  if (!listHasToken(single(h['connection']), 'upgrade')) return new HandshakeError('WS_ERR_HANDSHAKE_CONNECTION');
  // RFC 6455 §4.2.1 items 5 then 6: the key, then the version (the order `ws` checks them in).
  const keyValue = h['sec-websocket-key'];
  const key = typeof keyValue === 'string' ? keyValue.trim() : undefined;
  if (key === undefined || !KEY_PATTERN.test(key) || countHeader(raw, 'sec-websocket-key') > 1) {
    return new HandshakeError('WS_ERR_HANDSHAKE_KEY');
  }
  const versionCount = countHeader(raw, 'sec-websocket-version');
  const version = single(h['sec-websocket-version'])?.trim();
  // RFC 6455 §4.4: any other version is answered 426 with the versions we speak.
  if (version !== '13' || versionCount > 1) return new HandshakeError('WS_ERR_HANDSHAKE_VERSION');
  const offers = readOffers(h);
  if (offers instanceof HandshakeError) return offers;
  return { key, protocols: offers.protocols, extensions: offers.extensions, origin: offers.origin };
}

/** What a request offers beyond its transport's own checks: subprotocols, extensions, origin. */
export type RequestOffers = Omit<ValidRequest, 'key'>;

/**
 * Reads the offers of an opening handshake's headers, the same over HTTP/1.1 and HTTP/2
 * (RFC 6455 §4.1 items 9-10, §4.2.1 items 7-9; RFC 8441 §5 keeps them).
 */
export function readOffers(h: Record<string, HeaderValue>): RequestOffers | HandshakeError {
  let protocols: string[] = [];
  const protocolHeader = single(h['sec-websocket-protocol']);
  if (protocolHeader !== undefined) {
    const parsed = parseTokenList(protocolHeader);
    // RFC 6455 §4.1 item 10: 1#token, so a header that is present lists at least one subprotocol.
    if (parsed === null || parsed.length === 0) return new HandshakeError('WS_ERR_HANDSHAKE_PROTOCOL');
    protocols = parsed;
  }
  let extensions: ExtensionOffer[] = [];
  const extensionHeader = single(h['sec-websocket-extensions']);
  if (extensionHeader !== undefined) {
    const parsed = parseExtensions(extensionHeader);
    if (parsed === null) return new HandshakeError('WS_ERR_HANDSHAKE_EXTENSIONS');
    extensions = parsed;
  }
  const origin = single(h['origin']) ?? single(h['sec-websocket-origin']);
  return { protocols, extensions, origin };
}

/**
 * Picks the subprotocol: the first of the client's offers that the server supports
 * (RFC 6455 §4.2.2 item 5.4: the server picks one of the client's values, or none).
 */
export function selectSubprotocol(offered: string[], supported: readonly string[]): string | undefined {
  return offered.find((p) => supported.includes(p));
}
