/**
 * `npm run chaos -- --seconds N [--clients C] [--channels K] [--seed S]`: the chaos run of
 * test/realtime/chaos.ts for longer, by hand. Prints one summary line; exits 1 if anything was
 * lost, duplicated or reordered.
 */
import { parseArgs } from 'node:util';
import { runChaos, summary } from './chaos.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    clients: { type: 'string' },
    channels: { type: 'string' },
    seed: { type: 'string' },
  },
});
const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const result = await runChaos({
  seconds: Number(values.seconds),
  clients: number(values.clients),
  channels: number(values.channels),
  seed: number(values.seed),
});
console.log(summary(result));
process.exit(result.lost + result.duplicated + result.reordered === 0 ? 0 : 1);
