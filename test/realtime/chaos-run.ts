/**
 * `npm run chaos -- --seconds N [--clients C] [--channels K] [--seed S] [--engine memory|redis|redis-cluster]
 *  [--processes P [--lose-redis-data]]`: the chaos run of test/realtime/chaos.ts for longer, by hand, on the
 * chosen engine; with --processes (Redis engine only) the multi-process run of test/realtime/chaos-processes.ts
 * (P server processes behind one proxy, one killed and restarted, Redis restarted with its data, or without
 * it with --lose-redis-data). Prints one summary line; exits 1 if anything was lost, duplicated or reordered.
 */
import { parseArgs } from 'node:util';
import { CHAOS_ENGINES, runChaos, summary, type ChaosEngine } from './chaos.js';
import { runProcessChaos } from './chaos-processes.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    clients: { type: 'string' },
    channels: { type: 'string' },
    seed: { type: 'string' },
    engine: { type: 'string', default: 'memory' },
    processes: { type: 'string' },
    'lose-redis-data': { type: 'boolean', default: false },
  },
});
if (!CHAOS_ENGINES.includes(values.engine as ChaosEngine)) {
  console.error(`--engine must be one of ${CHAOS_ENGINES.join(', ')}`);
  process.exit(2);
}
const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const processes = number(values.processes);
if (processes !== undefined && (values.engine !== 'redis' || !Number.isInteger(processes) || processes < 2)) {
  console.error('--processes needs --engine redis and a whole number of at least 2');
  process.exit(2);
}
const common = { seconds: Number(values.seconds), clients: number(values.clients), channels: number(values.channels), seed: number(values.seed) };
const result =
  processes === undefined
    ? await runChaos({ ...common, engine: values.engine as ChaosEngine })
    : await runProcessChaos({ ...common, processes, keepRedisData: !values['lose-redis-data'] });
console.log(summary(result));
const misreported = result.misreported ?? 0;
process.exit(result.lost + result.duplicated + result.reordered + misreported === 0 ? 0 : 1);
