/**
 * `fdx echo`: a WebSocket echo server built the way any user builds one, on the public API.
 * Text comes back as text and binary as binary. SIGINT or SIGTERM close it gracefully
 * (every client gets 1001 and the close handshake, up to the server's closeTimeoutMs).
 * With --http2 one port takes HTTP/1.1 upgrades and HTTP/2 extended CONNECT (RFC 8441): over
 * TLS (--cert, --key) ALPN picks h2 or http/1.1; without TLS the first bytes tell h2c with
 * prior knowledge (the HTTP/2 preface) from HTTP/1.1.
 * Must not: reach past the public entry point, or exit the process itself (save on a second
 * signal, when the user asks not to wait for the close handshakes).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { WebSocketServer, type ServerOptions } from '../../index.js';
import { onShutdownSignal, formatAddress } from '../shutdown-signals.js';
import { ExitCode, UsageMistake, parseInteger, stringValue, type Command } from '../args.js';

export const echoCommand: Command = {
  summary: 'Run a WebSocket echo server (text back as text, binary as binary)',
  usage: [
    'Usage: fdx echo [--port PORT] [--host HOST] [--max-payload BYTES] [--deflate]',
    '                [--http2 [--cert FILE --key FILE]]',
    '',
    'Run a WebSocket echo server until SIGINT or SIGTERM, then close it gracefully.',
    'Prints "listening on ws://HOST:PORT" once it accepts connections.',
    '',
    'Options:',
    '  --port PORT          TCP port, 0 for any free port (default 9001)',
    '  --host HOST          Address to bind (default 127.0.0.1)',
    '  --max-payload BYTES  Largest message accepted; bigger ones close with 1009',
    '                       (default 16777216, 0 for no limit)',
    '  --deflate            Offer permessage-deflate compression (RFC 7692)',
    '  --http2              Also take WebSockets over HTTP/2 (RFC 8441) on the same port:',
    '                       over TLS with --cert/--key (ALPN h2, http/1.1), else h2c',
    '                       with prior knowledge beside HTTP/1.1',
    '  --cert FILE          TLS certificate (PEM); needs --key and --http2',
    '  --key FILE           TLS private key (PEM)',
    '  -h, --help           Show this help',
    '',
    'Exit codes: 0 after a signal closed it, 1 when it cannot listen, 2 usage mistake.',
  ].join('\n'),
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'max-payload': { type: 'string' },
    deflate: { type: 'boolean' },
    http2: { type: 'boolean' },
    cert: { type: 'string' },
    key: { type: 'string' },
  },
  positionals: false,
  async run({ values }) {
    const port = parseInteger('--port', stringValue(values, 'port'), 0, 65535) ?? 9001;
    const maxPayload = parseInteger('--max-payload', stringValue(values, 'max-payload'), 0, Number.MAX_SAFE_INTEGER);
    const host = stringValue(values, 'host') ?? '127.0.0.1';
    if (host === '') throw new UsageMistake('--host must not be empty');
    const cert = stringValue(values, 'cert');
    const key = stringValue(values, 'key');
    if ((cert === undefined) !== (key === undefined)) throw new UsageMistake('--cert and --key go together');
    if (cert !== undefined && values.http2 !== true) throw new UsageMistake('--cert and --key need --http2');
    let tls: { cert: Buffer; key: Buffer } | undefined;
    if (cert !== undefined && key !== undefined) {
      try {
        tls = { cert: readFileSync(cert), key: readFileSync(key) };
      } catch (error) {
        throw new UsageMistake(`cannot read --cert/--key: ${(error as Error).message}`);
      }
    }
    return echo({ port, host, maxPayload, deflate: values.deflate === true, http2: values.http2 === true, tls });
  },
};

export interface EchoOptions {
  port: number;
  host: string;
  /** Largest message accepted, in bytes; undefined keeps the server's default. */
  maxPayload?: number | undefined;
  deflate?: boolean;
  /** Take HTTP/2 extended CONNECT beside HTTP/1.1 upgrades. */
  http2?: boolean;
  /** Serve TLS (with --http2): ALPN h2 and http/1.1. */
  tls?: { cert: Buffer; key: Buffer } | undefined;
}

