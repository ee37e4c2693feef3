/**
 * LatencyHistogram (src/loadgen/latency-histogram.ts): HDR percentiles in microseconds, and
 * merging through the encoded form that worker processes send, which must be exact: the merge
 * of several histograms answers as one histogram of all their samples would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyHistogram } from '../../../src/loadgen/latency-histogram.js';

test('percentiles are those of the recorded values to three significant digits', () => {
  const h = new LatencyHistogram();
  for (let ms = 1; ms <= 1000; ms += 1) h.recordMs(ms);
  const s = h.summary();
  assert.equal(s.samples, 1000);
  for (const [value, expectedMs] of [[s.p50Us, 500], [s.p90Us, 900], [s.p99Us, 990], [s.p999Us, 999], [s.maxUs, 1000]] as const) {
    assert.ok(Math.abs(value! / 1000 - expectedMs) <= expectedMs * 0.001 + 0.001, `${value} µs against ${expectedMs} ms`);
  }
});

test('an empty histogram has no percentiles, and negative durations count as zero', () => {
  const h = new LatencyHistogram();
  assert.deepEqual(h.summary(), { samples: 0, p50Us: null, p90Us: null, p99Us: null, p999Us: null, p9999Us: null, maxUs: null, meanUs: null });
  assert.deepEqual(h.distribution(), []);
  h.recordMs(-3);
  assert.equal(h.summary().maxUs, 0);
});

test('histograms merged through their encoded form answer exactly as one histogram of all samples', () => {
  const all = new LatencyHistogram();
  const parts = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
  for (let i = 0; i < 30_000; i += 1) {
    // A long tail: most values small, a few near a second.
    const ms = i % 1000 === 0 ? 900 + (i % 97) : 0.05 + ((i * 7919) % 5000) / 1000;
    all.recordMs(ms);
    parts[i % 3]!.recordMs(ms);
  }
  const merged = new LatencyHistogram();
  for (const part of parts) merged.add(part.encode());
  assert.deepEqual(merged.summary(), all.summary());
  assert.deepEqual(merged.distribution(), all.distribution());
  assert.deepEqual(LatencyHistogram.decode(all.encode()).summary(), all.summary());
});

test('the percentile distribution climbs towards the tail and ends at the maximum', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 10_000; i += 1) h.recordMs(i / 100);
  const points = h.distribution();
  assert.equal(points[0]![0], 0);
  assert.deepEqual(points.at(-1), [100, h.summary().maxUs]);
  for (let i = 1; i < points.length; i += 1) {
    assert.ok(points[i]![0] > points[i - 1]![0], 'percentiles increase');
    assert.ok(points[i]![1] >= points[i - 1]![1], 'latencies do not decrease');
  }
  assert.ok(points.some(([p]) => p > 99.9), 'the tail is drawn');
});
