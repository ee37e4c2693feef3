/**
 * The load generator processes of one `fdx bench` run: forks them (worker-main.ts, run through
 * tsx in a checkout, dist/loadgen-worker.js once built), sends each a phase over IPC and
 * resolves with its reply. Each process has its own 20,000-file limit and its own core.
 * Must not: interpret replies (the bench command merges them), or outlive its caller's stop().
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Phase } from './generator.js';

export interface WorkerReply {
  type: string;
  id: number;
  ok: boolean;
  error?: string;
  [field: string]: unknown;
}

/** The worker's file and how to run it: the TypeScript source with tsx in a checkout, else the build. */
function workerEntry(): { file: string; execArgv: string[] } {
  const source = new URL('./worker-main.ts', import.meta.url);
  if (existsSync(source)) return { file: fileURLToPath(source), execArgv: ['--import', import.meta.resolve('tsx')] };
  return { file: fileURLToPath(new URL('./loadgen-worker.js', import.meta.url)), execArgv: [] };
}

interface Pending {
  resolve(reply: WorkerReply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

class Worker {
  readonly child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  exited: string | null = null;

  constructor(file: string, execArgv: string[]) {
    this.child = fork(file, [], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.child.on('message', (reply: WorkerReply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      clearTimeout(pending.timer);
      if (reply.ok) pending.resolve(reply);
      else pending.reject(new Error(`load generator failed in ${reply.type}: ${reply.error}`));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = String(signal ?? code);
      for (const [id, pending] of this.#pending) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`load generator exited (${this.exited})`));
        this.#pending.delete(id);
      }
    });
  }

  call(phase: Phase, timeoutMs: number): Promise<WorkerReply> {
    if (this.exited !== null) return Promise.reject(new Error(`load generator exited (${this.exited})`));
    const id = this.#nextId;
    this.#nextId += 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`load generator: no answer to ${phase.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.child.send({ ...phase, id });
    });
  }
}

export class WorkerPool {
  readonly #workers: Worker[];

  constructor(count: number) {
    const { file, execArgv } = workerEntry();
    this.#workers = Array.from({ length: count }, () => new Worker(file, execArgv));
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Sends each worker its phase (`phase(i)`) at once; resolves with the replies in worker order. */
  all(phase: (index: number) => Phase, timeoutMs = 120_000): Promise<WorkerReply[]> {
    return Promise.all(this.#workers.map((worker, i) => worker.call(phase(i), timeoutMs)));
  }

  /** Disconnects every worker (they exit), then kills any that is still there. */
  async stop(): Promise<void> {
    const waits = this.#workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.exited !== null) return resolve();
          const timer = setTimeout(() => worker.child.kill('SIGKILL'), 3000);
          worker.child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          if (worker.child.connected) worker.child.disconnect();
          else worker.child.kill('SIGKILL');
        }),
    );
    await Promise.all(waits);
  }
}