/** The HTTP/2 client preface (RFC 9113 §3.4) that starts an h2c connection with prior knowledge. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

/**
 * One listening server for HTTP/1.1 and HTTP/2: TLS through ALPN (allowHTTP1), cleartext by
 * the first bytes of each connection. Returns the server that listens and the one to hand to
 * WebSocketServer.
 */
function http2Listener(tls: EchoOptions['tls']): { listener: net.Server; server: http2.Http2Server | http2.Http2SecureServer; http1: http.Server | null } {
  const settings = { enableConnectProtocol: true };
  if (tls) {
    const server = http2.createSecureServer({ ...tls, allowHTTP1: true, settings });
    return { listener: server, server, http1: null };
  }
  const server = http2.createServer({ settings });
  // Plain HTTP/1.1 requests get 426, as from WebSocketServer's own server.
  const http1 = http.createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain', 'Sec-WebSocket-Version': '13', Connection: 'close' });
    res.end('Upgrade Required');
  });
  const listener = net.createServer((socket) => {
    let seen = Buffer.alloc(0);
    const sniff = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const h2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (h2 && n < PREFACE.length) return;
      socket.removeListener('data', sniff);
      // HTTP/2 reads the socket's handle itself, after the bytes put back; HTTP/1.1 reads
      // 'data' events, so the socket flows again once its parser listens.
      socket.pause();
      socket.unshift(seen);
      (h2 ? server : http1).emit('connection', socket);
      if (!h2) socket.resume();
    };
    socket.on('data', sniff);
    socket.on('error', () => socket.destroy());
  });
  return { listener, server, http1 };
}

/**
 * Starts the server, prints `listening on ws://HOST:PORT` with the bound port once it accepts
 * connections, and resolves to an exit code after a signal has closed it (or it failed to start).
 */
export function echo(options: EchoOptions): Promise<0 | 1> {
  const serverOptions: ServerOptions = { port: options.port, host: options.host };
  if (options.maxPayload !== undefined) serverOptions.maxPayload = options.maxPayload;
  if (options.deflate) serverOptions.perMessageDeflate = true;

  return new Promise((resolve) => {
    let listener: net.Server | null = null;
    const sessions = new Set<http2.Http2Session>();
    if (options.http2) {
      const made = http2Listener(options.tls);
      listener = made.listener;
      made.server.on('session', (session) => {
        sessions.add(session);
        session.on('close', () => sessions.delete(session));
      });
      delete serverOptions.port;
      serverOptions.server = made.server;
      const http1 = made.http1;
      if (http1) {
        // Cleartext HTTP/1.1 beside h2c: its upgrades go to the same WebSocketServer.
        http1.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
      }
    }
    const wss = new WebSocketServer(serverOptions);
    let listening = false;
    const scheme = options.tls ? 'wss' : 'ws';

    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => {
        ws.send(data as Buffer, { binary: isBinary });
      });
      // A peer's protocol violation closes that connection; it must not take the server down.
      ws.on('error', () => {});
    });

    const onListening = (): void => {
      listening = true;
      const address = (listener ? listener.address() : wss.address()) as AddressInfo;
      process.stdout.write(`listening on ${scheme}://${formatAddress(address)}\n`);
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      if (listening) {
        process.stderr.write(`fdx: server error: ${error.message}\n`);
        return;
      }
      process.stderr.write(`fdx: cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}\n`);
      stopHandlingSignals();
      wss.close(() => resolve(ExitCode.FAILURE));
    };
    if (listener) {
      // The listener reports its own errors; the WebSocketServer's echo of them is not news.
      wss.on('error', () => {});
      listener.on('listening', onListening);
      listener.on('error', onError);
      listener.listen(options.port, options.host);
    } else {
      wss.on('listening', onListening);
      wss.on('error', onError);
    }

    const stopHandlingSignals = onShutdownSignal('closing', () => {
      wss.close(() => {
        stopHandlingSignals();
        if (listener) {
          // Sessions without WebSockets left would hold the listener open.
          listener.close(() => resolve(ExitCode.OK));
          (listener as http2.Http2SecureServer & { closeAllConnections?: () => void }).closeAllConnections?.();
          for (const session of sessions) session.close();
        } else {
          resolve(ExitCode.OK);
        }
      });
    });
  });
}
