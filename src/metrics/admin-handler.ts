/**
 * The admin page's HTTP handler, mountable in any Node HTTP app: the page (live numbers and
 * charts, the busiest channels and topics, the connections), its JSON API (stats, publish to a
 * channel or topic, disconnect a connection), and the token check in front of all of it. The
 * token comes as `Authorization: Bearer TOKEN`, or once through the login form, which sets an
 * HttpOnly, SameSite=Strict cookie holding an HMAC of it (never the token itself).
 * Bad input gets a JSON answer `{ "error": { "code", "message" } }` with a documented status.
 * Must not: import other layers of the library (servers are seen through the small shapes
 * below), or act on a request that is not authenticated.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { adminPage, loginPage } from './admin-page.js';
import type { MetricsCollector } from './metrics-collector.js';

/** What the admin needs of a WebSocket (fullduplex's WebSocket fits). */
export interface AdminSocket {
  readonly readyState: number;
  readonly protocol: string;
  readonly bufferedAmount: number;
  close(code?: number, reason?: string): void;
}

/** What the admin needs of a WebSocketServer (fullduplex's fits; `clients` needs clientTracking). */
export interface AdminWebSocketServer {
  readonly clients: Set<AdminSocket> | ReadonlySet<AdminSocket>;
  publish(topic: string, data: string): unknown;
}

/** What the admin needs of a RealtimeServer (fullduplex/realtime's fits). */
export interface AdminRealtimeServer {
  readonly connections: ReadonlyMap<string, { readonly id: string; readonly channels: ReadonlySet<string>; close(code?: number, reason?: string): void }>;
  publish(channel: string, data: unknown): Promise<{ offset: string; epoch: string }>;
}

export interface AdminOptions {
  /** The secret an operator gives (at least 8 characters). */
  token: string;
  collector: MetricsCollector;
  /** Plain WebSocket servers whose connections are listed and whose topics take publications. */
  wss?: AdminWebSocketServer | readonly AdminWebSocketServer[];
  /** The real-time server whose connections are listed and whose channels take publications. */
  realtime?: AdminRealtimeServer;
  /** Where the page lives; its API is under BASE/api/. Default '/admin'. */
  basePath?: string;
  /** Largest request body accepted, in bytes. Default 65536. */
  maxBodyBytes?: number;
}

export const ADMIN_DEFAULTS = { basePath: '/admin', maxBodyBytes: 65_536, maxListedConnections: 100 } as const;

/** Close codes of a disconnect: fdx.v1's KICKED (do not reconnect), and 1008 for plain WebSockets. */
const KICKED = 4502;
const POLICY_VIOLATION = 1008;
const COOKIE = 'fdx_admin';

/** Each answer's status, by the stable code in its body. */
export const ADMIN_ERRORS = {
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BAD_REQUEST: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  NO_TARGET: 409,
  PUBLISH_FAILED: 503,
} as const;
export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

