/**
 * The server side of `ws`'s documented API, as typed by `@types/ws`: constructor forms, every
 * option, every event with its arguments, every method and property (type-checked only).
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer, type ServerOptions, type VerifyClientCallbackAsync, type VerifyClientCallbackSync } from 'ws';

export function options(): WebSocketServer[] {
  const sync: VerifyClientCallbackSync = (info) => info.origin === 'https://example.org' && !info.secure && info.req.url !== undefined;
  const async: VerifyClientCallbackAsync = (info, done) => done(info.req.headers.authorization !== undefined, 401, 'Unauthorized', { 'X-Reason': 'token' });
  const all: ServerOptions = {
    host: '127.0.0.1',
    port: 0,
    backlog: 511,
    path: '/ws',
    verifyClient: sync,
    handleProtocols: (protocols: Set<string>, request: http.IncomingMessage) => (protocols.has('chat') && request.url ? 'chat' : false),
    allowSynchronousEvents: false,
    autoPong: true,
    clientTracking: true,
    perMessageDeflate: { threshold: 0, serverNoContextTakeover: true },
    maxPayload: 1024,
    skipUTF8Validation: false,
    WebSocket,
  };
  return [
    new WebSocketServer(all, () => console.log('listening')),
    new WebSocketServer({ server: http.createServer(), verifyClient: async }),
    new WebSocketServer({ server: https.createServer() }),
    new WebSocketServer({ noServer: true }),
  ];
}

export function events(wss: WebSocketServer): void {
  wss.on('connection', (ws: WebSocket, request: http.IncomingMessage) => {
    ws.send(request.url ?? '');
  });
  wss.on('error', (error: Error) => console.error(error.message));
  wss.on('headers', (headers: string[], request: http.IncomingMessage) => headers.push(`X-Url: ${request.url}`));
  wss.on('listening', () => console.log(wss.address()));
  wss.on('close', () => console.log('closed'));
  wss.on('wsClientError', (error: Error, socket: Duplex, request: http.IncomingMessage) => {
    socket.end(`HTTP/1.1 400 Bad Request\r\n\r\n${error.message} ${request.method}`);
  });
  wss.once('connection', (ws) => ws.close());
  wss.off('close', () => undefined);
  wss.addListener('connection', (ws) => ws.terminate());
  wss.removeListener('connection', (ws) => ws.terminate());
}

export function methods(wss: WebSocketServer, request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  const address = wss.address();
  if (address !== null && typeof address !== 'string') console.log(address.port, address.address, address.family);
  wss.close();
  wss.close((error?: Error) => console.log(error?.message));
  const handled: boolean | Promise<boolean> = wss.shouldHandle(request);
  void handled;
  wss.handleUpgrade(request, socket, head, (ws: WebSocket, req: http.IncomingMessage) => {
    wss.emit('connection', ws, req);
  });
  const clients: Set<WebSocket> = wss.clients;
  clients.forEach((client) => client.readyState === WebSocket.OPEN && client.send('hi'));
  const opts: ServerOptions = wss.options;
  console.log(opts.port);
}

export function customClass(): void {
  class Tagged extends WebSocket {
    tag = 'mine';
  }
  const wss = new WebSocketServer<typeof Tagged>({ noServer: true, WebSocket: Tagged });
  wss.on('connection', (ws) => console.log(ws.tag));
}
