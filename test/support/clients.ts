/**
 * Small helpers for tests that drive fullduplex clients against a server: open them, find their
 * server-side connections, collect what they receive, wait for their close, wait (bounded) for a
 * condition.
 */
import WebSocket, { type RawData, type WebSocketServer } from '../../src/index.js';

/** Opens `count` clients to `url` and resolves once all are open. */
export async function connect(url: string, count: number): Promise<WebSocket[]> {
  const clients = Array.from({ length: count }, () => new WebSocket(url));
  await Promise.all(
    clients.map(
      (c) =>
        new Promise((resolve, reject) => {
          c.once('open', resolve);
          c.once('error', reject);
        }),
    ),
  );
  return clients;
}

/** The server's side of the first `count` connections, once it has them. */
export async function serverSides(wss: WebSocketServer, count: number): Promise<WebSocket[]> {
  while (wss.clients.size < count) await new Promise((r) => setImmediate(r));
  return [...wss.clients];
}

/** Every message `ws` receives from now on, as text, in order. */
export function collect(ws: WebSocket): string[] {
  const out: string[] = [];
  ws.on('message', (d) => out.push(d.toString()));
  return out;
}

/** Resolves once `check()` holds; rejects naming `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Opens one client; rejects on a handshake error. */
export function openClient(url: string, protocols?: string | string[], options?: object): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols as string[], options);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** The code and reason of `ws`'s close event. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Resolves once `ws` is open; rejects on a handshake error. */
export function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

/** The next message `ws` receives. */
export function nextMessage(ws: WebSocket): Promise<{ data: RawData; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));
}
