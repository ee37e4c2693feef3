// Server instructions per connection (accept, opening handshake, close), counted by valgrind's
// callgrind: deterministic, so it works on a loaded machine. The server of servers/ runs under
// callgrind twice, once accepting N1 connections and once N2; this process is the client (raw
// node:net, P connections at a time, each: connect, a plain upgrade request in one write, the
// 101 answer awaited, then a FIN, and its close awaited). (I2 - I1) / (N2 - N1) is what one
// connection costs the server, with startup and shutdown subtracted.
//
//   node bench/callgrind-connection.mjs [--server fullduplex|ws|raw|handle-floor] [--n1 500]
//        [--n2 2500] [--parallel 10]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, startServer } from './lib/callgrind.mjs';
import { freePort } from './lib/processes.mjs';

const o = parseFlags(process.argv.slice(2), { server: 'fullduplex', n1: 500, n2: 2500, parallel: 10 });

/** One connection's life as the client sees it: resolves once the server's socket closed. */
function handshakeOnce(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (text) => {
      if (head.includes('\r\n\r\n')) return;
      head += text;
      if (!head.includes('\r\n\r\n')) return;
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(head));
      socket.end();
    });
    socket.on('error', reject);
    socket.on('close', resolve);
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

async function connectMany(port, total) {
  let next = 0;
  const lane = async () => {
    while (next < total) {
      next += 1;
      await handshakeOnce(port);
    }
  };
  await Promise.all(Array.from({ length: o.parallel }, lane));
  return total;
}

async function run(total, outFile) {
  const port = await freePort();
  const script = fileURLToPath(new URL(`servers/${o.server}.mjs`, import.meta.url));
  const { child, exited } = await startServer([script, '--port', String(port)], outFile);
  const done = await connectMany(port, total);
  await new Promise((resolve) => setTimeout(resolve, 500));
  child.stdin.end();
  await exited;
  const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(outFile, 'latin1'));
  if (!totals) throw new Error(`no totals in ${outFile}`);
  return { done, instructions: Number(totals[1]) };
}

const dir = mkdtempSync(join(tmpdir(), 'callgrind-connection-'));
const a = await run(o.n1, join(dir, 'n1.out'));
const b = await run(o.n2, join(dir, 'n2.out'));
const per = (b.instructions - a.instructions) / (b.done - a.done);
console.log(`${o.server}: ${a.done} connections ${a.instructions} Ir, ${b.done} connections ${b.instructions} Ir -> ${Math.round(per)} Ir/connection`);
rmSync(dir, { recursive: true });
