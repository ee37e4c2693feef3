// The floor: node:net and nothing else. It answers the upgrade without checking the request
// (beyond finding Sec-WebSocket-Key, whose SHA-1 every server must compute), then turns each
// masked client frame into an unmasked server frame with the same opcode: unmask, prepend a
// header, write. No UTF-8 check, no limits, no fragmentation support, no extensions. No
// WebSocket server on Node can do less work per message than this.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { serve } from './control.mjs';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY_PATTERN = /\r\nsec-websocket-key:[ \t]*([^\r\n]+)/i;

function upgradeResponse(head) {
  const key = KEY_PATTERN.exec(head)?.[1]?.trim() ?? '';
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}

/** XORs buf[start, end) in place with the 4-byte mask, a 32-bit word at a time where aligned. */
function unmask(buf, start, end, mask) {
  let i = start;
  let k = 0;
  while (i < end && ((buf.byteOffset + i) & 3) !== 0) {
    buf[i] ^= mask[k & 3];
    i += 1;
    k += 1;
  }
  const words = (end - i) >>> 2;
  if (words > 0) {
    const r = k & 3;
    const word = (mask[r] | (mask[(r + 1) & 3] << 8) | (mask[(r + 2) & 3] << 16) | (mask[(r + 3) & 3] << 24)) >>> 0;
    const view = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    for (let w = 0; w < words; w += 1) view[w] ^= word;
    i += words * 4;
    k += words * 4;
  }
  while (i < end) {
    buf[i] ^= mask[k & 3];
    i += 1;
    k += 1;
  }
}

/** An unmasked server frame holding src[start, start + length) unmasked. */
function serverFrame(b0, src, start, length, mask) {
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(header + length);
  out[0] = b0;
  if (header === 2) out[1] = length;
  else if (header === 4) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    out.writeUInt32BE(length >>> 0, 6);
  }
  src.copy(out, header, start, start + length);
  unmask(out, header, header + length, mask);
  return out;
}

serve(({ port, host, mode }) => {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    let pending = null;
    let open = false;
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk) => {
      let buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
      pending = null;
      let i = 0;
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) {
          pending = buf;
          return;
        }
        socket.write(upgradeResponse(buf.toString('latin1', 0, end)));
        open = true;
        sockets.add(socket);
        i = end + 4;
      }
      const out = [];
      while (buf.length - i >= 2) {
        const b0 = buf[i];
        let length = buf[i + 1] & 0x7f;
        let header = 2;
        if (length === 126) {
          if (buf.length - i < 4) break;
          length = buf.readUInt16BE(i + 2);
          header = 4;
        } else if (length === 127) {
          if (buf.length - i < 10) break;
          length = buf.readUInt32BE(i + 2) * 2 ** 32 + buf.readUInt32BE(i + 6);
          header = 10;
        }
        header += 4;
        if (buf.length - i < header + length) break;
        const mask = buf.subarray(i + header - 4, i + header);
        const opcode = b0 & 0x0f;
        if (opcode === 8) {
          socket.end(Buffer.from([0x88, 0]));
          return;
        }
        if (opcode === 9) out.push(serverFrame(0x8a, buf, i + header, length, mask));
        else if (opcode !== 10) out.push(serverFrame(b0, buf, i + header, length, mask));
        i += header + length;
      }
      if (i < buf.length) pending = buf.subarray(i);
      if (out.length === 0) return;
      if (mode === 'fanout') {
        for (const frame of out) for (const s of sockets) s.write(frame);
      } else if (out.length === 1) {
        socket.write(out[0]);
      } else {
        socket.cork();
        for (const frame of out) socket.write(frame);
        socket.uncork();
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, 511, () => resolve({ port: server.address().port, connections: () => sockets.size }));
  });
});
