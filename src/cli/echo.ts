/**
 * `fdx echo`: a WebSocket echo server built the way any user builds one, on the public API.
 * Text comes back as text and binary as binary. SIGINT or SIGTERM close it gracefully
 * (every client gets 1001 and the close handshake, up to the server's closeTimeoutMs).
 * Must not: reach past the public entry point, or exit the process itself (save on a second
 * signal, when the user asks not to wait for the close handshakes).
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type ServerOptions } from '../index.js';

export interface EchoOptions {
  port: number;
  host: string;
  /** Largest message accepted, in bytes; undefined keeps the server's default. */
  maxPayload?: number | undefined;
  deflate?: boolean;
}

/** Exit codes as in main.ts (repeated here as numbers so echo.ts does not import main.ts). */
const OK = 0;
const FAILURE = 1;

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
      const address = wss.address() as AddressInfo;
      const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
      process.stdout.write(`listening on ws://${host}:${address.port}\n`);
    });

    wss.on('error', (error: NodeJS.ErrnoException) => {
      if (listening) {
        process.stderr.write(`fdx: server error: ${error.message}\n`);
        return;
      }
      process.stderr.write(`fdx: cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}\n`);
      stopHandlingSignals();
      wss.close(() => resolve(FAILURE));
    });

    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal: the user does not want to wait for the close handshakes.
        process.stderr.write(`fdx: ${signal} again, exiting now\n`);
        process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      }
      stopping = true;
      process.stderr.write(`fdx: ${signal}, closing\n`);
      wss.close(() => {
        stopHandlingSignals();
        resolve(OK);
      });
    };
    const stopHandlingSignals = (): void => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
