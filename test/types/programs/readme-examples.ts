/**
 * Every example of `ws`'s README, written as a TypeScript user would write it (never run: this
 * file is only type-checked, against `@types/ws` and against fullduplex's declarations).
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer, createWebSocketStream } from 'ws';

export function compressionServer(): WebSocketServer {
  return new WebSocketServer({
    port: 8080,
    perMessageDeflate: {
      zlibDeflateOptions: { chunkSize: 1024, memLevel: 7, level: 3 },
      zlibInflateOptions: { chunkSize: 10 * 1024 },
      clientNoContextTakeover: true,
      serverNoContextTakeover: true,
      serverMaxWindowBits: 10,
      concurrencyLimit: 10,
      threshold: 1024,
    },
  });
}

export function clientWithoutCompression(): WebSocket {
  return new WebSocket('ws://www.host.com/path', { perMessageDeflate: false });
}

export function sendingAndReceivingText(): void {
  const ws = new WebSocket('ws://www.host.com/path');
  ws.on('error', console.error);
  ws.on('open', function open() {
    ws.send('something');
  });
  ws.on('message', function message(data) {
    console.log('received: %s', data);
  });
}

export function sendingBinaryData(): void {
  const ws = new WebSocket('ws://www.host.com/path');
  ws.on('error', console.error);
  ws.on('open', function open() {
    const array = new Float32Array(5);
    for (let i = 0; i < array.length; ++i) array[i] = i / 2;
    ws.send(array);
  });
}

export function simpleServer(): void {
  const wss = new WebSocketServer({ port: 8080 });
  wss.on('connection', function connection(ws) {
    ws.on('error', console.error);
    ws.on('message', function message(data) {
      console.log('received: %s', data);
    });
    ws.send('something');
  });
}

export function externalHttpsServer(): void {
  const server = createHttpsServer({
    cert: readFileSync('/path/to/cert.pem'),
    key: readFileSync('/path/to/key.pem'),
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', function connection(ws) {
    ws.on('error', console.error);
    ws.on('message', function message(data) {
      console.log('received: %s', data);
    });
    ws.send('something');
  });
  server.listen(8080);
}

export function serversSharingOneHttpServer(): void {
  const server = createHttpServer();
  const wss1 = new WebSocketServer({ noServer: true });
  const wss2 = new WebSocketServer({ noServer: true });
  wss1.on('connection', function connection(ws) {
    ws.on('error', console.error);
  });
  wss2.on('connection', function connection(ws) {
    ws.on('error', console.error);
  });
  server.on('upgrade', function upgrade(request, socket, head) {
    const { pathname } = new URL(request.url ?? '/', 'wss://base.url');
    if (pathname === '/foo') {
      wss1.handleUpgrade(request, socket, head, function done(ws) {
        wss1.emit('connection', ws, request);
      });
    } else if (pathname === '/bar') {
      wss2.handleUpgrade(request, socket, head, function done(ws) {
        wss2.emit('connection', ws, request);
      });
    } else {
      socket.destroy();
    }
  });
  server.listen(8080);
}

declare function authenticate(request: IncomingMessage, next: (err: Error | null, client?: string) => void): void;

export function clientAuthentication(): void {
  function onSocketError(err: Error): void {
    console.error(err);
  }
  const server = createHttpServer();
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', function connection(ws: WebSocket, request: IncomingMessage, client: string) {
    ws.on('error', console.error);
    ws.on('message', function message(data) {
      console.log(`Received message ${data} from user ${client} at ${request.url}`);
    });
  });
  server.on('upgrade', function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', onSocketError);
    authenticate(request, function next(err, client) {
      if (err || !client) {
        socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
        socket.destroy();
        return;
      }
      socket.removeListener('error', onSocketError);
      wss.handleUpgrade(request, socket, head, function done(ws) {
        wss.emit('connection', ws, request, client);
      });
    });
  });
  server.listen(8080);
}

export function broadcastToAll(): void {
  const wss = new WebSocketServer({ port: 8080 });
  wss.on('connection', function connection(ws) {
    ws.on('error', console.error);
    ws.on('message', function message(data, isBinary) {
      wss.clients.forEach(function each(client) {
        if (client.readyState === WebSocket.OPEN) {
          client.send(data, { binary: isBinary });
        }
      });
    });
  });
}

export function broadcastToOthers(): void {
  const wss = new WebSocketServer({ port: 8080 });
  wss.on('connection', function connection(ws) {
    ws.on('error', console.error);
    ws.on('message', function message(data, isBinary) {
      wss.clients.forEach(function each(client) {
        if (client !== ws && client.readyState === WebSocket.OPEN) {
          client.send(data, { binary: isBinary });
        }
      });
    });
  });
}

export function roundTripTime(): void {
  const ws = new WebSocket('wss://websocket-echo.com/');
  ws.on('error', console.error);
  ws.on('open', function open() {
    console.log('connected');
    ws.send(Date.now());
  });
  ws.on('close', function close() {
    console.log('disconnected');
  });
  ws.on('message', function message(data) {
    console.log(`Round-trip time: ${Date.now() - Number(data)} ms`);
    setTimeout(function timeout() {
      ws.send(Date.now());
    }, 500);
  });
}

export function streamsApi(): void {
  const ws = new WebSocket('wss://websocket-echo.com/');
  const duplex = createWebSocketStream(ws, { encoding: 'utf8' });
  duplex.on('error', console.error);
  duplex.pipe(process.stdout);
  process.stdin.pipe(duplex);
}

export function clientIpAddress(): void {
  const wss = new WebSocketServer({ port: 8080 });
  wss.on('connection', function connection(ws, req) {
    const ip = req.socket.remoteAddress;
    ws.on('error', console.error);
    console.log(ip);
  });
  wss.on('connection', function connection(ws, req) {
    const forwarded = req.headers['x-forwarded-for'];
    const ip = typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : undefined;
    ws.on('error', console.error);
    console.log(ip);
  });
}

interface AliveWebSocket extends WebSocket {
  isAlive: boolean;
}

export function detectBrokenConnectionsOnTheServer(): void {
  function heartbeat(this: WebSocket): void {
    (this as AliveWebSocket).isAlive = true;
  }
  const wss = new WebSocketServer({ port: 8080 });
  wss.on('connection', function connection(ws) {
    (ws as AliveWebSocket).isAlive = true;
    ws.on('error', console.error);
    ws.on('pong', heartbeat);
  });
  const interval = setInterval(function ping() {
    wss.clients.forEach(function each(ws) {
      if ((ws as AliveWebSocket).isAlive === false) return ws.terminate();
      (ws as AliveWebSocket).isAlive = false;
      ws.ping();
    });
  }, 30000);
  wss.on('close', function close() {
    clearInterval(interval);
  });
}

export function detectBrokenConnectionsOnTheClient(): void {
  const timers = new WeakMap<WebSocket, NodeJS.Timeout>();
  function heartbeat(this: WebSocket): void {
    clearTimeout(timers.get(this));
    timers.set(
      this,
      setTimeout(() => {
        this.terminate();
      }, 30000 + 1000),
    );
  }
  const client = new WebSocket('wss://websocket-echo.com/');
  client.on('error', console.error);
  client.on('open', heartbeat);
  client.on('ping', heartbeat);
  client.on('close', function clear() {
    clearTimeout(timers.get(this));
  });
}
