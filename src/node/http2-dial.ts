/**
 * The client's opening handshake over HTTP/2 (RFC 8441): one HTTP/2 session per origin shared
 * by every WebSocket dialled to it (closed when the last of them closes), the server's
 * SETTINGS_ENABLE_CONNECT_PROTOCOL awaited (§3), the extended CONNECT sent (§4) and its answer
 * checked (§5); with `http2: 'auto'`, TLS's ALPN and that setting decide between HTTP/2 and
 * HTTP/1.1, and HTTP/1.1 goes on over the same TLS connection when ALPN chose it.
 * Must not: know of frames (the link does), or check answers itself (protocol/handshake/http2.ts does).
 */
import http2 from 'node:http2';
import tls from 'node:tls';
import { HandshakeError, UsageError } from '../protocol/errors.js';
import { connectRequestHeaders, validateConnectAnswer } from '../protocol/handshake/http2.js';
import type { AcceptedResponse } from '../protocol/handshake/client.js';
import type { ClientOptions } from './options.js';
import { handshakeDeadline } from './handshake-deadline.js';

/** Where to dial (client.ts's parsed URL). */
export interface DialTarget {
  url: URL;
  secure: boolean;
  socketPath: string | undefined;
  path: string;
}

export interface Http2DialHandlers {
  /** The server's answer passed every check: `stream` is the WebSocket's transport. */
  onOpen(stream: http2.ClientHttp2Stream, status: number, headers: http2.IncomingHttpHeaders, accepted: AcceptedResponse): void;
  onError(error: Error): void;
  /** 'auto' found no HTTP/2 WebSockets at the origin: dial HTTP/1.1 (over `socket` when one is open). */
  fallBack(socket: tls.TLSSocket | null): void;
}

interface SharedSession {
  readonly key: string;
  readonly session: http2.ClientHttp2Session;
  /** WebSockets opened or opening on it. */
  users: number;
  /** The server's first SETTINGS arrived (or the session ended). */
  settled: Promise<void>;
  /** Why the session failed, if it did (ECONNREFUSED, ...). */
  error: Error | null;
}

/** The options that make two TLS connections interchangeable for a shared session. */
function sessionKey(target: DialTarget, options: ClientOptions): string {
  const { url } = target;
  return [url.protocol, url.host, options.servername ?? '', options.rejectUnauthorized ?? '', options.ca === undefined ? '' : 'ca'].join(' ');
}

/** The sessions of this process, one per origin (and TLS options); each lives while a WebSocket uses it. */
class Http2Sessions {
  readonly #open = new Map<string, SharedSession>();
  /** TLS connections under way per origin: dials made meanwhile wait for them rather than open their own. */
  readonly #connecting = new Map<string, Promise<void>>();

  /** The TLS connection under way to the origin of `target`, if any. */
  connecting(target: DialTarget, options: ClientOptions): Promise<void> | undefined {
    return this.#connecting.get(sessionKey(target, options));
  }

