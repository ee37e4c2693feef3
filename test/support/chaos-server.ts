/**
 * A real-time server on the Redis engine (history, recovery and resumable sessions in Redis),
 * run as a child process by the multi-process chaos run (test/realtime/chaos-processes.ts).
 *   node --import tsx test/support/chaos-server.ts <redis url> <key prefix> <port> <historySize>
 * Prints "listening on <port>" once it accepts connections. It keeps no state of its own worth
 * saving: it may be killed with SIGKILL at any moment.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RealtimeServer, mountRealtime } from '../../src/realtime.js';
import { RedisEngine } from '../../src/broker/redis.js';

const [url, keyPrefix, port, historySize] = process.argv.slice(2);
if (!url || !keyPrefix || port === undefined || !historySize) {
  console.error('usage: chaos-server.ts <redis url> <key prefix> <port> <historySize>');
  process.exit(2);
}

const engine = new RedisEngine({ url, keyPrefix, historySize: Number(historySize), historyTtlMs: 3_600_000, maxReconnectDelayMs: 100 });
await engine.ready();
const realtime = new RealtimeServer({ engine, sessions: engine.sessionStore() });
const http = createServer();
mountRealtime(realtime, { server: http });
http.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening on ${(http.address() as AddressInfo).port}`);
});
