// What the two node:net floors (raw.mjs, raw-bytes.mjs) share: a TCP server that answers the
// upgrade without checking the request (beyond finding Sec-WebSocket-Key, whose SHA-1 every
// server must compute) and then hands the socket to the floor, with the bytes read past the
// request head. Every upgraded socket is in one Set (the fan-out loop).
import { createHash } from 'node:crypto';
import net from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY_PATTERN = /\r\nsec-websocket-key:[ \t]*([^\r\n]+)/i;

function upgradeResponse(head) {
  const key = KEY_PATTERN.exec(head)?.[1]?.trim() ?? '';
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}

/**
 * Listens on host:port; `open(socket, rest, sockets)` runs once a socket is upgraded, adds its
 * own 'data' listener and handles `rest` (the bytes after the request head, perhaps none).
 * Resolves as control.mjs's serve() wants: { port, connections() }.
 */
export function listenRaw(port, host, open) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let head = null;
    socket.on('data', function upgrade(chunk) {
      head = head === null ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', upgrade);
      socket.write(upgradeResponse(head.toString('latin1', 0, end)));
      sockets.add(socket);
      open(socket, head.subarray(end + 4), sockets);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, 511, () => resolve({ port: server.address().port, connections: () => sockets.size }));
  });
}
