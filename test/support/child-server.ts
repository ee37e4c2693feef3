/**
 * Servers in child processes for multi-process tests: a TypeScript entry run through tsx from
 * the repository root, ready once a line of its output matches a pattern. Every child started
 * here is killed (SIGKILL, by PID) by stopAllChildren(), which tests call in `after`; an exit hook
 * does the same if the test process ends without running it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Longest wait for a child to say it is ready (tsx compiles on start; the machine is shared). */
const READY_TIMEOUT_MS = 30_000;

export interface ChildServer {
  readonly pid: number;
  /** The match of the ready pattern. */
  readonly ready: RegExpMatchArray;
  /** Everything the child printed so far (stdout and stderr). */
  output(): string;
  /** Sends `signal` and waits for the exit (at once if it already exited); SIGKILL by default. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) killQuietly(child);
});

function killQuietly(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Starts `node --import tsx <entry> ...args` in the repository root; resolves once `ready` matches a line. */
export function startChildServer(entry: string, args: string[], ready: RegExp): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const server = (match: RegExpMatchArray): ChildServer => ({
    pid: child.pid!,
    ready: match,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      if (exited(child)) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(child.pid!, signal);
      } catch {
        return; // it exited meanwhile
      }
      await gone;
    },
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killQuietly(child);
      reject(new Error(`${entry} ${args.join(' ')}: ${reason}\n--- its output ---\n${output.slice(-4000)}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      // Read for the child's whole life (a full pipe would stall it); the text serves reports.
      output += chunk.toString();
      if (output.length > 256 * 1024) output = output.slice(-128 * 1024);
      if (settled) return;
      const match = output.match(ready);
      if (match) {
        settled = true;
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(server(match));
      }
    };
    const onExit = (code: number | null, signal: string | null): void => fail(`exited before it was ready (code ${code}, signal ${signal})`);
    child.once('exit', onExit);
    child.once('error', (error) => fail(error.message));
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
}

/** Kills every child this module started that still runs (SIGKILL, by PID) and waits for their exits. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      if (exited(child)) return undefined;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      killQuietly(child);
      return gone;
    }),
  );
}
