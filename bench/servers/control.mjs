// What every bench server shares: its command line, and the control channel the runner uses.
//   --port N --host H --mode echo|echo-topic|fanout|channel [--deflate] [--workers N]
//   [--ping-interval-ms N] (servers with a heartbeat: its interval instead of their default)
// echo, echo-topic (echo, and every connection joins one topic on open, as pub/sub apps do) and
// fanout are plain WebSocket messages (every server but realtime and socketio);
// channel is the channel scenario, in each server's own protocol (fullduplex, realtime, socketio).
// The server prints `ready {"port","pids"}` once it accepts connections; for each line
// `stats` on stdin it collects garbage and prints `stats {"rss","heapUsed","connections"}`.
// Runs under Node and Bun. With --workers N (Node only) the Node cluster module runs N worker
// processes behind the one port; the primary answers `stats` with the sum over all processes.

export const TOPIC = 'bench';

export function parseOptions(argv = process.argv.slice(2)) {
  const options = { port: 0, host: '127.0.0.1', mode: 'echo', deflate: false, workers: 1, reusePort: false, pingIntervalMs: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--port') options.port = Number(argv[++i]);
    else if (arg === '--host') options.host = argv[++i];
    else if (arg === '--mode') options.mode = argv[++i];
    else if (arg === '--deflate') options.deflate = true;
    else if (arg === '--workers') options.workers = Number(argv[++i]);
    else if (arg === '--reuse-port') options.reusePort = true;
    else if (arg === '--ping-interval-ms') options.pingIntervalMs = Number(argv[++i]);
    else throw new Error(`unknown option ${arg}`);
  }
  if (!['echo', 'echo-topic', 'fanout', 'channel', 'presence', 'presence-count'].includes(options.mode)) throw new Error(`unknown mode ${options.mode}`);
  return options;
}

function collectGarbage() {
  if (typeof Bun !== 'undefined') Bun.gc(true);
  else if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
}

function ownStats(connections) {
  collectGarbage();
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, connections: connections() };
}

function onLines(stream, handle) {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (text) => {
    pending += text;
    let end;
    while ((end = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, end).trim();
      pending = pending.slice(end + 1);
      if (line) handle(line);
    }
  });
  stream.on('end', () => process.exit(0));
}

function say(word, value) {
  process.stdout.write(`${word} ${JSON.stringify(value)}\n`);
}

/**
 * Starts the server: `listen(options)` must resolve once it accepts connections, with
 * `{ port, connections() }`.
 */
export async function serve(listen) {
  const options = parseOptions();
  if (options.workers > 1) {
    const { default: cluster } = await import('node:cluster');
    if (cluster.isPrimary) return primary(cluster, options);
    const server = await listen(options);
    process.on('message', (message) => {
      if (message === 'stats') process.send({ stats: ownStats(server.connections) });
    });
    process.send({ ready: true });
    return undefined;
  }
  const server = await listen(options);
  say('ready', { port: server.port, pids: [process.pid] });
  onLines(process.stdin, (line) => {
    if (line === 'stats') say('stats', ownStats(server.connections));
  });
  return undefined;
}

async function primary(cluster, options) {
  const workers = Array.from({ length: options.workers }, () => cluster.fork());
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise((resolve, reject) => {
          worker.on('message', (message) => message?.ready && resolve());
          worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before listening`)));
        }),
    ),
  );
  for (const worker of workers) {
    worker.on('exit', (code, signal) => {
      process.stderr.write(`worker ${worker.process.pid} exited (${code ?? signal})\n`);
    });
  }
  say('ready', { port: options.port, pids: [process.pid, ...workers.map((w) => w.process.pid)] });
  onLines(process.stdin, async (line) => {
    if (line !== 'stats') return;
    const all = await Promise.all(
      workers.map(
        (worker) =>
          new Promise((resolve) => {
            const onMessage = (message) => {
              if (!message?.stats) return;
              worker.off('message', onMessage);
              resolve(message.stats);
            };
            worker.on('message', onMessage);
            worker.send('stats');
          }),
      ),
    );
    const sum = ownStats(() => 0);
    for (const s of all) {
      sum.rss += s.rss;
      sum.heapUsed += s.heapUsed;
      sum.external += s.external;
      sum.connections += s.connections;
    }
    say('stats', sum);
  });
}
