// The floor: node:net and nothing else. It answers the upgrade as raw-upgrade.mjs does, then turns each
// masked client frame into an unmasked server frame with the same opcode as the bytes stream
// through: unmask in place, write a header, write the received bytes (all of one read in one
// writev), copying only small frames and header bytes split across reads. No UTF-8 check, no
// limits, no fragmentation rules, no extensions. Unmasking is bufferutil's native loop where it
// is installed (bench/ has it beside ws), else plain JavaScript, 32 bits at a time: that loop costs
// several times a memory copy, which at 16 KiB made the floor slower than the servers it bounds.
// Every open socket is in one Set (the fan-out loop), so echo-topic is the same as echo here.
import { createRequire } from 'node:module';
import { serve } from './control.mjs';
import { listenRaw } from './raw-upgrade.mjs';

const SMALL = 1024;

/** bufferutil's native unmask(buffer, mask), or null where it is not installed. */
const nativeUnmask = (() => {
  try {
    return createRequire(import.meta.url)('bufferutil').unmask;
  } catch {
    return null;
  }
})();
/** Natively from this length; below it the JavaScript loop costs less than the call. */
const NATIVE_FROM = 256;
const rotated = Buffer.alloc(4);

/** XORs buf[start, end) in place with the mask, starting at mask byte `phase`. */
function unmask(buf, start, end, mask, phase) {
  if (nativeUnmask !== null && end - start >= NATIVE_FROM) {
    for (let j = 0; j < 4; j += 1) rotated[j] = mask[(phase + j) & 3];
    nativeUnmask(buf.subarray(start, end), rotated);
    return;
  }
  let i = start;
  let k = phase;
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

/** A server frame header for `length` payload bytes, with room for `extra` bytes after it. */
function serverHeader(b0, length, extra) {
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(header + extra);
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
  return out;
}

/** A client frame header at buf[at]: { b0, length, size } or null when incomplete. */
function readHeader(buf, at) {
  const available = buf.length - at;
  if (available < 2) return null;
  let length = buf[at + 1] & 0x7f;
  let size = 2;
  if (length === 126) {
    if (available < 4) return null;
    length = buf.readUInt16BE(at + 2);
    size = 4;
  } else if (length === 127) {
    if (available < 10) return null;
    length = buf.readUInt32BE(at + 2) * 2 ** 32 + buf.readUInt32BE(at + 6);
    size = 10;
  }
  size += 4;
  return available < size ? null : { b0: buf[at], length, size };
}

/** One connection's frame stream: payload bytes pass through, unmasked in place. */
class Turnaround {
  #partialHeader = null;
  #remaining = 0;
  #mask = Buffer.alloc(4);
  #phase = 0;
  #keep = false;
  closed = false;

  /** Turns a chunk into output buffers (server frames and pieces of them), in order. */
  push(chunk, out) {
    let i = 0;
    while (i < chunk.length && !this.closed) {
      if (this.#remaining > 0) {
        const n = Math.min(this.#remaining, chunk.length - i);
        if (this.#keep) {
          unmask(chunk, i, i + n, this.#mask, this.#phase);
          out.push(chunk.subarray(i, i + n));
        }
        this.#phase = (this.#phase + n) & 3;
        this.#remaining -= n;
        i += n;
        continue;
      }
      let buf = chunk;
      let at = i;
      const carried = this.#partialHeader?.length ?? 0;
      if (carried > 0) {
        buf = Buffer.concat([this.#partialHeader, chunk.subarray(i, i + 14)]);
        at = 0;
      }
      const header = readHeader(buf, at);
      if (header === null) {
        this.#partialHeader = Buffer.from(buf.subarray(at));
        return;
      }
      this.#partialHeader = null;
      i += header.size - carried;
      buf.copy(this.#mask, 0, at + header.size - 4, at + header.size);
      const opcode = header.b0 & 0x0f;
      if (opcode === 8) {
        this.closed = true;
        return;
      }
      const b0 = opcode === 9 ? 0x8a : header.b0;
      this.#keep = opcode !== 10;
      this.#phase = 0;
      if (!this.#keep) {
        this.#remaining = header.length;
        continue;
      }
      if (header.length < SMALL && chunk.length - i >= header.length) {
        // Small and whole: one buffer for header and payload.
        unmask(chunk, i, i + header.length, this.#mask, 0);
        const frame = serverHeader(b0, header.length, header.length);
        chunk.copy(frame, frame.length - header.length, i, i + header.length);
        out.push(frame);
        i += header.length;
        continue;
      }
      out.push(serverHeader(b0, header.length, 0));
      this.#remaining = header.length;
    }
  }
}

serve(({ port, host, mode }) =>
  listenRaw(port, host, (socket, rest, sockets) => {
    const frames = new Turnaround();
    const onData = (chunk) => {
      const out = [];
      frames.push(chunk, out);
      if (frames.closed) {
        socket.end(Buffer.from([0x88, 0]));
        return;
      }
      if (out.length === 0) return;
      if (mode === 'fanout') {
        // Messages here are small and whole; publish each read's frames as one buffer.
        const bytes = out.length === 1 ? out[0] : Buffer.concat(out);
        for (const s of sockets) s.write(bytes);
      } else if (out.length === 1) {
        socket.write(out[0]);
      } else {
        socket.cork();
        for (const piece of out) socket.write(piece);
        socket.uncork();
      }
    };
    socket.on('data', onData);
    if (rest.length > 0) onData(rest);
  }),
);
