/**
 * A demo's fdx.v1 endpoint at one path (e.g. /chat/rt): a RealtimeServer mounted without a
 * server of its own, taking the upgrades the home server hands the demo for that path.
 * Must not: listen on a port, or take an upgrade for any other path.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'fullduplex';
import { mountRealtime, type RealtimeServer } from 'fullduplex/realtime';

export class RealtimeEndpoint {
  readonly path: string;
  readonly realtime: RealtimeServer<any, any, any>;
  readonly #wss: WebSocketServer;

  constructor(realtime: RealtimeServer<any, any, any>, path: string) {
    this.realtime = realtime;
    this.path = path;
    this.#wss = mountRealtime(realtime, { noServer: true, perMessageDeflate: true });
  }

  /** Takes the upgrade if it is for this endpoint's path (any query); false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if ((req.url ?? '').split('?')[0] !== this.path) return false;
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit('connection', ws, req));
    return true;
  }

  /** Closes every connection (1001) and the server. */
  async close(): Promise<void> {
    await this.realtime.close();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

/** The path of `req` below `basePath` ('' for the base itself), or null when it is not below it. */
export function pathBelow(req: IncomingMessage, basePath: string): string | null {
  const path = (req.url ?? '/').split('?')[0]!;
  return path.startsWith(basePath) ? path.slice(basePath.length) : null;
}
