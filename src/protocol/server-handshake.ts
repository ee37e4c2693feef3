/**
 * The server side of the opening handshake, RFC 6455 §4.2, as pure functions: check a client's
 * request, pick a subprotocol, and write the 101 answer or an HTTP error answer.
 * Must not: touch sockets or parse raw HTTP (the transport's HTTP parser does that).
 */
import { WEBSOCKET_GUID } from './constants.js';
import { HandshakeError } from './errors.js';
import { listHasToken, parseExtensions, parseTokenList, type ExtensionOffer } from './header-tokens.js';
import { asciiBytes, base64Encode, sha1 } from './sha1.js';

export type HeaderValue = string | string[] | undefined;

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
const KEY_PATTERN = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

function single(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function countHeader(raw: string[] | undefined, name: string): number {
  if (!raw) return -1;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) count++;
  return count;
}

/**
 * Checks a client's opening handshake (RFC 6455 §4.2.1). Returns what the request offers, or
 * the HandshakeError whose `status` the server must answer with.
 */
/** Origin form ("/path?query") or absolute form ("ws://host/path", "https://host/path"). */
const TARGET_PATTERN = /^(\/|[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+([/?][^\s]*)?$)/i;

export function validateRequest(request: HandshakeRequest): ValidRequest | HandshakeError {
  if (request.method !== 'GET') return new HandshakeError('WS_ERR_HANDSHAKE_METHOD');
  const [major = 0, minor = 0] = request.httpVersion.split('.').map(Number);
  if (!(major > 1 || (major === 1 && minor >= 1))) return new HandshakeError('WS_ERR_HANDSHAKE_HTTP_VERSION');
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
  const versionCount = countHeader(raw, 'sec-websocket-version');
  const version = single(h['sec-websocket-version'])?.trim();
  // RFC 6455 §4.4: any other version is answered 426 with the versions we speak.
  if (version !== '13' || versionCount > 1) return new HandshakeError('WS_ERR_HANDSHAKE_VERSION');
  const keyValue = h['sec-websocket-key'];
  const key = typeof keyValue === 'string' ? keyValue.trim() : undefined;
  if (key === undefined || !KEY_PATTERN.test(key) || countHeader(raw, 'sec-websocket-key') > 1) {
    return new HandshakeError('WS_ERR_HANDSHAKE_KEY');
  }
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
  return { key, protocols, extensions, origin };
}

/** RFC 6455 §4.2.2 item 5.4: base64(SHA-1(key + GUID)). */
export function acceptValue(key: string): string {
  return base64Encode(sha1(asciiBytes(key + WEBSOCKET_GUID)));
}

export interface AcceptOptions {
  /** The key from the request, or its accept value already computed. */
  key?: string;
  accept?: string;
  protocol?: string | undefined;
  extensions?: string | undefined;
  /** Extra header lines, "Name: value" each. */
  headers?: string[];
}

/** The header lines of the 101 answer, first line included (no final blank line). */
export function acceptHeaders(options: AcceptOptions): string[] {
  const accept = options.accept ?? acceptValue(options.key!);
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${accept}`,
  ];
  if (options.protocol) lines.push(`Sec-WebSocket-Protocol: ${options.protocol}`);
  if (options.extensions) lines.push(`Sec-WebSocket-Extensions: ${options.extensions}`);
  if (options.headers) lines.push(...options.headers);
  return lines;
}

/** Joins header lines into a full HTTP head. */
export function formatHead(lines: string[]): string {
  return lines.join('\r\n') + '\r\n\r\n';
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/**
 * A complete HTTP error answer that ends the connection. A 426 carries Sec-WebSocket-Version: 13
 * (RFC 6455 §4.4), a 405 carries Allow: GET.
 */
export function rejectResponse(status: number, message?: string, headers: Record<string, string> = {}): string {
  const reason = REASONS[status] ?? 'Error';
  const body = message ?? reason;
  const lines = [`HTTP/1.1 ${status} ${reason}`, 'Connection: close', 'Content-Type: text/plain; charset=utf-8'];
  if (status === 426) lines.push('Sec-WebSocket-Version: 13');
  if (status === 405) lines.push('Allow: GET');
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push(`Content-Length: ${utf8Length(body)}`);
  return formatHead(lines) + body;
}

function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Picks the subprotocol: the first of the client's offers that the server supports
 * (RFC 6455 §4.2.2 item 5.4: the server picks one of the client's values, or none).
 */
export function selectSubprotocol(offered: string[], supported: readonly string[]): string | undefined {
  return offered.find((p) => supported.includes(p));
}
