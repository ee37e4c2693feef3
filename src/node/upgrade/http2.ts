/**
 * The opening handshake over HTTP/2 (RFC 8441) on the server: making Node's http2 servers offer
 * extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL, §3), reading a CONNECT stream into the
 * core's terms, a request object for verifyClient and 'connection' in the shape Node's own
 * HTTP/2 compatibility API gives, and the stream's answers: 200 that opens it, an error status
 * that refuses it, RST_STREAM with CANCEL that aborts it (§5: the stream stands for the TCP
 * connection, so its END_STREAM is the FIN and its reset the RST).
 * Must not: decide whom to accept (accept-policy.ts does) or whether a request is valid
 * (protocol/handshake/http2.ts does).
 */
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { HandshakeError } from '../../protocol/errors.js';
import { connectAnswerHeaders, connectRefusalHeaders, validateExtendedConnect, type ValidConnect } from '../../protocol/handshake/http2.js';
import { acceptKey } from '../bytes/accept-key.js';
import type { TransportEnding } from '../internal.js';

export type Http2ServerLike = http2.Http2Server | http2.Http2SecureServer;

const { NGHTTP2_CANCEL } = http2.constants;

/** A server of node:http2 (createServer or createSecureServer) rather than of node:http(s). */
export function isHttp2Server(server: object): server is Http2ServerLike {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}

/**
 * RFC 8441 §3: a server says it takes extended CONNECT in its SETTINGS. Sessions opened from
 * now on get it; pass `settings: { enableConnectProtocol: true }` at creation to cover all.
 */
export function enableConnectProtocol(server: Http2ServerLike): void {
  server.updateSettings({ enableConnectProtocol: true });
}

/** A CONNECT stream's request in the core's terms, or the HandshakeError that refuses it. */
export function readConnectRequest(headers: http2.IncomingHttpHeaders): ValidConnect | HandshakeError {
  return validateExtendedConnect(headers as Record<string, string | string[] | undefined>);
}

/**
 * The request handed to verifyClient, handleProtocols and 'connection': the compatibility API's
 * request (headers, url from :path, method, httpVersion '2.0', socket, stream). Never read as a
 * body: the stream's bytes belong to the WebSocket.
 */
export function streamRequest(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[] | undefined): http2.Http2ServerRequest {
  return new http2.Http2ServerRequest(stream, headers, {}, rawHeaders ?? []);
}

/** The 200 answer's headers as lines ('headers' event), the status line first as over HTTP/1.1. */
export function answerLines(valid: ValidConnect, protocol: string | undefined, extensions: string | undefined): string[] {
  const headers = connectAnswerHeaders({ protocol, extensions, accept: valid.key === undefined ? undefined : acceptKey(valid.key) });
  const lines = ['HTTP/2 200'];
  for (const [name, value] of Object.entries(headers)) if (name[0] !== ':') lines.push(`${name}: ${value}`);
  return lines;
}

/** Opens the stream as a WebSocket with the answer's lines (the 'headers' event may have changed them). */
export function respondOpen(stream: http2.ServerHttp2Stream, lines: string[]): void {
  const headers: http2.OutgoingHttpHeaders = { ':status': 200 };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  stream.respond(headers, { endStream: false });
}

/** Refuses the stream with an HTTP status and a text body; the session and other streams go on. */
export function respondRefusal(stream: http2.ServerHttp2Stream, status: number, message: string, extra?: http2.OutgoingHttpHeaders): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(NGHTTP2_CANCEL);
    return;
  }
  const lines: Record<string, string> = {};
  for (const [name, value] of Object.entries(extra ?? {})) if (value !== undefined) lines[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  stream.respond(connectRefusalHeaders(status, lines));
  stream.end(message);
}

/** An HTTP/2 server stream rather than a socket. */
export function isStream(transport: Duplex): transport is http2.ServerHttp2Stream {
  return typeof (transport as { respond?: unknown }).respond === 'function';
}

/** The stream can still be answered on. */
export function isStreamAnswerable(stream: http2.ServerHttp2Stream): boolean {
  return !stream.destroyed && !stream.closed && !stream.headersSent;
}

/** RFC 8441 §5: an abrupt end of a WebSocket over HTTP/2 is RST_STREAM with CANCEL. */
export const HTTP2_ENDING: TransportEnding = {
  abort(stream: Duplex): void {
    const h2 = stream as http2.Http2Stream;
    if (!h2.closed && !h2.destroyed) h2.close(NGHTTP2_CANCEL);
    else h2.destroy();
  },
};

/** The WebSocketServers listening on each HTTP/2 server, for their `path`s (as 'upgrade' listeners are counted). */
const STREAM_LISTENERS = new WeakMap<object, Set<unknown>>();

/**
 * On an HTTP/2 server: hands extended CONNECT streams (RFC 8441) to `handle`, as 'upgrade'
 * hands sockets. Node's compatibility API (a 'request' listener) turns every CONNECT into a
 * 'connect' event and answers 405 when nobody listens: a listener here leaves the streams to us.
 * A CONNECT that opens no WebSocket is left to another 'connect' listener (a proxy), and a path
 * another WebSocketServer on the same server may take is left to it. Returns how to stop.
 */
export function listenForStreams(
  server: Http2ServerLike,
  shouldHandle: (req: http2.Http2ServerRequest) => boolean,
  handle: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[], req: http2.Http2ServerRequest) => void,
): () => void {
  enableConnectProtocol(server);
  const listeners = STREAM_LISTENERS.get(server) ?? new Set();
  STREAM_LISTENERS.set(server, listeners);
  const onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void => {
    if (headers[':method'] !== 'CONNECT') return;
    if (headers[':protocol'] === undefined && server.listenerCount('connect') > 1) return;
    const req = streamRequest(stream, headers, rawHeaders);
    if (!shouldHandle(req) && listeners.size > 1) return;
    handle(stream, headers, rawHeaders, req);
  };
  const onConnect = (): void => {};
  server.on('stream', onStream);
  server.on('connect', onConnect);
  listeners.add(onStream);
  return () => {
    server.removeListener('stream', onStream);
    server.removeListener('connect', onConnect);
    listeners.delete(onStream);
  };
}

/** WebSockets open on each HTTP/2 session, for `maxStreamsPerSession`. */
export class SessionStreams {
  readonly #open = new WeakMap<http2.Http2Session, number>();

  count(session: http2.Http2Session): number {
    return this.#open.get(session) ?? 0;
  }

  /** One more WebSocket on `session`, until its stream closes. */
  add(session: http2.Http2Session, stream: http2.ServerHttp2Stream): void {
    this.#open.set(session, this.count(session) + 1);
    stream.once('close', () => this.#open.set(session, this.count(session) - 1));
  }
}