  /** Marks a TLS connection to the origin of `target` as under way until `done` is called. */
  startConnecting(target: DialTarget, options: ClientOptions): () => void {
    const key = sessionKey(target, options);
    let done!: () => void;
    const promise = new Promise<void>((resolve) => (done = resolve));
    this.#connecting.set(key, promise);
    return () => {
      if (this.#connecting.get(key) === promise) this.#connecting.delete(key);
      done();
    };
  }

  /** A live session to the origin of `target`, if there is one. */
  find(target: DialTarget, options: ClientOptions): SharedSession | undefined {
    const shared = this.#open.get(sessionKey(target, options));
    if (shared && (shared.session.closed || shared.session.destroyed)) {
      this.#open.delete(shared.key);
      return undefined;
    }
    return shared;
  }

  /** Starts a session over `socket` (TLS, ALPN h2) or, without one, over h2c with prior knowledge. */
  start(target: DialTarget, options: ClientOptions, socket: tls.TLSSocket | null): SharedSession {
    const key = sessionKey(target, options);
    const authority = `${target.secure ? 'https' : 'http'}://${target.url.host}`;
    const session = http2.connect(authority, {
      ...(socket ? { createConnection: () => socket } : {}),
      settings: { enablePush: false },
    });
    let settle!: () => void;
    const shared: SharedSession = { key, session, users: 0, error: null, settled: new Promise((resolve) => (settle = resolve)) };
    session.once('remoteSettings', () => settle());
    // A failed or closed session settles its waiters, who then see it closed.
    session.once('close', () => {
      settle();
      if (this.#open.get(key) === shared) this.#open.delete(key);
    });
    // A session's failure reaches its WebSockets through their streams, or as the dial's error.
    session.on('error', (error) => (shared.error ??= error));
    this.#open.set(key, shared);
    return shared;
  }

  /** One WebSocket less on `shared`: the last one closes the session. */
  release(shared: SharedSession): void {
    if (--shared.users > 0) return;
    if (this.#open.get(shared.key) === shared) this.#open.delete(shared.key);
    shared.session.close();
  }

  /** Open sessions, for tests and metrics. */
  get size(): number {
    return this.#open.size;
  }
}

export const http2Sessions = new Http2Sessions();

/** The TLS options a client passes on to tls.connect. */
function tlsConnectOptions(target: DialTarget, options: ClientOptions, alpn: string[]): tls.ConnectionOptions {
  const host = target.url.hostname.startsWith('[') ? target.url.hostname.slice(1, -1) : target.url.hostname;
  const picked: Record<string, unknown> = {};
  for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'ciphers', 'minVersion', 'maxVersion', 'rejectUnauthorized', 'checkServerIdentity'] as const) {
    if ((options as Record<string, unknown>)[k] !== undefined) picked[k] = (options as Record<string, unknown>)[k];
  }
  return {
    ...picked,
    host,
    port: target.url.port ? Number(target.url.port) : 443,
    servername: options.servername ?? (/^[\d.]+$|:/.test(host) ? undefined : host),
    ALPNProtocols: alpn,
  };
}

/** The opening handshake under way over HTTP/2. */
export interface Http2Dial {
  abort(): void;
}

/**
 * Opens a WebSocket over HTTP/2 to `target`: `mode` true insists on HTTP/2 (h2c with prior
 * knowledge for ws:), 'auto' falls back to HTTP/1.1 when the origin does not offer it.
 * Exactly one of onOpen, onError or fallBack ends it.
 */
export function dialHttp2(
  target: DialTarget,
  protocols: readonly string[],
  options: ClientOptions,
  mode: true | 'auto',
  extensionOffer: string | undefined,
  extensionNames: readonly string[],
  handlers: Http2DialHandlers,
): Http2Dial {
  let stream: http2.ClientHttp2Stream | null = null;
  let shared: SharedSession | null = null;
  const fail = (error: Error): void => {
    if (!finish()) return;
    if (stream && !stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    else if (shared) http2Sessions.release(shared);
    handlers.onError(error);
  };
  const deadline = handshakeDeadline(options.handshakeTimeout, fail);
  const finish = (): boolean => deadline.finish();
  const fallBack = (socket: tls.TLSSocket | null): void => {
    if (!finish()) return;
    handlers.fallBack(socket);
  };

  const request = (session: SharedSession): void => {
    shared = session;
    session.users++;
    void session.settled.then(() => {
      if (deadline.done) return;
      const s = session.session;
      if (s.closed || s.destroyed) return fail(session.error ?? new HandshakeError('WS_ERR_UNEXPECTED_RESPONSE', 'the HTTP/2 connection closed before the opening handshake'));
      if (!s.remoteSettings.enableConnectProtocol) {
        if (mode === 'auto') {
          http2Sessions.release(session);
          return fallBack(null);
        }
        return fail(new HandshakeError('WS_ERR_H2_NOT_SUPPORTED'));
      }
      const headers = connectRequestHeaders({
        scheme: target.secure ? 'https' : 'http',
        authority: target.url.host,
        path: target.path,
        protocols,
        extensions: extensionOffer,
        origin: options.origin,
      });
      Object.assign(headers, lowerCased(options.headers));
      stream = s.request(headers, { endStream: false });
      const opened = stream;
      opened.once('close', () => http2Sessions.release(session));
      opened.on('error', (error) => fail(error));
      opened.once('response', (answer) => {
        const status = Number(answer[':status']);
        const accepted = validateConnectAnswer(status, answer as Record<string, string>, { protocols, extensionNames });
        if (accepted instanceof HandshakeError) return fail(accepted);
        if (!finish()) return;
        handlers.onOpen(opened, status, answer, accepted);
      });
    });
  };

  const connect = (): void => {
    if (deadline.done) return;
    const existing = http2Sessions.find(target, options);
    const underWay = existing ? undefined : http2Sessions.connecting(target, options);
    if (existing) {
      request(existing);
    } else if (underWay) {
      // Another dial to this origin is connecting: share what it gets, or try again after it.
      void underWay.then(connect);
    } else if (target.socketPath || (!target.secure && mode === 'auto')) {
      // Without TLS there is no ALPN to ask: 'auto' speaks HTTP/1.1 (h2c needs prior knowledge).
      process.nextTick(() => fallBack(null));
    } else if (!target.secure) {
      request(http2Sessions.start(target, options, null));
    } else {
      const connected = http2Sessions.startConnecting(target, options);
      const socket = tls.connect(tlsConnectOptions(target, options, mode === 'auto' ? ['h2', 'http/1.1'] : ['h2']));
      socket.once('error', (error) => {
        connected();
        fail(error);
      });
      socket.once('secureConnect', () => {
        if (deadline.done) {
          connected();
          return socket.destroy();
        }
        if (socket.alpnProtocol === 'h2') {
          request(http2Sessions.start(target, options, socket));
          connected();
          return;
        }
        connected();
        if (mode === 'auto') return fallBack(socket);
        socket.destroy();
        fail(new HandshakeError('WS_ERR_H2_NOT_SUPPORTED', 'the server did not choose h2 in ALPN'));
      });
    }
  };
  connect();
  return {
    abort: () => fail(new UsageError('WS_ERR_CLOSED_BEFORE_OPEN', 'WebSocket was closed before the connection was established')),
  };
}

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers) for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}
