// Medians over rounds, ratios to the reference implementations of the same run, and the
// latency of one round from its load generators' HDR histograms.
import * as hdr from 'hdr-histogram-js';

/**
 * What a scenario's ratios divide by, unless it names its own (the channel scenario divides by
 * plain topics and socket.io): `key` in the results, the implementation `id`, the table's `label`.
 */
export const REFERENCES = [
  { key: 'vsWs', id: 'ws', label: '× ws' },
  { key: 'vsUws', id: 'uws', label: '× uWS' },
];

export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const SUMMED = new Set(['errors']);

/** Median of every numeric field over the rounds that completed; errors are added up. */
export function summarizeRounds(rounds) {
  const ok = rounds.filter((r) => !r.failed);
  const keys = new Set(ok.flatMap((r) => Object.keys(r)));
  const out = { rounds: rounds.length, failedRounds: rounds.length - ok.length };
  for (const key of keys) {
    const values = ok.map((r) => r[key]);
    if (!values.some((v) => typeof v === 'number')) continue;
    out[key] = SUMMED.has(key) ? values.reduce((a, b) => a + (b ?? 0), 0) : round(median(values));
  }
  out.errors = (out.errors ?? 0) + (rounds.length - ok.length);
  return out;
}

export function round(value) {
  if (value === null || value === undefined) return null;
  const magnitude = Math.abs(value);
  const digits = magnitude >= 1000 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  return Number(value.toFixed(digits));
}

/** For each scenario metric, value / reference value, from the same run. */
export function ratios(results, metrics, references = REFERENCES) {
  for (const entry of Object.values(results)) {
    entry.ratios = {};
    for (const { key: name, id } of references) {
      const ref = results[id]?.median;
      if (!ref || !entry.median) continue;
      entry.ratios[name] = {};
      for (const { key } of metrics) {
        const a = entry.median[key];
        const b = ref[key];
        entry.ratios[name][key] = typeof a === 'number' && typeof b === 'number' && b !== 0 ? Number((a / b).toFixed(3)) : null;
      }
    }
    if (Object.keys(entry.ratios).length === 0) delete entry.ratios;
  }
}

/**
 * The load generators' histograms (HdrHistogram's compressed base64, microseconds) merged:
 * the percentiles of all their samples together.
 */
export function mergeLatency(encoded) {
  const merged = hdr.build({ useWebAssembly: false });
  for (const text of encoded) if (text) merged.add(hdr.decodeFromCompressedBase64(text, 32, false));
  if (merged.totalCount === 0) return { samples: 0, p50Us: null, p99Us: null, p999Us: null, maxUs: null, meanUs: null };
  return {
    samples: merged.totalCount,
    p50Us: merged.getValueAtPercentile(50),
    p99Us: merged.getValueAtPercentile(99),
    p999Us: merged.getValueAtPercentile(99.9),
    maxUs: merged.getValueAtPercentile(100),
    meanUs: round(merged.mean),
  };
}
