/**
 * Loopback servers for tests: start on an ephemeral port, always closed in `after`.
 */
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { WebSocketServer, type ServerOptions } from '../../src/index.js';

export async function startServer(options: Omit<ServerOptions, 'port'> = {}): Promise<{ wss: WebSocketServer; url: string; port: number }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const port = (wss.address() as AddressInfo).port;
  return { wss, url: `ws://127.0.0.1:${port}`, port };
}

export function stopServer(wss: WebSocketServer): Promise<void> {
  return new Promise((resolve) => wss.close(() => resolve()));
}

/** An echo server: text back as text, binary as binary. */
export async function startEchoServer(options: Omit<ServerOptions, 'port'> = {}) {
  const started = await startServer(options);
  started.wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  });
  return started;
}

/** A raw TCP connection that performs a valid client handshake and returns the socket plus any bytes after the 101. */
export async function rawHandshake(port: number, extraHeaders = ''): Promise<{ socket: net.Socket; rest: Buffer; head: string }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
      extraHeaders +
      '\r\n',
  );
  return new Promise((resolve, reject) => {
    readHead(socket, (head, rest) => resolve({ socket, head, rest }));
    socket.once('error', reject);
  });
}

/**
 * Reads an HTTP head (up to the blank line) from `socket`, then pauses it and hands over the head
 * as text and the bytes that came after it.
 */
export function readHead(socket: net.Socket, onHead: (head: string, rest: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end === -1) return;
    socket.removeListener('data', onData);
    socket.pause();
    onHead(buffered.subarray(0, end).toString('latin1'), buffered.subarray(end + 4));
  };
  socket.on('data', onData);
}

/** Collects everything a raw socket receives until it closes. */
export function readUntilClose(socket: net.Socket, initial: Buffer = Buffer.alloc(0), timeoutMs = 5000): Promise<{ bytes: Buffer; closed: boolean }> {
  const chunks: Buffer[] = [initial];
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), closed: false });
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), closed: true });
    });
    socket.resume();
  });
}

/**
 * A bare HTTP server whose upgrade requests `onUpgrade` answers by hand (to play a broken or
 * unusual WebSocket server). `close()` destroys every socket it saw, upgraded ones included.
 */
export async function startRawUpgradeServer(
  onUpgrade: (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex) => void,
  onRequest?: import('node:http').RequestListener,
): Promise<{ port: number; url: string; close: () => Promise<void> }> {
  const http = await import('node:http');
  const server = http.createServer(onRequest);
  const sockets = new Set<import('node:stream').Duplex>();
  server.on('connection', (s) => sockets.add(s));
  server.on('upgrade', (req, socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onUpgrade(req, socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The head lines of a valid opening handshake (RFC 6455 §1.3's sample key), after the request line. */
export const GOOD_HEAD =
  'Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

/** Sends a raw HTTP request and resolves with the full answer once the server closes. */
export async function rawRequest(port: number, request: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(request);
  const { bytes } = await readUntilClose(socket);
  return bytes.toString('latin1');
}
