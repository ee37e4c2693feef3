// Memory per connection of one bench server process, step by step, for any of servers/*.mjs:
//   node bench/memory-probe.mjs [--server fullduplex] [--mode echo] [--connections 5000] [--wait-ms 0]
// Prints one JSON line: JS heap and RSS per connection (after the server's two GCs, over its own
// baseline) (a) idle after the opening handshakes, (b) after each connection echoed one 32-byte
// message, and with --wait-ms (c) after that long idle (32000 sees one 30 s heartbeat: the peer
// answers pings). Heap per connection is steady under load; RSS is not. The connections come from
// a child process (this file with --client) over node:net, from a fresh 127.x.y.1 address.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);

function lines(stream) {
  const queue = [];
  let waiting = null;
  createInterface({ input: stream }).on('line', (line) => (waiting ? (waiting(line), (waiting = null)) : queue.push(line)));
  return () => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift()) : (waiting = resolve)));
}

function maskedText(text) {
  const payload = Buffer.from(text);
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x81;
  frame[1] = 0x80 | payload.length;
  randomBytes(4).copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ frame[2 + (i & 3)];
  return frame;
}

const PONG = Buffer.from([0x8a, 0x80, 1, 2, 3, 4]);

/** The client side: "connect N", "echo" and "quit" on stdin, "done" on stdout. */
async function client(port, localAddress) {
  const sockets = [];
  const open = () =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress });
      socket.on('error', reject);
      const key = randomBytes(16).toString('base64');
      socket.once('connect', () => socket.write(`GET / HTTP/1.1\r\nHost: probe\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
      let head = '';
      const onHead = (data) => {
        head += data.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.off('data', onHead);
        // Answers the server's (empty) heartbeat pings, as the bench's load generator does.
        socket.on('data', (chunk) => chunk[0] === 0x89 && socket.write(PONG));
        resolve(socket);
      };
      socket.on('data', onHead);
    });
  const next = lines(process.stdin);
  for (;;) {
    const [command, arg] = (await next()).split(' ');
    if (command === 'connect') {
      let started = 0;
      const count = Number(arg);
      await Promise.all(Array.from({ length: 64 }, async () => { while (started < count) { started++; sockets.push(await open()); } }));
    } else if (command === 'echo') {
      await Promise.all(sockets.map((s) => new Promise((resolve) => { s.once('data', resolve); s.write(maskedText('a message of thirty-two bytes...')); })));
    } else {
      for (const s of sockets) s.resetAndDestroy();
      process.exit(0);
    }
    console.log('done');
  }
}

async function probe() {
  const name = option('--server', 'fullduplex');
  const mode = option('--mode', 'echo');
  const count = Number(option('--connections', '5000'));
  const waitMs = Number(option('--wait-ms', '0'));
  const file = fileURLToPath(new URL(`servers/${name}.mjs`, import.meta.url));
  const server = spawn(process.execPath, ['--expose-gc', file, '--mode', mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  const fromServer = lines(server.stdout);
  const { port } = JSON.parse((await fromServer()).slice('ready '.length));
  const stats = async () => {
    server.stdin.write('stats\n');
    return JSON.parse((await fromServer()).slice('stats '.length));
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  await sleep(300);
  const base = await stats();
  const address = `127.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}.1`;
  const peer = spawn(process.execPath, [fileURLToPath(import.meta.url), '--client', String(port), address], { stdio: ['pipe', 'pipe', 'inherit'] });
  const fromPeer = lines(peer.stdout);
  const step = async (command) => (peer.stdin.write(`${command}\n`), await fromPeer(), await sleep(500), stats());
  const perConnection = (s) => ({ heapKiB: +((s.heapUsed - base.heapUsed) / 1024 / count).toFixed(3), rssKiB: +((s.rss - base.rss) / 1024 / count).toFixed(3), connections: s.connections });
  const result = { server: name, mode, connections: count };
  result.idle = perConnection(await step(`connect ${count}`));
  result.echoed = perConnection(await step('echo'));
  if (waitMs > 0) result[`after${waitMs}ms`] = perConnection((await sleep(waitMs), await stats()));
  console.log(JSON.stringify(result));
  peer.stdin.write('quit\n');
  server.kill();
}

if (argv[0] === '--client') await client(Number(argv[1]), argv[2]);
else await probe();
