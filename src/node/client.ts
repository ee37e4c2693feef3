/**
 * The client side of a connection: the opening handshake over Node's http/https (RFC 6455
 * §4.1: URL rules, the upgrade request, redirects, the handshake timeout, the checks of the 101
 * answer), permessage-deflate's answer checked (RFC 7692 §5), and the upgraded socket attached
 * to the connection's link.
 * Must not: know of frames (the link and the core do), or decide what users see beyond the
 * handshake's own events ('upgrade', 'redirect', 'unexpected-response').
 */
import { randomFillSync } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { generateKey, requestHeaders, validateResponse, type AcceptedResponse } from '../protocol/handshake/client.js';
import { HandshakeError, UsageError } from '../protocol/errors.js';
import { parseExtensions } from '../protocol/header-tokens.js';
import { PERMESSAGE_DEFLATE, acceptDeflateResponse, deflateOffer } from '../protocol/permessage-deflate.js';
import { DeflateCodec } from './compression/deflate-codec.js';
import { dialHttp2, type DialTarget } from './http2-dial.js';
import { handshakeDeadline } from './handshake-deadline.js';
import type { ConnectionHost, ConnectionOwner } from './internal.js';
import type { Link } from './link.js';
import { CLIENT_DEFAULTS, resolveConnectionSettings, resolveDeflateOptions, userMask, type ClientOptions } from './options.js';
import { SendPolicy } from './send-policy.js';
import { HTTP2_ENDING } from './upgrade/http2.js';

export type { DialTarget };

