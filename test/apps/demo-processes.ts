/**
 * `npm start -- --redis URL` as several processes for the demos' two-process tests: each a
 * child (apps/server.ts through tsx) on a free port with a data folder of its own, all sharing
 * one private redis-server (test/support/redis-server.ts), so no key of another run is seen.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startChildServer, stopAllChildren, type ChildServer } from '../support/child-server.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

export interface DemoProcess {
  child: ChildServer;
  /** http://127.0.0.1:port/ */
  url: string;
}

export class DemoProcesses {
  redis!: RedisServer;
  readonly #dirs: string[] = [];

  async start(): Promise<void> {
    this.redis = await startRedisServer();
  }

  /** One more process of the app, sharing the Redis. */
  async spawn(): Promise<DemoProcess> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'fdx-demo-proc-'));
    this.#dirs.push(dataDir);
    const child = await startChildServer('apps/server.ts', ['--port', '0', '--redis', this.redis.url, '--data', dataDir], /fullduplex demos on (http:\/\/\S+\/)/);
    return { child, url: child.ready[1]! };
  }

  async stop(): Promise<void> {
    await stopAllChildren();
    await this.redis?.kill();
    await Promise.all(this.#dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
