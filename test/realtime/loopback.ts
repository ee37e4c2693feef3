/**
 * A real-time server on a real HTTP server on 127.0.0.1 (fullduplex/realtime's glue), which can
 * be stopped and started again on the same port with the same engine, as a restarted process
 * with a shared engine would be; and clients through fullduplex's WebSocket.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from '../../src/index.js';
import { MemoryEngine, mountRealtime, RealtimeServer, type Engine, type MountOptions, type RealtimeServerOptions } from '../../src/realtime.js';
import { createClient, type ClientOptions, type RealtimeClient } from '../../src/client.js';
import type { EventMap } from '../../src/realtime/event-map.js';
import type { WebSocketServer } from '../../src/index.js';

export interface Loopback<ToServer extends EventMap = EventMap, ToClient extends EventMap = EventMap> {
  port: number;
  url: string;
  realtime: RealtimeServer<ToServer, ToClient, any>;
  wss: WebSocketServer;
  /** Stops the HTTP and WebSocket servers abruptly (connections dropped, no close frames). */
  crash(): Promise<void>;
  /** Starts a new server on the same port; with the same engine unless one is given. */
  restart(options?: { engine?: Engine }): Promise<void>;
  /** Graceful: drain over `periodMs`, then stop. */
  drainAndStop(periodMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startLoopback<ToServer extends EventMap = EventMap, ToClient extends EventMap = EventMap>(
  options: RealtimeServerOptions<any> & {
    setup?: (realtime: RealtimeServer<ToServer, ToClient, any>) => void;
    port?: number;
    /** Answers plain HTTP requests (default: 404). */
    http?: http.RequestListener;
    /** More WebSocketServer options for mountRealtime (e.g. backpressure). */
    mount?: Omit<MountOptions, 'server' | 'path' | 'port' | 'noServer'>;
  } = {},
): Promise<Loopback<ToServer, ToClient>> {
  // The engine outlives a server restart (it stands for a shared store such as Redis).
  let engine: Engine = options.engine ?? new MemoryEngine();
  let server!: http.Server;
  const loop = {} as Loopback<ToServer, ToClient>;
  async function start(port: number): Promise<void> {
    server = http.createServer(options.http ?? ((_req, res) => res.writeHead(404).end()));
    const realtime = new RealtimeServer<ToServer, ToClient, any>({ ...options, engine });
    options.setup?.(realtime);
    const wss = mountRealtime(realtime, { server, path: '/rt', pingIntervalMs: 0, ...options.mount });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    loop.port = (server.address() as AddressInfo).port;
    loop.url = `ws://127.0.0.1:${loop.port}/rt`;
    loop.realtime = realtime;
    loop.wss = wss;
  }
  async function halt(): Promise<void> {
    const s = server;
    await loop.realtime.close().catch(() => undefined);
    await new Promise<void>((resolve) => loop.wss.close(() => resolve()));
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  loop.crash = async () => {
    for (const ws of loop.wss.clients) ws.terminate();
    await halt();
  };
  loop.restart = async (o = {}) => {
    if (o.engine) engine = o.engine;
    await start(loop.port);
  };
  loop.drainAndStop = async (periodMs) => {
    await loop.realtime.drain(periodMs);
    await halt();
  };
  loop.stop = async () => {
    await halt();
    await engine.close();
  };
  await start(options.port ?? 0);
  return loop;
}

export function connectClient<ToServer extends EventMap = EventMap, ToClient extends EventMap = EventMap>(
  url: string,
  options: ClientOptions = {},
): RealtimeClient<ToServer, ToClient> {
  return createClient<ToServer, ToClient>(url, { WebSocket: WebSocket as never, minDelayMs: 20, maxDelayMs: 200, ...options });
}

/** Resolves once `check` holds, polling; rejects after `ms`. */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
