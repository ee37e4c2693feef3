/**
 * y-websocket, a library built on `ws`, runs on fullduplex unchanged: its server utility
 * (setupWSConnection) on our WebSocketServer, its client provider with our WebSocket as
 * `WebSocketPolyfill`; two documents stay in sync through the server, crossed with `ws`.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type http from 'node:http';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { WebSocket as WsWebSocket, WebSocketServer as WsServer } from 'ws';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { startServer, stopServer } from '../support/servers.js';
import { within } from './inbox.js';

const { setupWSConnection, docs } = createRequire(import.meta.url)('y-websocket/bin/utils') as {
  setupWSConnection(conn: unknown, req: http.IncomingMessage, options?: { docName?: string; gc?: boolean }): void;
  /** The server's documents; each keeps an awareness timer running until it is destroyed. */
  docs: Map<string, { destroy(): void }>;
};

type Polyfill = ConstructorParameters<typeof WebsocketProvider>[3] extends infer O ? O extends { WebSocketPolyfill?: infer P } ? P : never : never;

function synced(provider: WebsocketProvider): Promise<void> {
  return new Promise((resolve) => {
    if (provider.synced) return resolve();
    provider.once('sync', (isSynced: boolean) => isSynced && resolve());
  });
}

async function twoEditors(url: string, room: string, polyfill: unknown): Promise<void> {
  const docA = new Y.Doc();
  const docB = new Y.Doc();
  const a = new WebsocketProvider(url, room, docA, { WebSocketPolyfill: polyfill as Polyfill, disableBc: true });
  const b = new WebsocketProvider(url, room, docB, { WebSocketPolyfill: polyfill as Polyfill, disableBc: true });
  try {
    await within(Promise.all([synced(a), synced(b)]), 5000, 'both providers synced');
    const textB = docB.getText('t');
    const arrived = new Promise<void>((resolve) => textB.observe(() => textB.toString() === 'héllo ✓' && resolve()));
    docA.getText('t').insert(0, 'héllo ✓');
    await within(arrived, 5000, 'the edit reached the other document');
    const textA = docA.getText('t');
    const back = new Promise<void>((resolve) => textA.observe(() => textA.toString().endsWith('!') && resolve()));
    textB.insert(textB.length, '!');
    await within(back, 5000, 'the reply edit came back');
    assert.equal(textA.toString(), 'héllo ✓!');
  } finally {
    a.destroy();
    b.destroy();
    // A document's awareness runs a timer until the document is destroyed.
    docA.destroy();
    docB.destroy();
  }
}

describe('y-websocket on fullduplex', () => {
  const servers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const stop of servers) await stop();
    for (const doc of docs.values()) doc.destroy();
    docs.clear();
  });

  async function serve(ours: boolean): Promise<string> {
    if (ours) {
      const { wss, url } = await startServer();
      wss.on('connection', (ws, req) => setupWSConnection(ws, req, { docName: (req.url ?? '/').slice(1) }));
      servers.push(() => stopServer(wss));
      return url;
    }
    const wss = new WsServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (ws, req) => setupWSConnection(ws, req, { docName: (req.url ?? '/').slice(1) }));
    servers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const c of wss.clients) c.terminate();
          wss.close(() => resolve());
        }),
    );
    return `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
  }

  it("keeps two documents in sync through y-websocket's server on our WebSocketServer, with our client", async () => {
    await twoEditors(await serve(true), 'room-1', WebSocket);
  });

  it("keeps two documents in sync through our WebSocketServer with ws's client", async () => {
    await twoEditors(await serve(true), 'room-2', WsWebSocket);
  });

  it("keeps two documents in sync through ws's server with our client", async () => {
    await twoEditors(await serve(false), 'room-3', WebSocket);
  });
});
