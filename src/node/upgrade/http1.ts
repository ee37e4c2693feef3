/**
 * The opening handshake over HTTP/1.1 (RFC 6455 §4.2): the server's own HTTP server (426 for
 * plain requests, 405 for CONNECT), reading an upgrade request into the core's terms, writing
 * the 101 answer or an HTTP error answer, and the socket's error handling until the WebSocket
 * takes it over.
 * Must not: decide whom to accept (accept-policy.ts does) or whether a request is valid
 * (protocol/ does).
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { HandshakeError } from '../../protocol/errors.js';
import { acceptHead, acceptHeaders, formatHead, rejectResponse } from '../../protocol/handshake/http-answer.js';
import { validateRequest, type ValidRequest } from '../../protocol/handshake/server.js';
import { acceptKey } from '../bytes/accept-key.js';
import { HandleTransport } from '../handle-transport.js';
import { writeDirect, writesDirectly, type DirectWriter } from '../socket-write.js';
import { DirectRequest } from './direct-request.js';

export interface OwnServerOptions {
  maxHeaderSize: number;
  handshakeTimeoutMs: number;
}

/** An HTTP server that serves nothing but upgrades: the server's own, with the `port` option. */
export function createUpgradeServer(options: OwnServerOptions): http.Server {
  const server = http.createServer(
    {
      maxHeaderSize: options.maxHeaderSize,
      headersTimeout: options.handshakeTimeoutMs,
      requestTimeout: options.handshakeTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, options.handshakeTimeoutMs),
    },
    (_req, res) => {
      // Not an upgrade: nothing else is served here, so the connection is not kept alive.
      const body = http.STATUS_CODES[426]!;
      res.writeHead(426, {
        'Content-Length': body.length,
        'Content-Type': 'text/plain',
        'Sec-WebSocket-Version': '13',
        Connection: 'close',
      });
      res.end(body);
    },
  );
  // CONNECT is no opening handshake either (RFC 6455 §4.2.1: the method must be GET).
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', onSocketErrorDuringHandshake);
    const error = new HandshakeError('WS_ERR_HANDSHAKE_METHOD');
    abortHandshake(socket, error.status!, error.message);
  });
  return server;
}

/** The request in the core's terms: a valid opening handshake, or the HandshakeError that refuses it. */
export function readUpgradeRequest(req: http.IncomingMessage): ValidRequest | HandshakeError {
  return validateRequest({
    method: req.method ?? '',
    httpVersion: req.httpVersion,
    headers: req.headers,
    // A request read without Node's parser names each field once: no repeats to count.
    rawHeaders: req instanceof DirectRequest ? undefined : req.rawHeaders,
    url: req.url,
  });
}

/** Until the WebSocket takes the socket over, an error just ends it. */
export function onSocketErrorDuringHandshake(this: Duplex): void {
  this.destroy();
}

/** Errors during the handshake end the socket; a bare handle has no listeners and reports none then. */
export function guardHandshake(socket: Duplex): void {
  if (!(socket instanceof HandleTransport)) socket.on('error', onSocketErrorDuringHandshake);
}

/**
 * The socket to answer on other than with a 101 (a refusal, a user's listener): a connection on
 * its bare handle (handle-transport.ts) gets its net.Socket made now, guarded as any other.
 */
export function answerOn(socket: Duplex): Duplex {
  if (!(socket instanceof HandleTransport)) return socket;
  const made = !socket.materialized;
  const net = socket.materialize();
  if (made) net.on('error', onSocketErrorDuringHandshake);
  return net;
}

/** The 101 is written: the socket's handshake guard goes (a bare handle's net.Socket got one when made). */
function unguard(socket: Duplex): void {
  const guarded = socket instanceof HandleTransport ? (socket.materialized ? socket.materialize() : null) : socket;
  guarded?.removeListener('error', onSocketErrorDuringHandshake);
}

/** The socket can still be answered on. */
export function isAnswerable(socket: Duplex): boolean {
  return socket.readable && socket.writable && !socket.destroyed;
}

/** RFC 6455 §4.2.2: the 101 answer's header lines (the 'headers' event may change them). */
export function switchingHeaders(key: string, protocol: string | undefined, extensions: string | undefined): string[] {
  return acceptHeaders({ accept: acceptKey(key), protocol, extensions });
}

/** Writes the 101 answer; the socket belongs to the WebSocket from here on. */
export function writeSwitching(socket: Duplex, headers: string[]): void {
  socket.write(formatHead(headers));
  unguard(socket);
}

/** Writes the 101 answer nobody changed (no 'headers' listener): one string, no lines. */
export function writeSwitchingFor(socket: Duplex, key: string, protocol: string | undefined, extensions: string | undefined): void {
  // Tokens, base64 and the extension grammar are ASCII: latin1 writes the same bytes, without UTF-8 encoding.
  const head = acceptHead(acceptKey(key), protocol, extensions);
  if (socket instanceof HandleTransport) {
    socket.write(head);
    unguard(socket);
    return;
  }
  // The first write on a plain TCP socket: straight to its handle where it can go (socket-write.ts).
  if (!writesDirectly(socket) || writeDirect(socket, Buffer.from(head, 'latin1'), ANSWER_WRITER) < 0) socket.write(head, 'latin1');
  socket.removeListener('error', onSocketErrorDuringHandshake);
}

/** The 101 answer needs no word when libuv queues a part of it, or finishes one. */
const ANSWER_WRITER: DirectWriter = { directWriteQueued(): void {}, directWriteDone(): void {} };

/** Writes an HTTP error answer and closes the socket once it is out. */
export function abortHandshake(socket: Duplex, status: number, message?: string, headers?: http.OutgoingHttpHeaders): void {
  if (socket.writable && !socket.destroyed) {
    socket.once('finish', () => socket.destroy());
    const lines: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined) lines[name] = Array.isArray(value) ? value.join(', ') : String(value);
    socket.end(rejectResponse(status, message, lines));
  } else {
    socket.destroy();
  }
}