class AdminRequestError extends Error {
  constructor(
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The admin handler: answers requests under `basePath` and returns true; returns false (and
 * touches nothing) for any other path, so an app can try its own routes next.
 */
export function createAdminHandler(options: AdminOptions): (request: IncomingMessage, response: ServerResponse) => boolean {
  if (typeof options.token !== 'string' || options.token.length < 8) throw new TypeError('createAdminHandler: token must be a string of at least 8 characters');
  const base = (options.basePath ?? ADMIN_DEFAULTS.basePath).replace(/\/+$/, '');
  if (!/^\/[A-Za-z0-9._~\/-]*$/.test(base)) throw new TypeError('createAdminHandler: basePath must start with "/" and hold only letters, digits and . _ ~ / -');
  const maxBodyBytes = options.maxBodyBytes ?? ADMIN_DEFAULTS.maxBodyBytes;
  const servers: readonly AdminWebSocketServer[] = options.wss === undefined ? [] : Array.isArray(options.wss) ? options.wss : [options.wss as AdminWebSocketServer];
  const realtime = options.realtime;
  const key = randomBytes(32);
  const digest = (text: string): Buffer => createHmac('sha256', key).update(text).digest();
  const expected = digest(options.token);
  const cookieValue = expected.toString('hex');
  const plainIds = new WeakMap<AdminSocket, string>();
  let nextPlainId = 0;
  const plainId = (socket: AdminSocket): string => {
    let id = plainIds.get(socket);
    if (id === undefined) plainIds.set(socket, (id = `ws-${++nextPlainId}`));
    return id;
  };

  const authenticated = (request: IncomingMessage): boolean => {
    const auth = request.headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Bearer ')) return timingSafeEqual(digest(auth.slice(7).trim()), expected);
    const cookie = readCookie(request.headers.cookie, COOKIE);
    return cookie !== null && cookie.length === cookieValue.length && timingSafeEqual(Buffer.from(cookie), Buffer.from(cookieValue));
  };

  const connections = (): Array<{ id: string; kind: 'realtime' | 'plain'; detail: string }> => {
    const list: Array<{ id: string; kind: 'realtime' | 'plain'; detail: string }> = [];
    const max = ADMIN_DEFAULTS.maxListedConnections;
    if (realtime) {
      for (const connection of realtime.connections.values()) {
        if (list.length >= max) break;
        list.push({ id: connection.id, kind: 'realtime', detail: [...connection.channels].slice(0, 5).join(', ') });
      }
    }
    for (const server of servers) {
      for (const socket of server.clients) {
        if (list.length >= max) break;
        list.push({ id: plainId(socket), kind: 'plain', detail: `${socket.protocol || 'no subprotocol'}, ${socket.bufferedAmount} B buffered` });
      }
    }
    return list;
  };

  const publish = async (body: Record<string, unknown>): Promise<unknown> => {
    const { channel, data } = body;
    if (typeof channel !== 'string' || channel.length === 0 || channel.length > 200) throw new AdminRequestError('BAD_REQUEST', '"channel" must be a string of 1 to 200 characters');
    if (data === undefined) throw new AdminRequestError('BAD_REQUEST', '"data" is missing');
    const target = body.target ?? (realtime ? 'realtime' : 'topic');
    if (target === 'realtime') {
      if (!realtime) throw new AdminRequestError('NO_TARGET', 'no real-time server is mounted here');
      try {
        const position = await realtime.publish(channel, data);
        return { target, channel, offset: position.offset, epoch: position.epoch };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === 'CHANNEL_INVALID') throw new AdminRequestError('BAD_REQUEST', (error as Error).message);
        throw new AdminRequestError('PUBLISH_FAILED', `the publication failed: ${String(code ?? (error as Error).message)}`);
      }
    }
    if (target !== 'topic') throw new AdminRequestError('BAD_REQUEST', '"target" must be "realtime" or "topic"');
    if (servers.length === 0) throw new AdminRequestError('NO_TARGET', 'no WebSocket server with topics is mounted here');
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    for (const server of servers) server.publish(channel, text);
    return { target, channel };
  };

  const disconnect = (body: Record<string, unknown>): unknown => {
    const id = body.id;
    if (typeof id !== 'string' || id.length === 0) throw new AdminRequestError('BAD_REQUEST', '"id" must be a connection id');
    const connection = realtime?.connections.get(id);
    if (connection) {
      connection.close(KICKED, 'disconnected by an operator');
      return { id, closeCode: KICKED };
    }
    for (const server of servers) {
      for (const socket of server.clients) {
        if (plainIds.get(socket) === id) {
          socket.close(POLICY_VIOLATION, 'disconnected by an operator');
          return { id, closeCode: POLICY_VIOLATION };
        }
      }
    }
    throw new AdminRequestError('NOT_FOUND', `no connection "${id.slice(0, 60)}"`);
  };

  const api = async (request: IncomingMessage, response: ServerResponse, route: string): Promise<void> => {
    if (route === 'stats') {
      if (request.method !== 'GET') throw new AdminRequestError('METHOD_NOT_ALLOWED', 'use GET');
      sendJson(response, 200, { ...options.collector.snapshot(), list: connections() });
      return;
    }
    if (route !== 'publish' && route !== 'disconnect') throw new AdminRequestError('NOT_FOUND', 'no such API');
    if (request.method !== 'POST') throw new AdminRequestError('METHOD_NOT_ALLOWED', 'use POST');
    // JSON only: a cross-site form cannot send it without the browser asking first (CSRF).
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) throw new AdminRequestError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    const body = await readJsonObject(request, maxBodyBytes);
    sendJson(response, 200, route === 'publish' ? await publish(body) : disconnect(body));
  };

  return (request, response) => {
    const path = pathOf(request.url);
    if (path !== base && !path.startsWith(`${base}/`)) return false;
    const route = path.slice(base.length);
    const answer = async (): Promise<void> => {
      if (route === '/login') {
        if (request.method !== 'POST') throw new AdminRequestError('METHOD_NOT_ALLOWED', 'use POST');
        const form = new URLSearchParams((await readBody(request, maxBodyBytes)).toString('utf8'));
        if (timingSafeEqual(digest(form.get('token') ?? ''), expected)) {
          response.writeHead(303, { location: `${base}/`, 'set-cookie': `${COOKIE}=${cookieValue}; Path=${base}/; HttpOnly; SameSite=Strict` }).end();
        } else {
          sendHtml(response, 401, loginPage(base, 'Wrong token.'));
        }
        return;
      }
      if (route === '/logout') {
        response.writeHead(303, { location: `${base}/`, 'set-cookie': `${COOKIE}=; Path=${base}/; HttpOnly; SameSite=Strict; Max-Age=0` }).end();
        return;
      }
      const isPage = route === '' || route === '/';
      if (!authenticated(request)) {
        if (isPage && (request.method === 'GET' || request.method === 'HEAD')) sendHtml(response, 401, loginPage(base, ''));
        else throw new AdminRequestError('UNAUTHORIZED', 'a token is required (Authorization: Bearer TOKEN, or log in)');
        return;
      }
      if (isPage) {
        if (request.method !== 'GET' && request.method !== 'HEAD') throw new AdminRequestError('METHOD_NOT_ALLOWED', 'use GET');
        sendHtml(response, 200, adminPage(base));
        return;
      }
      if (route.startsWith('/api/')) return api(request, response, route.slice(5));
      throw new AdminRequestError('NOT_FOUND', 'no such page');
    };
    answer().catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const known = error instanceof AdminRequestError ? error : new AdminRequestError('BAD_REQUEST', 'the request could not be read');
      sendJson(response, ADMIN_ERRORS[known.code], { error: { code: known.code, message: known.message } });
    });
    return true;
  };
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        request.resume();
        reject(new AdminRequestError('PAYLOAD_TOO_LARGE', `the body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

async function readJsonObject(request: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const text = (await readBody(request, maxBytes)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AdminRequestError('BAD_REQUEST', 'the body is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AdminRequestError('BAD_REQUEST', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' }).end(body);
}

function sendHtml(response: ServerResponse, status: number, html: string): void {
  response
    .writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
      'cache-control': 'no-store',
      // Everything is inline; nothing may be loaded from elsewhere.
      'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; form-action 'self'; frame-ancestors 'none'",
    })
    .end(html);
}
