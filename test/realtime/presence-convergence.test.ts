/**
 * Presence across processes converges after a kill and a restart: three server processes
 * (test/support/presence-server.ts) keep presence in one Redis (a redis-server of this test's
 * own); clients on all three watch one channel. After one process is killed with SIGKILL, every
 * remaining client's view matches the truth (who is still connected, and how often) within the
 * documented bound, ttlMs + ttlMs/3 + a tick; after it is restarted on the same port and its
 * clients came back, every view matches again.
 * Every child and the redis-server are killed by PID in `after`, whatever happened.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WebSocket } from '../../src/index.js';
import { createClient, type RealtimeClient } from '../../src/client.js';
import { startChildServer, stopAllChildren, type ChildServer } from '../support/child-server.js';
import { freePort, startRedisServer, type RedisServer } from '../support/redis-server.js';

const TTL_MS = 1500;
const TICK_MS = 100;
/** The documented bound for a dead process's members to vanish from every view. */
const BOUND_MS = TTL_MS + TTL_MS / 3 + TICK_MS;
/** Slack for a shared machine (Redis round trips, timers late under load). */
const SLACK_MS = 1500;
const CHANNEL = 'room:converge';

let redis: RedisServer;
const ports: number[] = [];
const servers: (ChildServer | null)[] = [];

const prefix = `fdx-converge-${randomUUID()}:`;

async function startServer(i: number): Promise<void> {
  servers[i] = await startChildServer('test/support/presence-server.ts', [redis.url, prefix, String(ports[i]), String(TTL_MS)], /listening on (\d+)/);
}

interface Watcher {
  user: string;
  server: number;
  client: RealtimeClient;
}
const watchers: Watcher[] = [];

before(async () => {
  redis = await startRedisServer();
  for (let i = 0; i < 3; i++) ports.push(await freePort());
  await Promise.all([0, 1, 2].map((i) => startServer(i)));
});

after(async () => {
  for (const w of watchers) w.client.close();
  await stopAllChildren();
  await redis?.kill();
});

function watch(user: string, server: number): Watcher {
  const client = createClient(`ws://127.0.0.1:${ports[server]}`, { WebSocket: WebSocket as never, token: user, minDelayMs: 100, maxDelayMs: 400 });
  client.subscribe(CHANNEL);
  const w = { user, server, client };
  watchers.push(w);
  return w;
}

/** What every view should be: the users of the watchers whose process is up, with their connection counts and metadata. */
function truth(metas: Map<string, unknown>): string {
  const members: Record<string, { meta: unknown; connections: number }> = {};
  for (const w of watchers) {
    if (!servers[w.server]) continue;
    members[w.user] ??= { meta: metas.get(w.user) ?? null, connections: 0 };
    members[w.user]!.connections++;
  }
  return JSON.stringify(Object.entries(members).sort(([a], [b]) => a.localeCompare(b)));
}

function viewOf(w: Watcher): string {
  return JSON.stringify([...w.client.presence(CHANNEL).members].sort(([a], [b]) => a.localeCompare(b)));
}

/** Waits until every watcher on a live process sees the truth; resolves with the time it took, or fails with the differences. */
async function converged(metas: Map<string, unknown>, limitMs: number, what: string): Promise<number> {
  const start = Date.now();
  for (;;) {
    const expected = truth(metas);
    const wrong = watchers.filter((w) => servers[w.server] && viewOf(w) !== expected);
    if (wrong.length === 0) return Date.now() - start;
    if (Date.now() - start > limitMs) {
      assert.fail(`${what}: ${wrong.length} views differ after ${limitMs} ms\nexpected ${expected}\n${wrong.map((w) => `${w.user}@${w.server}: ${viewOf(w)}`).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

it('every view matches the truth after a process is killed (within the bound) and after it is restarted', async () => {
  const metas = new Map<string, unknown>();
  // Nine connections of seven users: "ada" has tabs on processes 0 and 2, "bob" two on process 1.
  const layout: [string, number][] = [['ada', 0], ['cy', 0], ['dee', 0], ['bob', 1], ['bob', 1], ['eve', 1], ['ada', 2], ['fay', 2], ['gus', 2]];
  const t0 = Date.now();
  for (const [user, server] of layout) watch(user, server);
  await converged(metas, 15_000, 'at start');

  const typing = watchers.find((w) => w.user === 'eve')!;
  metas.set('eve', { typing: true });
  await typing.client.presence(CHANNEL).set({ typing: true });
  await converged(metas, 5_000, 'after set-presence');

  await servers[2]!.stop('SIGKILL');
  servers[2] = null;
  const killedMs = await converged(metas, BOUND_MS + SLACK_MS, 'after SIGKILL of process 2');
  console.log(`views converged ${killedMs} ms after the kill (bound ${BOUND_MS} ms)`);
  // ada is still there (her tab on process 0), with one connection; fay and gus are gone.
  const view = watchers[0]!.client.presence(CHANNEL).members;
  assert.deepEqual([view.get('ada')?.connections, view.has('fay'), view.has('gus')], [1, false, false]);

  await startServer(2);
  const restartedMs = await converged(metas, 10_000, 'after restarting process 2');
  console.log(`views converged ${restartedMs} ms after the restart; test body ${Date.now() - t0} ms`);
  assert.equal(watchers[0]!.client.presence(CHANNEL).members.get('ada')?.connections, 2);
});
