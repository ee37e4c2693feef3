/**
 * `fdx echo`: a WebSocket echo server built the way any user builds one, on the public API.
 * Text comes back as text and binary as binary. SIGINT or SIGTERM close it gracefully
 * (every client gets 1001 and the close handshake, up to the server's closeTimeoutMs).
 * Must not: reach past the public entry point, or exit the process itself (save on a second
 * signal, when the user asks not to wait for the close handshakes).
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type ServerOptions } from '../../index.js';
import { onShutdownSignal, formatAddress } from '../shutdown-signals.js';
import { ExitCode, UsageMistake, parseInteger, stringValue, type Command } from '../args.js';

export const echoCommand: Command = {
  summary: 'Run a WebSocket echo server (text back as text, binary as binary)',
  usage: [
    'Usage: fdx echo [--port PORT] [--host HOST] [--max-payload BYTES] [--deflate]',
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
    '  -h, --help           Show this help',
    '',
    'Exit codes: 0 after a signal closed it, 1 when it cannot listen, 2 usage mistake.',
  ].join('\n'),
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'max-payload': { type: 'string' },
    deflate: { type: 'boolean' },
  },
  positionals: false,
  async run({ values }) {
    const port = parseInteger('--port', stringValue(values, 'port'), 0, 65535) ?? 9001;
    const maxPayload = parseInteger('--max-payload', stringValue(values, 'max-payload'), 0, Number.MAX_SAFE_INTEGER);
    const host = stringValue(values, 'host') ?? '127.0.0.1';
    if (host === '') throw new UsageMistake('--host must not be empty');
    return echo({ port, host, maxPayload, deflate: values.deflate === true });
  },
};

export interface EchoOptions {
  port: number;
  host: string;
  /** Largest message accepted, in bytes; undefined keeps the server's default. */
  maxPayload?: number | undefined;
  deflate?: boolean;
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
    const wss = new WebSocketServer(serverOptions);
    let listening = false;

    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => {
        ws.send(data as Buffer, { binary: isBinary });
      });
      // A peer's protocol violation closes that connection; it must not take the server down.
      ws.on('error', () => {});
    });

    wss.on('listening', () => {
      listening = true;
      process.stdout.write(`listening on ws://${formatAddress(wss.address() as AddressInfo)}\n`);
    });

    wss.on('error', (error: NodeJS.ErrnoException) => {
      if (listening) {
        process.stderr.write(`fdx: server error: ${error.message}\n`);
        return;
      }
      process.stderr.write(`fdx: cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}\n`);
      stopHandlingSignals();
      wss.close(() => resolve(ExitCode.FAILURE));
    });

    const stopHandlingSignals = onShutdownSignal('closing', () => {
      wss.close(() => {
        stopHandlingSignals();
        resolve(ExitCode.OK);
      });
    });
  });
}
