/**
 * The two doors of a demo built on one WebSocketServer: its public files for requests under its
 * base path, and its WebSocket endpoint for upgrades to exactly one path (the query aside).
 * Must not: answer anything outside the base path (the home server routes those elsewhere).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'fullduplex';
import type { PublicFolder } from './public-folder.js';

const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?')[0]!;

/** Demo.handleRequest for a demo whose plain requests are all for its public files. */
export function servePublicFiles(files: PublicFolder, basePath: string): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const path = pathOf(req);
    return path.startsWith(basePath) && files.serve(req, res, path.slice(basePath.length));
  };
}

/** Demo.handleUpgrade taking upgrades to `path` into `wss` (a noServer WebSocketServer). */
export function upgradeAt(wss: WebSocketServer, path: string): (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean {
  return (req, socket, head) => {
    if (pathOf(req) !== path) return false;
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    return true;
  };
}
