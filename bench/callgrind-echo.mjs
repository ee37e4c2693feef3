// Server instructions per echoed message, counted by valgrind's callgrind (deterministic, so it
// works on a loaded machine where wall-clock numbers do not). The server of servers/ runs under
// callgrind twice, once echoing N1 messages and once N2; this process is the client (raw
// node:net, masked frames of --size bytes (32 by default, up to 65535) encoded once, C
// connections with F messages in flight each,
// one write per read, as the load generator does). (I2 - I1) / (N2 - N1) is what one message
// costs, with startup, handshakes and shutdown subtracted.
//
//   node bench/callgrind-echo.mjs [--server fullduplex] [--mode echo|echo-topic] [--binary]
//        [--connections 100] [--in-flight 16] [--size 32] [--n1 20000] [--n2 60000]
//        [--keep DIR] [--node-arg --perf-basic-prof]... [--plain]
//
// With --keep DIR the callgrind files stay in DIR (callgrind_annotate DIR/n2.out); with
// --node-arg --perf-basic-prof, /tmp/perf-<pid>.map names the JIT frames for it. --plain runs
// the server without valgrind (no counts: for --node-arg --cpu-prof and the like).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, startServer } from './lib/callgrind.mjs';
import { freePort } from './lib/processes.mjs';

function parse(argv) {
  const o = parseFlags(argv, { server: 'fullduplex', mode: 'echo', binary: false, connections: 100, inFlight: 16, size: 32, n1: 20000, n2: 60000, keep: '', nodeArg: [], plain: false });
  if (!(o.size >= 0 && o.size <= 0xffff)) throw new Error('--size: 0 to 65535 bytes (a 16-bit length at most)');
  return o;
}

/** The size of a masked frame header for a payload of `size` bytes (at most 65535). */
function headerSize(size) {
  return size > 125 ? 8 : 6;
}

/** One masked frame of `size` bytes ('x' text or random binary), repeated `count` times. */
function frames(size, binary, count) {
  const payload = binary ? randomBytes(size) : Buffer.alloc(size, 'x');
  const key = randomBytes(4);
  const head = headerSize(size);
  const one = Buffer.alloc(head + size);
  one[0] = binary ? 0x82 : 0x81;
  if (size > 125) {
    one[1] = 0x80 | 126;
    one.writeUInt16BE(size, 2);
  } else {
    one[1] = 0x80 | size;
  }
  key.copy(one, head - 4);
  for (let i = 0; i < size; i++) one[head + i] = payload[i] ^ key[i & 3];
  return Buffer.concat(Array.from({ length: count }, () => one));
}

/** A masked pong frame carrying `payload` (a zero key: masked bytes equal the payload). */
function pong(payload) {
  return Buffer.concat([Buffer.from([0x8a, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

function upgrade(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      if (!head.subarray(0, 12).toString().includes('101')) return reject(new Error(head.toString()));
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

/** Echoes `total` messages over the connections; resolves when every echo came back. */
async function drive(port, o, total) {
  const batch = frames(o.size, o.binary, o.inFlight);
  const frameSize = headerSize(o.size) + o.size;
  const perConnection = Math.ceil(total / o.connections);
  // Each connection echoes from its upgrade on (one left idle while the others open could miss
  // the server's heartbeat on a slow run).
  const sockets = [];
  const runs = [];
  for (let i = 0; i < o.connections; i++) {
    const { socket, rest } = await upgrade(port);
    sockets.push({ socket });
    runs.push(
      new Promise((resolve, reject) => {
        let sent = 0;
        let received = 0;
        // Frames from the server are unmasked (the byte echo's are our own, masked), with 16-bit
        // lengths at most: echoes are counted,
        // pings (the server's heartbeat, when a run is slow) answered, so no connection is
        // dropped while the others are still being opened.
        let carry = rest;
        const send = (n) => {
          const k = Math.min(n, perConnection - sent);
          if (k <= 0) return;
          sent += k;
          socket.write(batch.subarray(0, k * frameSize));
        };
        const onBytes = (chunk) => {
          const bytes = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
          let at = 0;
          let done = 0;
          for (;;) {
            const left = bytes.length - at;
            if (left < 2) break;
            const length7 = bytes[at + 1] & 0x7f;
            const head = (length7 === 126 ? 4 : 2) + (bytes[at + 1] & 0x80 ? 4 : 0);
            if (left < head) break;
            const length = length7 === 126 ? bytes.readUInt16BE(at + 2) : length7;
            if (left < head + length) break;
            const opcode = bytes[at] & 0x0f;
            if (opcode === 0x9) socket.write(pong(bytes.subarray(at + head, at + head + length)));
            else if (opcode === 0x1 || opcode === 0x2) done++;
            at += head + length;
          }
          carry = bytes.subarray(at);
          received += done;
          if (received >= perConnection) return resolve();
          send(done);
        };
        socket.on('data', onBytes);
        socket.once('error', reject);
        send(o.inFlight);
      }),
    );
  }
  await Promise.all(runs);
  for (const { socket } of sockets) socket.destroy();
  return perConnection * o.connections;
}

async function measure(o, total, outFile) {
  const port = await freePort();
  const script = fileURLToPath(new URL(`servers/${o.server}.mjs`, import.meta.url));
  const serverArgs = [...o.nodeArg, script, '--port', String(port), '--mode', o.mode];
  const { child, exited } = await startServer(serverArgs, outFile, o.plain);
  const echoed = await drive(port, o, total);
  await new Promise((resolve) => setTimeout(resolve, 500));
  child.stdin.end();
  await exited;
  if (o.plain) return { echoed, instructions: 0 };
  const text = readFileSync(outFile, 'latin1');
  const match = /^(?:summary|totals): (\d+)/m.exec(text);
  if (!match) throw new Error(`no totals in ${outFile}`);
  return { echoed, instructions: Number(match[1]) };
}

const o = parse(process.argv.slice(2));
const dir = o.keep || mkdtempSync(join(tmpdir(), 'callgrind-echo-'));
mkdirSync(dir, { recursive: true });
const a = await measure(o, o.n1, join(dir, 'n1.out'));
const b = await measure(o, o.n2, join(dir, 'n2.out'));
const perMessage = (b.instructions - a.instructions) / (b.echoed - a.echoed);
console.log(
  `${o.server} ${o.mode} ${o.binary ? 'binary' : 'text'} ${o.size} B, ${o.connections} x ${o.inFlight} in flight: ` +
    `${a.echoed} msgs ${a.instructions} Ir, ${b.echoed} msgs ${b.instructions} Ir -> ${Math.round(perMessage)} Ir/message`,
);
if (!o.keep) rmSync(dir, { recursive: true });
