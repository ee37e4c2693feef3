/**
 * Run settings shared by the properties: a fixed seed so a failure reproduces, a small default
 * number of runs so the suite stays fast, and FUZZ_RUNS to ask for a longer run
 * (FUZZ_RUNS=20000 npm run test:fuzz). FUZZ_SEED overrides the seed.
 */
import fc from 'fast-check';

const envRuns = Number(process.env['FUZZ_RUNS']);
const envSeed = Number(process.env['FUZZ_SEED']);

export const SEED = Number.isInteger(envSeed) && process.env['FUZZ_SEED'] !== undefined ? envSeed : 6455;

/** `defaultRuns` normally; FUZZ_RUNS (scaled by `weight` for costly properties) when set. */
export function runs(defaultRuns: number, weight = 1): number {
  if (Number.isInteger(envRuns) && envRuns > 0) return Math.max(1, Math.round(envRuns * weight));
  return defaultRuns;
}

export function assertProperty<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>, numRuns: number): void {
  fc.assert(property, { seed: SEED, numRuns, includeErrorInReport: true });
}
