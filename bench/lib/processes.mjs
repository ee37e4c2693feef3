// Child processes of a bench run: servers (spoken to over stdin/stdout lines) and load
// generators (spoken to over IPC), each pinned to its core with taskset when there are two,
// and CPU time read from /proc/<pid>/stat for any of them.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export function hasTaskset() {
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

function pinned(cpu, command, args) {
  return cpu === null ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
}

/** utime and stime of a process (all its threads), in seconds; null once it is gone. */
function cpuTimes(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
  } catch {
    return null;
  }
}

/** utime + stime of a process (all its threads), in seconds; null once it is gone. */
export function cpuSeconds(pid) {
  const times = cpuTimes(pid);
  return times === null ? null : times.user + times.system;
}

export function cpuOf(pids) {
  let sum = 0;
  for (const pid of pids) sum += cpuSeconds(pid) ?? 0;
  return sum;
}

/** The stime part of cpuOf(pids): CPU seconds spent in the kernel on the processes' behalf. */
export function kernelCpuOf(pids) {
  let sum = 0;
  for (const pid of pids) sum += cpuTimes(pid)?.system ?? 0;
  return sum;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineBusySeconds() {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0];
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function alive(pid) {
  return existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A reply awaited with a deadline: `register({ resolve, reject })` hands the settling functions
 * to whoever receives the reply and returns how to forget them when the deadline passes.
 */
function awaitReply(timeoutMs, describeTimeout, register) {
  return new Promise((resolve, reject) => {
    let forget = () => {};
    const timer = setTimeout(() => {
      forget();
      reject(new Error(describeTimeout()));
    }, timeoutMs);
    forget = register({
      resolve: (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
  });
}

/** One server process with the line protocol of servers/control.mjs. */
class ServerProcess {
  #child;
  #lines = [];
  #waiters = [];
  #stderr = '';
  #ready = null;
  exited = null;
  pids = [];

  constructor(command, args, cpu) {
    const [cmd, argv] = pinned(cpu, command, args);
    this.#child = spawn(cmd, argv, { cwd: benchDir, stdio: ['pipe', 'pipe', 'pipe'] });
    let pending = '';
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (text) => {
      pending += text;
      let end;
      while ((end = pending.indexOf('\n')) >= 0) {
        this.#line(pending.slice(0, end));
        pending = pending.slice(end + 1);
      }
    });
    this.#child.stderr.setEncoding('utf8');
    this.#child.stderr.on('data', (text) => {
      this.#stderr = (this.#stderr + text).slice(-4000);
    });
    this.#child.on('exit', (code, signal) => {
      this.exited = signal ?? code;
      for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error(`server exited (${this.exited}): ${this.#stderr.trim()}`));
    });
    this.#child.stdin.on('error', () => {});
    this.ready().catch(() => {});
  }

  get pid() {
    return this.#child.pid;
  }

  get stderr() {
    return this.#stderr;
  }

  #line(line) {
    const space = line.indexOf(' ');
    const word = space < 0 ? line : line.slice(0, space);
    const waiter = this.#waiters.findIndex((w) => w.word === word);
    if (waiter < 0) return;
    const [{ resolve }] = this.#waiters.splice(waiter, 1);
    resolve(JSON.parse(line.slice(space + 1)));
  }

  #expect(word, timeoutMs) {
    if (this.exited !== null) return Promise.reject(new Error(`server exited (${this.exited}): ${this.#stderr.trim()}`));
    return awaitReply(timeoutMs, () => `no "${word}" from the server within ${timeoutMs} ms: ${this.#stderr.trim()}`, (waiter) => {
      const entry = { word, ...waiter };
      this.#waiters.push(entry);
      return () => {
        const i = this.#waiters.indexOf(entry);
        if (i >= 0) this.#waiters.splice(i, 1);
      };
    });
  }

  /** Resolves once the server accepts connections (the same promise on every call). */
  ready() {
    this.#ready ??= this.#expect('ready', 30_000).then((info) => {
      this.pids = info.pids;
      return info;
    });
    return this.#ready;
  }

  stats(timeoutMs = 60_000) {
    const reply = this.#expect('stats', timeoutMs);
    this.#child.stdin.write('stats\n');
    return reply;
  }

  async stop() {
    // Closing stdin lets the server exit by itself (and write a --cpu-prof profile).
    this.#child.stdin.end();
    for (let i = 0; i < 40 && this.exited === null; i += 1) await sleep(25);
    const pids = [...new Set([this.#child.pid, ...this.pids])];
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
    }
    for (let i = 0; i < 100 && pids.some(alive); i += 1) await sleep(30);
    for (const pid of pids.filter(alive)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    for (let i = 0; i < 100 && pids.some(alive); i += 1) await sleep(30);
  }
}

/**
 * Starts an implementation's server: one process, a cluster of `processes` (Node servers), or
 * `processes` separate processes sharing the port with SO_REUSEPORT.
 */
export async function startServer(impl, { port, mode, deflate, processes, cpu }) {
  const args = [...impl.args, '--port', String(port), '--mode', mode];
  if (deflate) args.push('--deflate');
  const started = [];
  if (processes > 1 && impl.multi === 'cluster') {
    started.push(new ServerProcess(impl.command, [...args, '--workers', String(processes)], cpu));
  } else {
    const extra = processes > 1 && impl.multi === 'reuseport' ? impl.reusePortArgs : [];
    for (let i = 0; i < processes; i += 1) {
      const server = new ServerProcess(impl.command, [...args, ...extra], cpu);
      started.push(server);
      // The next process joins the port only once this one listens.
      try {
        await server.ready();
      } catch (error) {
        await Promise.all(started.map((s) => s.stop()));
        throw error;
      }
    }
  }
  try {
    await Promise.all(started.map((s) => s.ready()));
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    throw error;
  }
  return {
    pids: started.flatMap((s) => s.pids),
    async stats() {
      const all = await Promise.all(started.map((s) => s.stats()));
      return all.reduce((sum, s) => ({
        rss: sum.rss + s.rss,
        heapUsed: sum.heapUsed + s.heapUsed,
        external: sum.external + s.external,
        connections: sum.connections + s.connections,
      }));
    },
    exited: () => started.filter((s) => s.exited !== null).map((s) => `exited (${s.exited}): ${s.stderr.trim().slice(-500)}`),
    stop: () => Promise.all(started.map((s) => s.stop())),
  };
}

/**
 * A load generator process (the package's, src/loadgen/, as built: dist/loadgen-worker.js);
 * `call(message)` sends one phase and resolves with its reply.
 */
export function startGenerator(cpu, nodeFlags = []) {
  const script = fileURLToPath(new URL('../../dist/loadgen-worker.js', import.meta.url));
  const [cmd, argv] = pinned(cpu, process.execPath, [...nodeFlags, script]);
  const child = spawn(cmd, argv, { cwd: benchDir, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let exited = null;
  let pending = null;
  child.on('exit', (code, signal) => {
    exited = signal ?? code;
    if (pending) pending.reject(new Error(`load generator exited (${exited})`));
  });
  child.on('message', (reply) => {
    if (!pending || reply.type !== pending.type) return;
    const { resolve, reject } = pending;
    pending = null;
    if (reply.ok) resolve(reply);
    else reject(new Error(`load generator failed in ${reply.type}: ${reply.error}`));
  });
  return {
    pid: child.pid,
    call(message, timeoutMs = 120_000) {
      if (exited !== null) return Promise.reject(new Error(`load generator exited (${exited})`));
      return awaitReply(timeoutMs, () => `load generator: no answer to ${message.type} within ${timeoutMs} ms`, (waiter) => {
        pending = { type: message.type, ...waiter };
        child.send(message);
        return () => {
          pending = null;
        };
      });
    },
    async stop() {
      if (exited === null) child.disconnect?.();
      for (let i = 0; i < 100 && exited === null; i += 1) await sleep(30);
      if (exited === null) child.kill('SIGKILL');
      for (let i = 0; i < 100 && exited === null; i += 1) await sleep(30);
    },
  };
}
