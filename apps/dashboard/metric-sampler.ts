/**
 * The dashboard's metric series and their sampling: real ones read from this process (CPU,
 * memory, event-loop delay) and the machine (load, memory, CPU), and synthetic ones (waves, noise,
 * random walks, sensors) so that there are many. `sample()` reads every series once, in catalog
 * order; the caller decides when (the dashboard's tick).
 * Must not: keep timers of its own besides the event-loop delay histogram, or know about sockets.
 */
import os from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** 'peer': another process's own series, shared through the engine with --redis (peer-catalog.ts). */
export type SeriesGroup = 'process' | 'machine' | 'synthetic' | 'peer';

export interface SeriesInfo {
  /** Stable id, the one clients select: 'process.cpu.user'. */
  id: string;
  label: string;
  unit: string;
  group: SeriesGroup;
}

/** How many synthetic sensors (random walks) there are besides the waves. */
export const SENSOR_COUNT = 24;

const MIB = 1024 * 1024;

interface Reader {
  info: SeriesInfo;
  read(context: SampleContext): number;
}

/** What every reader of one sample may share (each read once per sample). */
interface SampleContext {
  nowMs: number;
  elapsedMs: number;
  cpu: NodeJS.CpuUsage;
  memory: NodeJS.MemoryUsage;
}

function series(id: string, label: string, unit: string, group: SeriesGroup, read: (context: SampleContext) => number): Reader {
  return { info: { id, label, unit, group }, read };
}

/** Machine-wide CPU use from os.cpus() deltas, in percent of all cores. */
function machineCpu(): () => number {
  let last = totals();
  let value = 0;
  return () => {
    const next = totals();
    const total = next.total - last.total;
    if (total > 0) value = (100 * (total - (next.idle - last.idle))) / total;
    last = next;
    return value;
  };
  function totals(): { idle: number; total: number } {
    let idle = 0;
    let total = 0;
    for (const { times } of os.cpus()) {
      idle += times.idle;
      total += times.user + times.nice + times.sys + times.idle + times.irq;
    }
    return { idle, total };
  }
}

/** A random walk between `low` and `high`, stepping by at most `step`. */
function randomWalk(low: number, high: number, step: number, random: () => number): () => number {
  let value = low + (high - low) * random();
  return () => {
    value = Math.min(high, Math.max(low, value + (random() * 2 - 1) * step));
    return value;
  };
}

export class MetricSampler {
  readonly catalog: readonly SeriesInfo[];
  readonly #readers: Reader[];
  readonly #delay: IntervalHistogram;
  readonly #now: () => number;
  #lastMs: number;
  #lastCpu: NodeJS.CpuUsage;

  constructor(now: () => number = Date.now, random: () => number = Math.random) {
    this.#now = now;
    this.#lastMs = now();
    this.#lastCpu = process.cpuUsage();
    this.#delay = monitorEventLoopDelay({ resolution: 10 });
    this.#delay.enable();
    const cpuPercent = (micros: number, elapsedMs: number) => (elapsedMs > 0 ? micros / 10 / elapsedMs : 0);
    const delay = this.#delay;
    const readDelay = (pick: (h: IntervalHistogram) => number) => () => (delay.count > 0 ? pick(delay) / 1e6 : 0);
    const machine = machineCpu();
    const seconds = (context: SampleContext) => context.nowMs / 1000;
    this.#readers = [
      series('process.cpu.user', 'Process CPU (user)', '%', 'process', (c) => cpuPercent(c.cpu.user, c.elapsedMs)),
      series('process.cpu.system', 'Process CPU (system)', '%', 'process', (c) => cpuPercent(c.cpu.system, c.elapsedMs)),
      series('process.memory.rss', 'Process RSS', 'MiB', 'process', (c) => c.memory.rss / MIB),
      series('process.memory.heapUsed', 'JS heap used', 'MiB', 'process', (c) => c.memory.heapUsed / MIB),
      series('process.memory.external', 'External memory', 'MiB', 'process', (c) => c.memory.external / MIB),
      series('process.eventLoop.delay', 'Event-loop delay (mean)', 'ms', 'process', readDelay((h) => h.mean)),
      series('process.eventLoop.max', 'Event-loop delay (max)', 'ms', 'process', readDelay((h) => h.max)),
      series('machine.cpu', 'Machine CPU', '%', 'machine', machine),
      series('machine.load1', 'Load average (1 min)', '', 'machine', () => os.loadavg()[0]!),
      series('machine.memory.used', 'Machine memory used', '%', 'machine', () => 100 * (1 - os.freemem() / os.totalmem())),
      series('synthetic.sine', 'Sine, 0.5 Hz', '', 'synthetic', (c) => Math.sin(seconds(c) * Math.PI)),
      series('synthetic.square', 'Square, 0.25 Hz', '', 'synthetic', (c) => (Math.floor(seconds(c) * 0.5) % 2 === 0 ? 1 : -1)),
      series('synthetic.sawtooth', 'Sawtooth, 1 Hz', '', 'synthetic', (c) => 2 * (seconds(c) % 1) - 1),
      series('synthetic.noise', 'White noise', '', 'synthetic', () => random() * 2 - 1),
      series('synthetic.chirp', 'Chirp', '', 'synthetic', (c) => Math.sin(((seconds(c) % 10) ** 2) * Math.PI * 0.4)),
      series('synthetic.heartbeat', 'Heartbeat, 72 bpm', '', 'synthetic', (c) => heartbeat((seconds(c) * 72) / 60)),
    ];
    for (let i = 1; i <= SENSOR_COUNT; i++) {
      const name = String(i).padStart(2, '0');
      this.#readers.push(series(`synthetic.sensor${name}`, `Sensor ${name}`, '°C', 'synthetic', randomWalk(15, 35, 0.3, random)));
    }
    this.catalog = this.#readers.map((reader) => reader.info);
  }

  /** Reads every series once, in catalog order. */
  sample(): Float64Array {
    const nowMs = this.#now();
    const cpu = process.cpuUsage(this.#lastCpu);
    const context: SampleContext = { nowMs, elapsedMs: nowMs - this.#lastMs, cpu, memory: process.memoryUsage() };
    this.#lastMs = nowMs;
    this.#lastCpu = process.cpuUsage();
    const values = new Float64Array(this.#readers.length);
    for (let i = 0; i < this.#readers.length; i++) values[i] = this.#readers[i]!.read(context);
    this.#delay.reset();
    return values;
  }

  close(): void {
    this.#delay.disable();
  }
}

/** An ECG-like pulse: a sharp spike early in each beat, a small bump later, flat otherwise. */
function heartbeat(beats: number): number {
  const phase = beats % 1;
  if (phase < 0.05) return Math.sin((phase / 0.05) * Math.PI) * 1;
  if (phase > 0.3 && phase < 0.45) return Math.sin(((phase - 0.3) / 0.15) * Math.PI) * 0.25;
  return 0;
}
