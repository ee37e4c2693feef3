/**
 * The server under attack: fullduplex's WebSocketServer running an echo application, with a
 * record of what its application saw (close codes, error codes) and the checks every hostile
 * case ends with: the server closed the connection, forgot it, and still serves a normal client.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'fullduplex';
import { echoOnce, eventually } from './raw-peer.js';

export interface Target {
  wss: WebSocketServer;
  port: number;
  /** Close codes of the server's 'close' events, in order. */
  closeCodes: number[];
  /** `code` of every error the server's connections reported. */
  errorCodes: string[];
  /** Connections accepted so far. */
  accepted: WebSocket[];
  stop(): Promise<void>;
}

/** Starts an echo server on 127.0.0.1 with the given options (heartbeats off unless asked for). */
export async function startTarget(options: Omit<ServerOptions, 'port'> = {}): Promise<Target> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', pingIntervalMs: 0, closeTimeoutMs: 2000, ...options });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const target: Target = {
    wss,
    port: (wss.address() as AddressInfo).port,
    closeCodes: [],
    errorCodes: [],
    accepted: [],
    stop: () => new Promise<void>((resolve) => wss.close(() => resolve())),
  };
  wss.on('connection', (ws) => {
    target.accepted.push(ws);
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on('error', (error: Error & { code?: string }) => target.errorCodes.push(error.code ?? error.message));
    ws.on('close', (code) => target.closeCodes.push(code));
  });
  return target;
}

/** Open TCP sockets of this process (client and server ends alike): the leak check counts these. */
export function openSockets(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
}

/** Timers of this process. */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

/**
 * The end of every case: the server keeps no connection (its application saw every close) and
 * a new, well-behaved client gets its message echoed byte for byte.
 */
export async function assertStillServing(target: Target): Promise<void> {
  assert.ok(await eventually(() => target.wss.clients.size === 0, 5000), `the server still holds ${target.wss.clients.size} connections`);
  const message = `still serving ${Math.random().toString(36).slice(2)}`;
  assert.equal(await echoOnce(target.port, message), message);
  assert.ok(await eventually(() => target.wss.clients.size === 0, 5000), 'the echo client was not forgotten');
}
