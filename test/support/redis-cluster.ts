/**
 * A private Redis Cluster of three masters for tests: three redis-server children with
 * --cluster-enabled on loopback ports of their own (each with its bus port, +10000, free too),
 * joined with `redis-cli --cluster create`, each in a temporary folder; waits for
 * cluster_state:ok on every node. stop() kills them by PID and removes the folders.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { launch } from './redis-server.js';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 20_000;

export interface RedisCluster {
  /** redis:// URLs of the three masters. */
  readonly urls: string[];
  stop(): Promise<void>;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port that is free, and whose cluster bus port (+10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (taken.has(port)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
}

export async function startRedisCluster(): Promise<RedisCluster> {
  const taken = new Set<number>();
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        process.kill(child.pid!, 'SIGKILL');
        await exited;
      }),
    );
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await clusterPort(taken);
      const dir = await mkdtemp(join(tmpdir(), 'fdx-cluster-'));
      dirs.push(dir);
      children.push(await launch(port, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--dir', dir]));
      ports.push(port);
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (const port of ports) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`the cluster node on port ${port} did not reach cluster_state:ok`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    return { urls: ports.map((port) => `redis://127.0.0.1:${port}`), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
