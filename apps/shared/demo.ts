/**
 * The contract between the home server (apps/server.ts) and each demo (apps/<name>/server.ts).
 * A demo is mounted under its own path (`/chat/`, `/dashboard/`, ...) of one HTTP server: the
 * home server hands it every request and upgrade whose path starts with its base path, and the
 * demo answers them with the public API of fullduplex only.
 * Must not: know about the other demos, or listen on a port of its own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface DemoContext {
  /** The path the demo is mounted at, with both slashes: '/chat/'. */
  basePath: string;
  /** With a URL, the demo shares its state with the other processes on this Redis. */
  redisUrl?: string;
  /** A folder the demo may keep files in (created by the home server). */
  dataDir: string;
  /** One line for the operator's terminal. */
  log(line: string): void;
}

export interface Demo {
  /** The path segment, also the folder name: 'chat'. */
  name: string;
  /** The title on the home page. */
  title: string;
  /** The one-paragraph "what you are seeing" of the home page (plain text). */
  summary: string;
  /** Answers a request under basePath; resolves false when the path is not the demo's. */
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Takes an upgrade under basePath; returns false when the path is not the demo's. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Closes the demo's connections (1001) and stores what must survive a restart. */
  close(): Promise<void>;
}

export type CreateDemo = (context: DemoContext) => Promise<Demo>;
