// A floor below node:net, for the memory probe and handshake cost only (not a run.mjs server):
// each connection is kept as the bare libuv TCP handle that Node's net.Server accepts, with no
// net.Socket, no stream state and no listeners; reads come through the handle's `onread` and
// writes go to the handle with one write request each. It answers the upgrade as
// raw-upgrade.mjs does (SHA-1 of Sec-WebSocket-Key, nothing checked), answers pings with
// nothing, and echoes each read that holds one whole small masked frame as one unmasked frame
// (what bench/memory-probe.mjs sends); it does not frame anything larger. It reaches Node's
// internal bindings (`process.binding`), which is why it stays a measuring floor: it shows what
// a connection costs a Node process beneath net.Socket.
//   node bench/memory-probe.mjs --server handle-floor
import { createHash } from 'node:crypto';
import net from 'node:net';
import { serve } from './control.mjs';

const { WriteWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset } = process.binding('stream_wrap');
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY_PATTERN = /\r\nsec-websocket-key:[ \t]*([^\r\n]+)/i;
const HEAD_END = '\r\n\r\n';
const upgraded = new Set();

function noop() {}

function write(handle, bytes) {
  const request = new WriteWrap();
  request.handle = handle;
  request.oncomplete = noop;
  request.async = false;
  handle.writeBuffer(request, bytes);
}

function answerUpgrade(handle, head) {
  const key = KEY_PATTERN.exec(head)?.[1]?.trim() ?? '';
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  write(handle, Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`, 'latin1'));
  upgraded.add(handle);
}

/** One small masked frame whole in `bytes`, sent back unmasked; anything else is dropped. */
function echo(handle, bytes) {
  const length = bytes[1] & 0x7f;
  const opcode = bytes[0] & 0x0f;
  if (opcode >= 8 || length > 125 || bytes.length !== 6 + length) return;
  const out = Buffer.allocUnsafe(2 + length);
  out[0] = bytes[0];
  out[1] = length;
  for (let i = 0; i < length; i += 1) out[2 + i] = bytes[6 + i] ^ bytes[2 + (i & 3)];
  write(handle, out);
}

/** The handle's read callback: `this` is the handle; the byte count is in Node's shared state. */
function onRead(arrayBuffer) {
  const count = streamBaseState[kReadBytesOrError];
  if (count < 0) {
    upgraded.delete(this);
    this.close();
    return;
  }
  const bytes = Buffer.from(arrayBuffer, streamBaseState[kArrayBufferOffset], count);
  if (upgraded.has(this)) echo(this, bytes);
  else if (bytes.includes(HEAD_END)) answerUpgrade(this, bytes.toString('latin1'));
}

serve(
  ({ port, host }) =>
    new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(port, host, 511, () => {
        server._handle.onconnection = (error, handle) => {
          if (error) return;
          handle.setNoDelay(true);
          handle.onread = onRead;
          handle.readStart();
        };
        resolve({ port: server.address().port, connections: () => upgraded.size });
      });
    }),
);
