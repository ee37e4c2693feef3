/**
 * `npm run chaos -- --seconds N [--clients C] [--channels K] [--seed S] [--engine memory|redis|redis-cluster]`:
 * the chaos run of test/realtime/chaos.ts for longer, by hand, on the chosen engine. Prints one summary line; exits 1 if anything was
 * lost, duplicated or reordered.
 */
import { parseArgs } from 'node:util';
import { CHAOS_ENGINES, runChaos, summary, type ChaosEngine } from './chaos.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    clients: { type: 'string' },
    channels: { type: 'string' },
    seed: { type: 'string' },
    engine: { type: 'string', default: 'memory' },
  },
});
if (!CHAOS_ENGINES.includes(values.engine as ChaosEngine)) {
  console.error(`--engine must be one of ${CHAOS_ENGINES.join(', ')}`);
  process.exit(2);
}
const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const result = await runChaos({
  seconds: Number(values.seconds),
  clients: number(values.clients),
  channels: number(values.channels),
  seed: number(values.seed),
  engine: values.engine as ChaosEngine,
});
console.log(summary(result));
process.exit(result.lost + result.duplicated + result.reordered === 0 ? 0 : 1);
