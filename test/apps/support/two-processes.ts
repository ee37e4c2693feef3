/**
 * A demo as two processes sharing a private redis-server (on a free port, persistence off), each
 * on its own HTTP server through demo-host-main.ts, with a Chromium for their pages. `stop()`
 * closes the browser, kills both children and the redis-server by PID.
 */
import type { Browser } from 'playwright-core';
import { startChildServer, stopAllChildren, type ChildServer } from '../../support/child-server.js';
import { startRedisServer, type RedisServer } from '../../support/redis-server.js';
import { launchBrowser } from '../demo-browser.js';

export interface TwoProcesses {
  redis: RedisServer;
  a: ChildServer;
  b: ChildServer;
  /** The demo's page on each process. */
  urlA: string;
  urlB: string;
  browser: Browser;
  stop(): Promise<void>;
}

export async function startTwoProcesses(demo: string): Promise<TwoProcesses> {
  const redis = await startRedisServer();
  const start = () => startChildServer('test/apps/support/demo-host-main.ts', [demo, '--redis', redis.url], /listening on (http:\/\/\S+)/);
  const [a, b] = await Promise.all([start(), start()]);
  const browser = await launchBrowser();
  return {
    redis,
    a,
    b,
    urlA: a.ready[1]!,
    urlB: b.ready[1]!,
    browser,
    async stop() {
      await browser.close();
      await stopAllChildren();
      await redis.kill();
    },
  };
}
