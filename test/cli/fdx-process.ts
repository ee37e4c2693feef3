/**
 * Runs the real `fdx` binary (bin/fdx.js, which runs the TypeScript source through tsx in a
 * checkout) as a child process with piped stdio, for the CLI tests: collect its output, feed
 * its stdin, wait (bounded) for a line or its exit, stop it with a signal. Every child is killed
 * when the test file ends.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/fdx.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Upper bound for a child to start, answer or stop: generous, as tsx compiles the CLI on a shared machine. */
export const STEP_LIMIT_MS = 30_000;

const children = new Set<ChildProcessWithoutNullStreams>();
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Fdx {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<Exit>;
}

/** Starts `fdx ARGS`; `input`, when given, is written to stdin and stdin is ended. */
export function fdx(args: string[], options: { input?: string | undefined; env?: NodeJS.ProcessEnv } = {}): Fdx {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  child.stdin.on('error', () => {}); // a child that exits early closes its end
  if (options.input !== undefined) child.stdin.end(options.input);
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, stdout: () => out, stderr: () => err, exited };
}

export function withLimit<T>(promise: Promise<T>, what: string, ms = STEP_LIMIT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** The exit of a run, bounded; the message names the run's stderr when it does not come. */
export async function exitOf(run: Fdx): Promise<Exit> {
  try {
    return await withLimit(run.exited, 'exit');
  } catch (error) {
    throw new Error(`${(error as Error).message}; stdout: ${run.stdout()}; stderr: ${run.stderr()}`);
  }
}

/** Resolves once `check(stream text)` holds; rejects if the process exits or the limit passes first. */
export function waitFor(run: Fdx, stream: 'stdout' | 'stderr', check: (text: string) => boolean, what: string): Promise<string> {
  const source = stream === 'stdout' ? run.child.stdout : run.child.stderr;
  const read = stream === 'stdout' ? run.stdout : run.stderr;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no ${what} within ${STEP_LIMIT_MS} ms; stdout: ${run.stdout()}; stderr: ${run.stderr()}`)), STEP_LIMIT_MS);
    const onData = (): void => {
      if (check(read())) finish(null);
    };
    const onExit = (code: number | null): void => {
      if (check(read())) finish(null);
      else finish(new Error(`exited with ${code} before ${what}; stdout: ${run.stdout()}; stderr: ${run.stderr()}`));
    };
    function finish(error: Error | null): void {
      clearTimeout(timer);
      source.removeListener('data', onData);
      run.child.removeListener('exit', onExit);
      if (error) reject(error);
      else resolve(read());
    }
    source.on('data', onData);
    run.child.once('exit', onExit);
    onData();
  });
}

/** Sends `signal` (unless it has exited) and waits for the exit. */
export async function stop(run: Fdx, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill(signal);
  return exitOf(run);
}

/** Starts `fdx serve ARGS` on a free port and resolves with its base address once it listens. */
export async function startServe(args: string[] = []): Promise<{ run: Fdx; base: string }> {
  const run = fdx(['serve', '--port', '0', ...args]);
  const out = await waitFor(run, 'stdout', (text) => text.includes('\n'), 'listening line');
  const match = /^listening on http:\/\/(127\.0\.0\.1:\d+) /.exec(out);
  if (!match) throw new Error(`unexpected first line: ${JSON.stringify(out)}`);
  return { run, base: match[1]! };
}
