/**
 * A demo mounted on a plain node:http server, as the home server mounts it: requests and
 * upgrades under `/<name>/` go to the demo, everything else gets 404. For the demos' tests (in
 * process) and, through demo-host-main.ts, for their multi-process tests.
 * Must not: know any demo beyond the CreateDemo contract.
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { CreateDemo, Demo } from '../../../apps/shared/demo.js';

export interface DemoHost {
  demo: Demo;
  /** http://127.0.0.1:PORT/<name>/ */
  pageUrl: string;
  /** ws://127.0.0.1:PORT/<name>/ */
  wsBase: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

export interface DemoHostOptions {
  port?: number;
  redisUrl?: string;
  log?: (line: string) => void;
}

export async function hostDemo(name: string, createDemo: CreateDemo, options: DemoHostOptions = {}): Promise<DemoHost> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `fdx-${name}-`));
  const basePath = `/${name}/`;
  const demo = await createDemo({ basePath, dataDir, redisUrl: options.redisUrl, log: options.log ?? (() => {}) });
  const server = http.createServer((req, res) => {
    demo.handleRequest(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404).end();
      },
      () => res.writeHead(500).end(),
    );
  });
  server.on('upgrade', (req, socket, head) => {
    if (!demo.handleUpgrade(req, socket, head)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    demo,
    port,
    server,
    pageUrl: `http://127.0.0.1:${port}${basePath}`,
    wsBase: `ws://127.0.0.1:${port}${basePath}`,
    async close() {
      await demo.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
