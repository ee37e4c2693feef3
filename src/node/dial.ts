/**
 * The client's opening handshake over Node's http/https (RFC 6455 §4.1): URL rules, the upgrade
 * request, redirects, the handshake timeout, and the checks of the 101 answer. Hands the upgraded
 * socket back; knows nothing of frames.
 * Must not: emit WebSocket events itself (the WebSocket decides what its users see).
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { SecureContextOptions, ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { HandshakeError, UsageError } from '../protocol/errors.js';
import { generateKey, requestHeaders, validateResponse, type AcceptedResponse } from '../protocol/handshake/client.js';
import { randomBytes16 } from './payload.js';

export interface ClientOptions extends SecureContextOptions, Pick<TlsConnectionOptions, 'rejectUnauthorized' | 'servername' | 'checkServerIdentity'> {
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Milliseconds allowed for the whole opening handshake (0: none). */
  handshakeTimeout?: number;
  /** Largest message accepted, in bytes (0: no limit). */
  maxPayload?: number;
  maxFragments?: number;
  followRedirects?: boolean;
  maxRedirects?: number;
  /** Value of the Origin header. */
  origin?: string;
  agent?: http.Agent;
  /** Sec-WebSocket-Version; only 13 is spoken. */
  protocolVersion?: number;
  skipUTF8Validation?: boolean;
  autoPong?: boolean;
  allowSynchronousEvents?: boolean;
  /** Bytes allowed to wait in the send buffer before backpressurePolicy applies. Default: no limit. */
  maxBackpressure?: number;
  backpressurePolicy?: 'close' | 'drop' | 'latest';
  /** ms to wait for the server's close frame and TCP close after ours. */
  closeTimeoutMs?: number;
  /** permessage-deflate (RFC 7692): offered by default, as in `ws`. */
  perMessageDeflate?: boolean | import('./deflate-codec.js').PerMessageDeflateOptions;
  family?: number;
  localAddress?: string;
  lookup?: http.RequestOptions['lookup'];
  createConnection?: http.RequestOptions['createConnection'];
  timeout?: number;
  auth?: string;
}

export interface DialTarget {
  url: URL;
  secure: boolean;
  socketPath: string | undefined;
  path: string;
}

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
    if (!socketPath) throw new SyntaxError('The URL names no socket path');
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
  onRedirect(url: URL, request: http.ClientRequest): void;
  onError(error: Error): void;
}

export interface DialResult {
  request: http.ClientRequest;
  abort(): void;
}

/**
 * Starts the opening handshake. `redirects` counts redirects already followed. Exactly one of
 * onOpen or onError (or onUnexpectedResponse returning true) ends it.
 */
export function dial(
  target: DialTarget,
  protocols: readonly string[],
  options: ClientOptions,
  handlers: DialHandlers,
  extensionOffer: string | undefined,
  extensionNames: readonly string[],
  redirects = 0,
): DialResult {
  if (options.protocolVersion !== undefined && options.protocolVersion !== 13) {
    throw new RangeError(`Unsupported protocol version: ${options.protocolVersion} (supported versions: 13)`);
  }
  const key = generateKey(randomBytes16());
  const headers: Record<string, string> = {
    ...requestHeaders({ key, protocols, extensions: extensionOffer, origin: options.origin }),
    ...options.headers,
  };
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
    createConnection: options.createConnection,
  };
  if (options.auth) requestOptions.auth = options.auth;
  else if (url.username || url.password) requestOptions.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  if (target.socketPath) {
    requestOptions.socketPath = target.socketPath;
  } else {
    requestOptions.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    requestOptions.port = url.port ? Number(url.port) : target.secure ? 443 : 80;
    if (target.secure && requestOptions.servername === undefined && !/^[\d.]+$|:/.test(requestOptions.host)) {
      requestOptions.servername = requestOptions.host;
    }
  }
  const request = (target.secure ? https : http).request(requestOptions);
  let done = false;
  let timer: NodeJS.Timeout | null = null;
  const finish = (): boolean => {
    if (done) return false;
    done = true;
    if (timer) clearTimeout(timer);
    return true;
  };
  const fail = (error: Error): void => {
    if (!finish()) return;
    request.destroy();
    handlers.onError(error);
  };
  if (options.handshakeTimeout && options.handshakeTimeout > 0) {
    timer = setTimeout(() => fail(new HandshakeError('WS_ERR_CLIENT_HANDSHAKE_TIMEOUT', 'Opening handshake has timed out')), options.handshakeTimeout);
  }
  request.on('error', (error) => fail(error));
  request.on('response', (response) => {
    const location = response.headers.location;
    const status = response.statusCode ?? 0;
    if (location && options.followRedirects && status >= 300 && status < 400) {
      if (!finish()) return;
      response.resume();
      request.destroy();
      const maxRedirects = options.maxRedirects ?? 10;
      if (redirects >= maxRedirects) {
        handlers.onError(new HandshakeError('WS_ERR_TOO_MANY_REDIRECTS', 'Maximum redirects exceeded'));
        return;
      }
      let next: DialTarget;
      try {
        next = parseTarget(new URL(location, url.href.replace(/^ws/, 'http')));
      } catch (error) {
        handlers.onError(new HandshakeError('WS_ERR_INVALID_URL', (error as Error).message));
        return;
      }
      handlers.onRedirect(next.url, request);
      const nextOptions = { ...options, headers: { ...options.headers } };
      if (next.url.host !== url.host || next.secure !== target.secure) {
        // Credentials meant for one host must not follow a redirect to another.
        for (const name of Object.keys(nextOptions.headers)) {
          if (/^(authorization|cookie|host)$/i.test(name)) delete nextOptions.headers[name];
        }
        if (!next.url.username) delete nextOptions.auth;
      }
      const result = dial(next, protocols, nextOptions, handlers, extensionOffer, extensionNames, redirects + 1);
      current.request = result.request;
      current.abort = result.abort;
      return;
    }
    if (!finish()) return;
    if (!handlers.onUnexpectedResponse(request, response)) {
      request.destroy();
      handlers.onError(new HandshakeError('WS_ERR_UNEXPECTED_RESPONSE', `Unexpected server response: ${status}`));
    }
  });
  request.on('upgrade', (response: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (done) {
      socket.destroy();
      return;
    }
    handlers.onUpgrade(response);
    if (done) {
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
      fail(accepted);
      return;
    }
    finish();
    handlers.onOpen(socket, head, response, accepted);
  });
  request.end();
  const current: DialResult = {
    request,
    abort: () => fail(new UsageError('WS_ERR_CLOSED_BEFORE_OPEN', 'WebSocket was closed before the connection was established')),
  };
  return current;
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
