/**
 * fullduplex's end of every interop session: a server on 127.0.0.1 that hands out an Endpoint
 * per accepted connection, and a client dialer that returns one once open.
 */
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { startServer, stopServer } from '../support/servers.js';
import { emitterEndpoint, type Endpoint } from './endpoint.js';
import { Inbox, within } from './inbox.js';
import { OFFERED_PROTOCOLS, pickB } from './peer-matrix.js';

export interface OurServer {
  wss: WebSocketServer;
  url: string;
  port: number;
  /** The next accepted connection, with its raw socket for cleanup. */
  nextConnection(): Promise<{ endpoint: Endpoint; socket: WebSocket }>;
  stop(): Promise<void>;
}

/** With `deflate`, permessage-deflate is on and every message is compressed (threshold 0). */
export async function startOurServer(options: { deflate?: boolean } = {}): Promise<OurServer> {
  const { wss, url, port } = await startServer({
    handleProtocols: pickB,
    closeTimeoutMs: 2000,
    perMessageDeflate: options.deflate ? { threshold: 0 } : false,
  });
  const accepted = new Inbox<{ endpoint: Endpoint; socket: WebSocket }>('fullduplex server connections');
  wss.on('connection', (socket) => {
    accepted.push({ endpoint: emitterEndpoint(socket, 'fullduplex server'), socket });
  });
  return {
    wss,
    url,
    port,
    nextConnection: () => accepted.next(10_000),
    stop: () => within(stopServer(wss), 10_000, 'stopping the fullduplex server'),
  };
}

/** Dials `url` offering ['a', 'b'] (and permessage-deflate with `deflate`) and resolves once open. */
export async function dialOurs(url: string, options: { deflate?: boolean } = {}): Promise<{ endpoint: Endpoint; socket: WebSocket }> {
  const socket = new WebSocket(url, OFFERED_PROTOCOLS, {
    handshakeTimeout: 10_000,
    closeTimeoutMs: 2000,
    perMessageDeflate: options.deflate ? { threshold: 0 } : false,
  });
  const endpoint = emitterEndpoint(socket, 'fullduplex client');
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    }),
    10_000,
    `fullduplex client opening ${url}`,
  );
  return { endpoint, socket };
}

/** Drops a socket a test left open and waits (bounded) for its close event. */
export async function dropIfOpen(endpoint: Endpoint, socket: { readyState: number; terminate(): void }): Promise<void> {
  if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
  await within(endpoint.closed, 5000, 'dropping a socket').catch(() => undefined);
}
