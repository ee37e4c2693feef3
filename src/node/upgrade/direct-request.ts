/**
 * The request object of an upgrade read without Node's HTTP parser (direct-accept.ts): an
 * `http.IncomingMessage` (made through its public constructor, so `instanceof` holds and every
 * method works), filled from a head protocol/handshake/request-head.ts read. It answers what
 * Node's own upgrade requests answer: `headersDistinct` is made when first asked for, and its
 * empty body ends when first read.
 * Must not: read the socket (it belongs to the WebSocket), or hold anything but the head.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHead } from '../../protocol/handshake/request-head.js';

/** Where a DirectRequest keeps its `headersDistinct` once made or set. */
const DISTINCT = Symbol('headersDistinct');

/**
 * A request read without Node's parser. Every field name of its head appears once
 * (request-head.ts declines the rest), which its `headersDistinct` and the handshake checks
 * (http1.ts) rely on.
 */
export class DirectRequest extends http.IncomingMessage {
  declare [DISTINCT]?: Record<string, string[]>;

  /**
   * An upgrade request has no body: its end is pushed when it is first read, not when it is
   * made (pushed at once, it would cost every handshake a tick of stream machinery nobody
   * reads). Reading it never reads the socket.
   */
  override _read(): void {
    this.push(null);
  }
}

Object.defineProperty(DirectRequest.prototype, 'headersDistinct', {
  configurable: true,
  get(this: DirectRequest): Record<string, string[]> {
    return (this[DISTINCT] ??= distinct(this.rawHeaders));
  },
  set(this: DirectRequest, value: Record<string, string[]>): void {
    this[DISTINCT] = value;
  },
});

/** The request of `head`, read from `socket`: a GET over HTTP/1.1 that asks to upgrade. */
export function directRequest(socket: Socket, head: RequestHead): DirectRequest {
  return fillRequest(new DirectRequest(socket), head);
}

/** Fills `req` (a DirectRequest or a subclass of it) with `head`, a GET over HTTP/1.1 that asks to upgrade. */
export function fillRequest<R extends DirectRequest>(req: R, head: RequestHead): R {
  req.method = 'GET';
  req.url = head.url;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = '1.1';
  req.rawHeaders = head.rawHeaders;
  req.headers = head.headers;
  (req as unknown as { upgrade: boolean }).upgrade = true;
  req.complete = true;
  return req;
}

/** `headersDistinct` of raw name/value pairs whose every name appears once. */
function distinct(rawHeaders: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = { __proto__: null } as unknown as Record<string, string[]>;
  for (let i = 0; i < rawHeaders.length; i += 2) out[rawHeaders[i]!.toLowerCase()] = [rawHeaders[i + 1]!];
  return out;
}
