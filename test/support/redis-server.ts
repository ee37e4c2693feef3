/**
 * A private redis-server child for tests, on a free loopback port, with persistence off, so
 * that tests never touch a Redis that other programs use and may kill theirs at will.
 * Set REDIS_SERVER to use a binary that is not on PATH.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

const READY_TIMEOUT_MS = 10_000;
const binary = process.env.REDIS_SERVER ?? 'redis-server';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Kills the server with SIGKILL (no shutdown, no goodbye to clients) and waits for its exit. */
  kill(): Promise<void>;
  /** Starts a new server on the same port; the previous one must have been killed. */
  restart(): Promise<void>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `extra` arguments come last, so they override the defaults (e.g. '--appendonly', 'yes'). */
export function launch(port: number, extra: string[] = []): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', '', ...extra];
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const fail = (message: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${message}\n${output.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail(`redis-server on port ${port} was not ready within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null, signal: string | null): void =>
      fail(`redis-server on port ${port} exited before it was ready (code ${code}, signal ${signal})`);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === 'ENOENT'
          ? new Error(`redis-server was not found (looked for "${binary}"): install it, e.g. apt-get install redis-server, or set REDIS_SERVER`)
          : error,
      );
    });
    child.once('exit', onExit);
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
}

/** `extra`: more redis-server arguments, used at every (re)start. */
export async function startRedisServer(extra: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | null = await launch(port, extra);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? -1;
    },
    async kill() {
      const current = child;
      child = null;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
      process.kill(current.pid!, 'SIGKILL');
      await exited;
    },
    async restart() {
      if (child) throw new Error('redis-server is still running; kill() it first');
      child = await launch(port, extra);
    },
  };
}
