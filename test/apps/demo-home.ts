/**
 * The home server (apps/server.ts) with some demos, for the demos' tests: on 127.0.0.1, a free
 * port (or a given one, for restarts), a fresh data folder unless one is given, quiet logs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startHome, type Home } from '../../apps/server.js';

export interface DemoHome extends Home {
  dataDir: string;
  /** http://127.0.0.1:port/<demo>/ */
  demoUrl(name: string): string;
  /** Closes the server and removes the data folder (unless `keepData`). */
  stop(keepData?: boolean): Promise<void>;
}

export async function startDemoHome(demos: string[], options: { port?: number; dataDir?: string; redisUrl?: string } = {}): Promise<DemoHome> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'fdx-demo-data-')));
  const home = await startHome({ port: options.port ?? 0, host: '127.0.0.1', demos, dataDir, redisUrl: options.redisUrl, log: () => {} });
  return Object.assign(home, {
    dataDir,
    demoUrl: (name: string) => `${home.url}${name}/`,
    async stop(keepData = false) {
      await home.close();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  });
}

