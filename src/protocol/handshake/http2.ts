/**
 * The opening handshake over HTTP/2, RFC 8441, as pure functions: the server's checks of an
 * extended CONNECT request (§4, §5), the headers of its 200 answer, the client's request
 * headers and its checks of the answer. Subprotocols and extensions are read and checked as
 * over HTTP/1.1 (server.ts, client.ts); Sec-WebSocket-Key and Sec-WebSocket-Accept play no part
 * (§5: the :protocol pseudo-header supersedes them).
 * Must not: touch streams or sessions (node/upgrade/http2.ts does), or decide whom to accept.
 */
import { HandshakeError } from '../errors.js';
import type { HeaderValue } from '../header-tokens.js';
import { checkAgreement, type AcceptedResponse } from './client.js';
import { KEY_PATTERN, readOffers, type RequestOffers } from './server.js';

/** RFC 8441 §3: the pseudo-header that turns CONNECT into a bootstrap for another protocol. */
export const PROTOCOL_PSEUDO_HEADER = ':protocol';

export interface ValidConnect extends RequestOffers {
  /** The resource asked for (:path), in origin form. */
  path: string;
  authority: string;
  scheme: string;
  /**
   * A Sec-WebSocket-Key some clients send anyway (RFC 8441 §5 does not use it), when it is
   * well formed: the answer may carry the matching Sec-WebSocket-Accept for them.
   */
  key: string | undefined;
}

function single(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Checks an HTTP/2 request (its headers, pseudo-headers included) that a server received with
 * :method CONNECT. Returns what it offers, or the HandshakeError whose status answers it.
 */
export function validateExtendedConnect(headers: Record<string, HeaderValue>): ValidConnect | HandshakeError {
  if (single(headers[':method']) !== 'CONNECT') return new HandshakeError('WS_ERR_HANDSHAKE_METHOD');
  const protocol = single(headers[PROTOCOL_PSEUDO_HEADER]);
  // RFC 8441 §4: without :protocol this is a proxy's CONNECT (RFC 7540 §8.3), which we do not do.
  if (protocol === undefined) return new HandshakeError('WS_ERR_H2_CONNECT_WITHOUT_PROTOCOL');
  if (protocol !== 'websocket') return new HandshakeError('WS_ERR_H2_PROTOCOL');
  // RFC 8441 §4: on an extended CONNECT, :scheme and :path are present (and :authority, §5).
  const scheme = single(headers[':scheme']);
  const path = single(headers[':path']);
  const authority = single(headers[':authority']) ?? single(headers['host']);
  if (!scheme || !path || !authority) return new HandshakeError('WS_ERR_H2_PSEUDO_HEADERS');
  if (path[0] !== '/') return new HandshakeError('WS_ERR_HANDSHAKE_TARGET');
  // RFC 8441 §5 keeps RFC 6455 §4.4: any other version is answered 426 with the one we speak.
  if (single(headers['sec-websocket-version'])?.trim() !== '13') return new HandshakeError('WS_ERR_HANDSHAKE_VERSION');
  const offers = readOffers(headers);
  if (offers instanceof HandshakeError) return offers;
  const keyValue = single(headers['sec-websocket-key'])?.trim();
  const key = keyValue !== undefined && KEY_PATTERN.test(keyValue) ? keyValue : undefined;
  return { ...offers, path, authority, scheme, key };
}

/** The answer's headers that accept an extended CONNECT (RFC 8441 §5: a 2xx, here 200). */
export function connectAnswerHeaders(agreement: {
  protocol?: string | undefined;
  extensions?: string | undefined;
  accept?: string | undefined;
}): Record<string, string | number> {
  const headers: Record<string, string | number> = { ':status': 200 };
  if (agreement.protocol) headers['sec-websocket-protocol'] = agreement.protocol;
  if (agreement.extensions) headers['sec-websocket-extensions'] = agreement.extensions;
  if (agreement.accept) headers['sec-websocket-accept'] = agreement.accept;
  return headers;
}

/** The answer's headers that refuse one: the HandshakeError's status (426 names version 13). */
export function connectRefusalHeaders(status: number, extra: Record<string, string> = {}): Record<string, string | number> {
  const headers: Record<string, string | number> = { ...extra, ':status': status, 'content-type': 'text/plain; charset=utf-8' };
  if (status === 426) headers['sec-websocket-version'] = '13';
  return headers;
}

export interface ConnectRequest {
  /** 'https' or 'http' (RFC 8441 §4: the scheme of the target URI, wss -> https). */
  scheme: string;
  authority: string;
  path: string;
  protocols?: readonly string[];
  extensions?: string | undefined;
  origin?: string | undefined;
}

/** The headers of a client's extended CONNECT (RFC 8441 §4, §5). */
export function connectRequestHeaders(request: ConnectRequest): Record<string, string> {
  const headers: Record<string, string> = {
    ':method': 'CONNECT',
    [PROTOCOL_PSEUDO_HEADER]: 'websocket',
    ':scheme': request.scheme,
    ':authority': request.authority,
    ':path': request.path,
    'sec-websocket-version': '13',
  };
  if (request.protocols && request.protocols.length > 0) headers['sec-websocket-protocol'] = request.protocols.join(', ');
  if (request.extensions) headers['sec-websocket-extensions'] = request.extensions;
  if (request.origin) headers['origin'] = request.origin;
  return headers;
}

/**
 * Checks the server's answer to an extended CONNECT: a 2xx status (RFC 8441 §5, RFC 7540 §8.3),
 * then the subprotocol and extensions as over HTTP/1.1.
 */
export function validateConnectAnswer(
  status: number,
  headers: Record<string, HeaderValue>,
  expected: { protocols?: readonly string[]; extensionNames?: readonly string[] },
): AcceptedResponse | HandshakeError {
  if (status < 200 || status > 299) return new HandshakeError('WS_ERR_UNEXPECTED_RESPONSE', `Unexpected server response: ${status}`);
  return checkAgreement(headers, expected);
}
