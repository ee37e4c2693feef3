/**
 * HTTP/2 peers for tests (RFC 8441): our WebSocketServer on a node:http2 server (h2c, or TLS
 * with the fixture certificate and ALPN h2 + http/1.1), a raw HTTP/2 client that opens extended
 * CONNECT streams on one session, and a raw HTTP/2 server that hands such streams to a test.
 * Everything listens on 127.0.0.1 and is closed by the caller.
 */
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type ServerOptions } from '../../src/index.js';

export const TLS_FIXTURE = {
  cert: readFileSync(new URL('../fixtures/cert.pem', import.meta.url)),
  key: readFileSync(new URL('../fixtures/key.pem', import.meta.url)),
};

export interface Http2Setup {
  secure?: boolean;
  allowHTTP1?: boolean;
  /** Extra SETTINGS of the server (maxConcurrentStreams, ...). */
  settings?: http2.Settings;
  /** Left to WebSocketServer to announce (updateSettings) instead of given at creation. */
  withoutConnectSetting?: boolean;
}

export interface RunningHttp2 {
  wss: WebSocketServer;
  server: http2.Http2Server | http2.Http2SecureServer;
  port: number;
  url: string;
  /** Sessions the server accepted, in order. */
  sessions: http2.ServerHttp2Session[];
  close(): Promise<void>;
}

/** Our WebSocketServer on a fresh HTTP/2 server. */
export async function startHttp2Server(options: Omit<ServerOptions, 'port' | 'server' | 'noServer'> = {}, setup: Http2Setup = {}): Promise<RunningHttp2> {
  const settings: http2.Settings = { ...setup.settings };
  if (!setup.withoutConnectSetting) settings.enableConnectProtocol = true;
  const server = setup.secure
    ? http2.createSecureServer({ ...TLS_FIXTURE, allowHTTP1: setup.allowHTTP1 ?? false, settings })
    : http2.createServer({ settings });
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (session) => sessions.push(session));
  // Raw peers in tests often never answer a close: a short wait keeps teardown quick.
  const wss = new WebSocketServer({ closeTimeoutMs: 500, ...options, server });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    wss,
    server,
    port,
    url: `${setup.secure ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        wss.close(() => {
          for (const session of sessions) session.destroy();
          server.close(() => resolve());
        });
      }),
  };
}

/** A raw HTTP/2 client session (h2c prior knowledge, or TLS trusting anything), its SETTINGS awaited. */
export async function rawSession(port: number, secure = false): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`${secure ? 'https' : 'http'}://127.0.0.1:${port}`, secure ? { rejectUnauthorized: false } : {});
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => resolve());
    session.once('error', reject);
  });
  return session;
}

/** The headers of a valid extended CONNECT to `path`, with `extra` on top (undefined values removed). */
export function connectHeaders(port: number, path = '/', extra: Record<string, string | undefined> = {}): http2.OutgoingHttpHeaders {
  const headers: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'http',
    ':authority': `127.0.0.1:${port}`,
    ':path': path,
    'sec-websocket-version': '13',
  };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return headers;
}

export interface OpenedStream {
  stream: http2.ClientHttp2Stream;
  status: number;
  headers: http2.IncomingHttpHeaders;
}

/** Sends a CONNECT with `headers` and waits for the answer's head (or the stream's reset). */
export function openStream(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<OpenedStream> {
  const stream = session.request(headers, { endStream: false });
  return new Promise((resolve, reject) => {
    stream.once('response', (answer) => resolve({ stream, status: Number(answer[':status']), headers: answer }));
    stream.once('error', reject);
    stream.once('close', () => reject(Object.assign(new Error('stream closed before its answer'), { rstCode: stream.rstCode })));
  });
}

/** A raw HTTP/2 server (h2c) that announces extended CONNECT and hands each CONNECT stream to `onStream`. */
export async function startRawHttp2Server(onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void): Promise<{ port: number; close(): Promise<void> }> {
  const server = http2.createServer({ settings: { enableConnectProtocol: true } });
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    onStream(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}
