/**
 * Resumable sessions: a client that comes back, through the same address, to another server
 * sharing the session store gets its channels back without `authorize` being asked again, and
 * recovers what it missed from its positions; after the session's time to live it is authorized
 * afresh. Run with the memory stores and with RedisEngine's store on the shared Redis.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { MemoryEngine, MemorySessionStore, type Engine, type SessionStore } from '../../src/realtime.js';
import { RedisEngine } from '../../src/broker/redis.js';
import { connectClient, startLoopback, until, type Loopback } from './loopback.js';
import { deleteKeys } from '../support/redis-keys.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefixes: string[] = [];
const cleanups: Array<() => Promise<void>> = [];

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await deleteKeys(url, prefixes);
});

/** A TCP front that sends new connections to `target` and can drop every current one. */
async function front(): Promise<{ port: number; target: number; dropAll(): void }> {
  const sockets = new Set<net.Socket>();
  const state = { port: 0, target: 0, dropAll: () => sockets.forEach((socket) => socket.destroy()) };
  const server = net.createServer((client) => {
    const upstream = net.connect(state.target, '127.0.0.1');
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(a);
      a.on('error', () => undefined);
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    state.dropAll();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
}

interface Stores {
  engines: [Engine, Engine];
  sessions: SessionStore;
}

async function memoryStores(): Promise<Stores> {
  const engine = new MemoryEngine();
  return { engines: [engine, engine], sessions: new MemorySessionStore() };
}

async function redisStores(): Promise<Stores> {
  const keyPrefix = `fdx-session-test-${randomUUID()}:`;
  prefixes.push(keyPrefix);
  const engines = [new RedisEngine({ url, keyPrefix, metaTtlMs: 60_000 }), new RedisEngine({ url, keyPrefix, metaTtlMs: 60_000 })] as const;
  await Promise.all(engines.map((engine) => engine.ready()));
  return { engines: [...engines], sessions: engines[0].sessionStore() };
}

for (const [name, make] of [['memory stores', memoryStores], ['RedisEngine', redisStores]] as const) {
  describe(`session resume (${name})`, () => {
    it('gives a client that comes back to another server its channels without asking authorize again', async () => {
      const { engines, sessions } = await make();
      const asked: string[] = [];
      const servers: Loopback[] = [];
      for (const engine of engines) {
        const loop = await startLoopback({
          engine,
          sessions,
          sessionTtlMs: 300,
          authorize: (connection, channel, action) => {
            if (action === 'subscribe') asked.push(channel);
            return true;
          },
        });
        servers.push(loop);
        cleanups.push(() => loop.stop());
      }
      const door = await front();
      door.target = servers[0]!.port;
      // Reconnects come within a millisecond or two: the test must hold however fast they are.
      const client = connectClient(`ws://127.0.0.1:${door.port}/rt`, { minDelayMs: 1, maxDelayMs: 200 });
      cleanups.push(async () => client.close());
      const got: unknown[] = [];
      client.subscribe('room', (data) => void got.push(data));
      client.subscribe('news', () => undefined);
      await until(() => client.position('room') !== undefined && client.position('news') !== undefined, 5000, 'the subscriptions');
      assert.deepEqual(asked.sort(), ['news', 'room']);
      await servers[0]!.realtime.publish('room', 1);
      await until(() => got.length === 1, 5000, 'the first publication');

      // The client's connection drops; it comes back through the same address to the other server.
      door.target = servers[1]!.port;
      door.dropAll();
      await until(() => client.state !== 'connected', 5000, 'the drop');
      await servers[1]!.realtime.publish('room', 2);
      await until(() => got.length === 2 && client.state === 'connected', 5000, 'the missed publication');
      assert.deepEqual(got, [1, 2]);
      assert.deepEqual(asked, ['news', 'room'], 'no channel was authorized again');

      // Past the session's time to live, a client is authorized afresh.
      // The door points nowhere before the drop: a reconnect that comes at once (the backoff may
      // be under a millisecond) must not reach a server while the session is still alive.
      const expired = servers[1]!.port;
      door.target = 1; // nobody listens: the client stays away while the session expires
      door.dropAll();
      await until(() => client.state !== 'connected', 5000, 'the second drop');
      await new Promise((resolve) => setTimeout(resolve, 500));
      door.target = expired;
      await until(() => asked.length === 4, 20_000, 'a fresh authorization (after the client backoff)');
      assert.deepEqual(asked.slice(2).sort(), ['news', 'room']);
    });
  });
}