/** Parses and checks a WebSocket URL (WHATWG: ws, wss; plus http(s) and ws+unix as ws does). */
export function parseTarget(address: string | URL): DialTarget {
  let url: URL;
  try {
    url = address instanceof URL ? new URL(address.href) : new URL(address);
  } catch {
    throw new SyntaxError(`Invalid URL: ${String(address)}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:' && url.protocol !== 'ws+unix:') {
    throw new SyntaxError(`The URL's protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"`);
  }
  if (url.hash) throw new SyntaxError('The URL contains a fragment identifier');
  const secure = url.protocol === 'wss:';
  let socketPath: string | undefined;
  let path = (url.pathname || '/') + url.search;
  if (url.protocol === 'ws+unix:') {
    // ws+unix:///path/to/socket:/request/path
    const full = decodeURIComponent(url.pathname);
    const colon = full.indexOf(':');
    socketPath = colon === -1 ? full : full.slice(0, colon);
    path = (colon === -1 ? '/' : full.slice(colon + 1) || '/') + url.search;
    if (!socketPath) throw new SyntaxError("The URL's pathname is empty");
  } else if (!url.hostname) {
    throw new SyntaxError('The URL has no host');
  }
  return { url, secure, socketPath, path };
}

export interface DialHandlers {
  /** The server switched protocols and its answer passed every check. */
  onOpen(socket: Duplex, head: Buffer, response: http.IncomingMessage, accepted: AcceptedResponse): void;
  /** The server answered 101: before checks (the 'upgrade' event). */
  onUpgrade(response: http.IncomingMessage): void;
  /** A non-101 answer with no redirect to follow; return true if a user handles it. */
  onUnexpectedResponse(request: http.ClientRequest, response: http.IncomingMessage): boolean;
  /** A redirect is followed: `request` goes to `url` and is not sent yet (its headers can change). */
  onRedirect(url: URL, request: http.ClientRequest): void;
  /** Whether a user listens to redirects (then credentials are theirs to keep or drop). */
  redirectListened(): boolean;
  /** Sends the request (`finishRequest`, or end()). */
  finishRequest(request: http.ClientRequest): void;
  onError(error: Error): void;
}

/** The opening handshake under way; follows redirects (request and abort are the latest). */
export interface DialResult {
  /** The request under way (null over HTTP/2, and once the handshake ended). */
  request: http.ClientRequest | null;
  /** Redirects followed so far; past maxRedirects, one more than the limit (as `ws` counts). */
  redirects: number;
  /** close() or terminate() before the connection opened: fails it (error, then close 1006). */
  abort(): void;
}

const SUPPORTED_VERSIONS = [13];

/**
 * Starts the opening handshake. `redirects` counts redirects already followed; `current` is the
 * handshake's DialResult, updated as redirects are followed. Exactly one of onOpen or onError
 * ends it (or onUnexpectedResponse returning true, until an abort).
 */
export function dial(
  target: DialTarget,
  protocols: readonly string[],
  options: ClientOptions,
  handlers: DialHandlers,
  extensionOffer: string | undefined,
  extensionNames: readonly string[],
  redirects = 0,
  current: DialResult = { request: null, redirects: 0, abort: () => {} },
): DialResult {
  if (options.protocolVersion !== undefined && !SUPPORTED_VERSIONS.includes(options.protocolVersion)) {
    throw new RangeError(`Unsupported protocol version: ${options.protocolVersion} (supported versions: ${SUPPORTED_VERSIONS.join(', ')})`);
  }
  const key = generateKey(randomFillSync(new Uint8Array(16)));
  const headers: Record<string, string> = {
    ...options.headers,
    ...requestHeaders({ key, protocols: [], extensions: extensionOffer, origin: options.origin }),
  };
  // As `ws` writes it: the offered subprotocols joined without spaces.
  if (protocols.length > 0) headers['Sec-WebSocket-Protocol'] = protocols.join(',');
  const { url } = target;
  const requestOptions: https.RequestOptions = {
    ...tlsOptions(options),
    method: 'GET',
    headers,
    path: target.path,
    agent: options.agent,
    family: options.family,
    localAddress: options.localAddress,
    lookup: options.lookup,
    createConnection: options.createConnection as http.RequestOptions['createConnection'],
  };
  // Credentials in the URL win over the auth option, as in `ws`.
  if (url.username || url.password) requestOptions.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  else if (options.auth) requestOptions.auth = options.auth;
  if (target.socketPath) {
    requestOptions.socketPath = target.socketPath;
  } else {
    requestOptions.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    // As `ws` passes it on (to an agent or createConnection): the URL's port as written, or the default.
    requestOptions.port = url.port ? url.port : target.secure ? 443 : 80;
    if (target.secure && requestOptions.servername === undefined && !/^[\d.]+$|:/.test(requestOptions.host)) {
      requestOptions.servername = requestOptions.host;
    }
  }
  const request = (target.secure ? https : http).request(requestOptions);
  /** The handshake ended; `handedOver` while a user's 'unexpected-response' listener has it. */
  let handedOver = false;
  const fail = (error: Error): void => {
    if (!finish()) return;
    request.destroy();
    handlers.onError(error);
  };
  const deadline = handshakeDeadline(options.handshakeTimeout, fail);
  const finish = (): boolean => deadline.finish();
  request.on('error', (error) => {
    if (deadline.done) return;
    // As `ws` keeps it: a request that failed is forgotten, an aborted one stays readable.
    current.request = null;
    fail(error);
  });
  request.on('response', (response) => {
    const location = response.headers.location;
    const status = response.statusCode ?? 0;
    if (location && options.followRedirects && status >= 300 && status < 400) {
      if (!finish()) return;
      response.resume();
      request.destroy();
      const maxRedirects = options.maxRedirects ?? CLIENT_DEFAULTS.maxRedirects;
      // As `ws` counts them: a redirect is counted before it is checked.
      current.redirects = redirects + 1;
      if (redirects >= maxRedirects) {
        handlers.onError(new HandshakeError('WS_ERR_TOO_MANY_REDIRECTS', 'Maximum redirects exceeded'));
        return;
      }
      let next: DialTarget;
      try {
        next = parseTarget(redirectUrl(location, url));
      } catch (error) {
        handlers.onError(error as Error);
        return;
      }
      const nextOptions = { ...options, headers: { ...options.headers } };
      // As `ws`: the credentials of this request (its URL's userinfo, or `auth`) go on as an
      // Authorization header, which wins over userinfo in the redirect's URL.
      if (requestOptions.auth && !Object.keys(nextOptions.headers).some((name) => /^authorization$/i.test(name))) {
        nextOptions.headers.authorization = `Basic ${Buffer.from(requestOptions.auth).toString('base64')}`;
      }
      // The same host: the same Unix socket, or the same host and port.
      const sameHost = target.socketPath !== undefined || next.socketPath !== undefined ? target.socketPath === next.socketPath : next.url.host === url.host;
      if (!handlers.redirectListened() && (!sameHost || (target.secure && !next.secure))) {
        // Credentials meant for one host must not follow a redirect to another (or to plain
        // text), nor a Host header to another host; a 'redirect' listener decides this itself,
        // on the request it is handed.
        for (const name of Object.keys(nextOptions.headers)) {
          if (/^(authorization|cookie)$/i.test(name) || (!sameHost && /^host$/i.test(name))) delete nextOptions.headers[name];
        }
        if (!next.url.username) delete nextOptions.auth;
      }
      dial(next, protocols, nextOptions, handlers, extensionOffer, extensionNames, redirects + 1, current);
      return;
    }
    if (!finish()) return;
    // Handed over while the user's listener runs: it may abort (close() or terminate()) in it.
    handedOver = true;
    if (!handlers.onUnexpectedResponse(request, response)) {
      handedOver = false;
      request.destroy();
      handlers.onError(new HandshakeError('WS_ERR_UNEXPECTED_RESPONSE', `Unexpected server response: ${status}`));
    }
  });
  request.on('upgrade', (response: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (deadline.done) {
      socket.destroy();
      return;
    }
    handlers.onUpgrade(response);
    current.request = null;
    if (deadline.done) {
      // A listener of 'upgrade' aborted the handshake.
      socket.destroy();
      return;
    }
    const accepted = validateResponse(
      { status: response.statusCode ?? 0, headers: response.headers },
      { key, protocols, extensionNames },
    );
    if (accepted instanceof HandshakeError) {
      socket.destroy();
      fail(asWsHandshakeError(accepted, protocols, response, extensionNames));
      return;
    }
    finish();
    handlers.onOpen(socket, head, response, accepted);
  });
  current.request = request;
  current.redirects = redirects;
  current.abort = () => {
    const error = new UsageError('WS_ERR_CLOSED_BEFORE_OPEN', 'WebSocket was closed before the connection was established');
    if (!deadline.done) return fail(error);
    if (!handedOver) return;
    // The user's 'unexpected-response' listener gave up on the handshake: the socket goes too,
    // even once the response was read (node:http may keep it alive then).
    handedOver = false;
    request.destroy();
    request.socket?.destroy();
    handlers.onError(error);
  };
  if (redirects > 0) handlers.onRedirect(target.url, request);
  if (!deadline.done) handlers.finishRequest(request);
  return current;
}

/** A redirect's Location, resolved against the URL that answered it; `ws`'s error when it does not parse. */
function redirectUrl(location: string, base: URL): URL {
  try {
    return new URL(location, base.href.replace(/^ws/, 'http'));
  } catch {
    throw new SyntaxError(`Invalid URL: ${location}`);
  }
}

/** `ws`'s message for each way a server's 101 answer can be wrong (the codes stay ours). */
function asWsHandshakeError(error: HandshakeError, protocols: readonly string[], response: http.IncomingMessage, offered: readonly string[]): HandshakeError {
  let message: string;
  switch (error.code) {
    case 'WS_ERR_INVALID_ACCEPT':
      message = 'Invalid Sec-WebSocket-Accept header';
      break;
    case 'WS_ERR_INVALID_UPGRADE_RESPONSE':
      message = 'Invalid Upgrade header';
      break;
    case 'WS_ERR_SERVER_PROTOCOL':
      message = protocols.length === 0 ? 'Server sent a subprotocol but none was requested' : 'Server sent an invalid subprotocol';
      break;
    case 'WS_ERR_SERVER_EXTENSIONS':
      message = offered.length === 0 ? 'Server sent a Sec-WebSocket-Extensions header but no extension was requested' : extensionsMessage(response, offered);
      break;
    default:
      return error;
  }
  return new HandshakeError(error.code, message);
}

/** As `ws` words it: a header that does not parse is invalid; one that parses names an extension not offered. */
function extensionsMessage(response: http.IncomingMessage, offered: readonly string[]): string {
  const header = response.headers['sec-websocket-extensions'];
  const parsed = parseExtensions(Array.isArray(header) ? header.join(', ') : String(header ?? ''));
  if (parsed !== null && parsed.some((e) => !offered.includes(e.name))) return 'Server indicated an extension that was not requested';
  return 'Invalid Sec-WebSocket-Extensions header';
}

function tlsOptions(options: ClientOptions): https.RequestOptions {
  const keys = [
    'ca', 'cert', 'key', 'pfx', 'passphrase', 'ciphers', 'crl', 'ecdhCurve', 'honorCipherOrder',
    'minVersion', 'maxVersion', 'secureOptions', 'secureProtocol', 'sessionIdContext',
    'rejectUnauthorized', 'servername', 'checkServerIdentity', 'sigalgs', 'dhparam', 'privateKeyEngine',
    'privateKeyIdentifier', 'clientCertEngine',
  ] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if ((options as Record<string, unknown>)[k] !== undefined) out[k] = (options as Record<string, unknown>)[k];
  return out as https.RequestOptions;
}

/** The host of one client connection: its settings and send policy; no topics, no books. */
export function clientHost(options: ClientOptions): ConnectionHost {
  const settings = resolveConnectionSettings('client', options);
  return {
    settings,
    sendPolicy: new SendPolicy(settings.maxBackpressure, settings.backpressurePolicy),
    generateMask: userMask(options.generateMask),
    topics: null,
    connectionClosed: () => {},
  };
}

/** How a client's WebSocket follows its opening handshake. */
export interface ClientOpening {
  /** The URL changed by a redirect. */
  redirected(url: string): void;
  /** The handshake ended: the connection `opened`, or the handshake failed. */
  settled(opened: boolean): void;
}

/**
 * Dials `target` for the client WebSocket `owner` and attaches `link` to the upgraded socket;
 * a failure closes `link` with the handshake's error. `current` follows the handshake from the
 * start, so a finishRequest callback already finds its request there (`ws._req`).
 */
export function openClient(
  owner: ConnectionOwner,
  link: Link,
  target: DialTarget,
  protocols: readonly string[],
  options: ClientOptions,
  opening: ClientOpening,
  current: DialResult,
): void {
  const deflate = resolveDeflateOptions(options.perMessageDeflate ?? true);
  const handlers: DialHandlers = {
    onUpgrade: (response) => owner.emit('upgrade', response),
    onRedirect: (url, request) => {
      opening.redirected(url.href);
      owner.emit('redirect', url.href, request);
    },
    redirectListened: () => owner.listenerCount('redirect') > 0,
    finishRequest: (request) => {
      if (options.finishRequest) options.finishRequest(request, owner as unknown as Parameters<NonNullable<ClientOptions['finishRequest']>>[1]);
      else request.end();
    },
    onUnexpectedResponse: (request, response) => {
      if (owner.listenerCount('unexpected-response') === 0) return false;
      owner.emit('unexpected-response', request, response);
      return true;
    },
    onError: (error) => {
      opening.settled(false);
      link.failOpening(error);
    },
    onOpen: (socket, head, _response, accepted) => opened(socket, head, accepted, false),
  };
  const opened = (socket: Duplex, head: Buffer, accepted: AcceptedResponse, h2: boolean): void => {
    opening.settled(true);
    let codec: DeflateCodec | null = null;
    if (accepted.extensions.length > 0) {
      // RFC 7692 §5: the client fails the connection on an answer it cannot accept.
      const params = deflate ? acceptDeflateResponse(accepted.extensions, deflate) : null;
      if (params === null || params instanceof HandshakeError) {
        if (h2) HTTP2_ENDING.abort(socket);
        else socket.destroy();
        link.failOpening(new HandshakeError('WS_ERR_SERVER_EXTENSIONS', params === null ? 'Server indicated an extension that was not requested' : 'Invalid Sec-WebSocket-Extensions header'));
        return;
      }
      codec = new DeflateCodec(params, 'client', deflate!);
    }
    // As `ws` reports it: the names of the extensions in use.
    const extensions = codec ? PERMESSAGE_DEFLATE : '';
    link.attach(socket, head, accepted.protocol, extensions, codec, h2 ? HTTP2_ENDING : undefined);
  };
  const offer = deflate ? deflateOffer(deflate) : undefined;
  const names = deflate ? [PERMESSAGE_DEFLATE] : [];
  const mode = options.http2;
  if (mode !== true && mode !== 'auto') {
    dial(target, protocols, options, handlers, offer, names, 0, current);
    return;
  }
  // Over HTTP/2 the handshake has no request object of node:http to show: `current.request`
  // stays null unless 'auto' falls back to HTTP/1.1.
  const h2 = dialHttp2(target, protocols, options, mode, offer, names, {
    onOpen: (stream, status, headers, accepted) => {
      // 'upgrade' gets the answer in the shape of a response: its status and headers.
      owner.emit('upgrade', { statusCode: status, headers, httpVersion: '2.0' });
      if (link.readyState !== 0) return;
      opened(stream, EMPTY, accepted, true);
    },
    onError: handlers.onError,
    fallBack: (socket) => {
      const over = socket ? { ...options, createConnection: () => socket } : options;
      dial(target, protocols, over as ClientOptions, handlers, offer, names, 0, current);
    },
  });
  current.abort = () => h2.abort();
}

const EMPTY = Buffer.alloc(0);
