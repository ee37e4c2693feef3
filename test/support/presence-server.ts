/**
 * A real-time server with presence on every channel, kept in Redis (RedisPresenceStore), run as
 * a child process by the multi-process presence test (test/realtime/presence-convergence.test.ts).
 *   node --import tsx test/support/presence-server.ts <redis url> <key prefix> <port> <ttlMs>
 * The token of `connect` is the user. Prints "listening on <port>" once it accepts connections.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RealtimeServer, mountRealtime } from '../../src/realtime.js';
import { RedisPresenceStore } from '../../src/broker/redis.js';

const [url, keyPrefix, port, ttlMs] = process.argv.slice(2);
if (!url || !keyPrefix || port === undefined || !ttlMs) {
  console.error('usage: presence-server.ts <redis url> <key prefix> <port> <ttlMs>');
  process.exit(2);
}

const presenceStore = new RedisPresenceStore({ url, keyPrefix, ttlMs: Number(ttlMs) });
const realtime = new RealtimeServer({
  presence: () => true,
  presenceStore,
  presenceTickMs: 100,
  authenticate: ({ token }) => ({ user: token }),
});
const http = createServer();
mountRealtime(realtime, { server: http });
http.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening on ${(http.address() as AddressInfo).port}`);
});
