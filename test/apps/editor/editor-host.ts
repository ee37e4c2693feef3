/**
 * The editor demo mounted on a plain node:http server at /editor/, as the home server mounts
 * it, on 127.0.0.1 and a free port; and the stock y-websocket client joining a document of it.
 * Every wait is bounded by WAIT_MS (a bound, not a measurement).
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocket as WsWebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { createEditor, type EditorDemo, type EditorOptions } from '../../../apps/editor/server.js';

export const WAIT_MS = 10_000;

export interface EditorHost {
  /** The page: http://127.0.0.1:PORT/editor/ */
  pageUrl: string;
  /** The y-websocket server URL (a document's socket is `${wsUrl}/${name}`). */
  wsUrl: string;
  port: number;
  demo: EditorDemo;
  dataDir: string;
  /** Closes the demo (it saves) and the HTTP server; the data folder stays. */
  close(): Promise<void>;
}

export interface HostOptions extends EditorOptions {
  /** Folder for the documents' files; a fresh temporary one by default. */
  dataDir?: string;
  redisUrl?: string;
  port?: number;
  log?: (line: string) => void;
}

export async function hostEditor(options: HostOptions = {}): Promise<EditorHost> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'fdx-editor-')));
  const demo = await createEditor(
    { basePath: '/editor/', dataDir, redisUrl: options.redisUrl, log: options.log ?? (() => {}) },
    options,
  );
  const server = http.createServer((req, res) => {
    demo.handleRequest(req, res).then(
      (handled) => handled || res.writeHead(404).end(),
      () => res.writeHead(500).end(),
    );
  });
  server.on('upgrade', (req, socket, head) => {
    if (!demo.handleUpgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    pageUrl: `http://127.0.0.1:${port}/editor/`,
    wsUrl: `ws://127.0.0.1:${port}/editor/ws`,
    port,
    demo,
    dataDir,
    async close() {
      await demo.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Resolves when `check()` holds, polled every 20 ms; rejects after WAIT_MS naming `what`. */
export async function waitUntil(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A document edited through the stock y-websocket client (with `ws` as its WebSocket, as its README says). */
export class NodeEditor {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  readonly text = this.doc.getText('codemirror');

  constructor(wsUrl: string, name: string, user?: string) {
    this.provider = new WebsocketProvider(wsUrl, name, this.doc, { WebSocketPolyfill: WsWebSocket as never, disableBc: true });
    if (user) this.provider.awareness.setLocalStateField('user', { name: user, color: '#1971c2' });
  }

  synced(): Promise<void> {
    return waitUntil(() => this.provider.synced, 'the y-websocket client synced');
  }

  /** Waits until the text is `expected` (or passes `expected` as a predicate). */
  async waitForText(expected: string | ((text: string) => boolean)): Promise<string> {
    const check = typeof expected === 'string' ? (text: string) => text === expected : expected;
    await waitUntil(() => check(this.text.toString()), `the text reads ${typeof expected === 'string' ? JSON.stringify(expected) : 'as expected'} (it reads ${JSON.stringify(this.text.toString())})`);
    return this.text.toString();
  }

  /** The names other clients announce through awareness. */
  peers(): string[] {
    const names: string[] = [];
    for (const [id, state] of this.provider.awareness.getStates()) if (id !== this.doc.clientID && state.user) names.push(String(state.user.name));
    return names.sort();
  }

  destroy(): void {
    this.provider.destroy();
    this.doc.destroy();
  }
}
