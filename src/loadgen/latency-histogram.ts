/**
 * Latency in an HDR histogram (hdr-histogram-js): microseconds to 3 significant digits, from
 * 1 µs to an hour, so p99.99 and max are exact to 0.1%. Histograms of several processes travel
 * as HdrHistogram's compressed base64 form and merge by adding their counts: the merged
 * percentiles are those of all samples together, not an average of percentiles.
 * Must not: keep anything but counts (no samples), or know what was measured.
 */
import * as hdr from 'hdr-histogram-js';

const HIGHEST_US = 3_600_000_000;

/** The percentiles every report shows (in percent), and their keys in a summary. */
export const PERCENTILES = [
  { key: 'p50Us', percentile: 50, label: 'p50' },
  { key: 'p90Us', percentile: 90, label: 'p90' },
  { key: 'p99Us', percentile: 99, label: 'p99' },
  { key: 'p999Us', percentile: 99.9, label: 'p99.9' },
  { key: 'p9999Us', percentile: 99.99, label: 'p99.99' },
] as const;

export interface LatencySummary {
  samples: number;
  p50Us: number | null;
  p90Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  p9999Us: number | null;
  maxUs: number | null;
  meanUs: number | null;
}

function create(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, autoResize: false, useWebAssembly: false });
}

export class LatencyHistogram {
  #h: hdr.Histogram;

  constructor(histogram: hdr.Histogram = create()) {
    this.#h = histogram;
  }

  /** Records a duration in milliseconds (a performance.now() difference); clamped to [0, 1 h]. */
  recordMs(ms: number): void {
    const us = Math.round(ms * 1000);
    this.#h.recordValue(us < 0 ? 0 : us > HIGHEST_US ? HIGHEST_US : us);
  }

  get count(): number {
    return this.#h.totalCount;
  }

  reset(): void {
    this.#h.reset();
  }

  /** Adds another histogram's counts (or its encoded form) into this one. */
  add(other: LatencyHistogram | string): void {
    const source = typeof other === 'string' ? LatencyHistogram.decode(other) : other;
    if (source.count > 0) this.#h.add(source.#h);
  }

  /** HdrHistogram's compressed base64 encoding, for IPC and the JSON report. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.#h);
  }

  static decode(text: string): LatencyHistogram {
    const histogram = new LatencyHistogram();
    if (text !== '') histogram.#h.add(hdr.decodeFromCompressedBase64(text, 32, false));
    return histogram;
  }

  /** The value at `percentile` (0..100), in µs; null when nothing was recorded. */
  percentileUs(percentile: number): number | null {
    return this.count === 0 ? null : this.#h.getValueAtPercentile(percentile);
  }

  summary(): LatencySummary {
    const samples = this.count;
    const pick = (p: number): number | null => (samples === 0 ? null : this.#h.getValueAtPercentile(p));
    return {
      samples,
      p50Us: pick(50),
      p90Us: pick(90),
      p99Us: pick(99),
      p999Us: pick(99.9),
      p9999Us: pick(99.99),
      // The highest recorded value's bucket, as every percentile is (HdrHistogram's highest
      // equivalent value): the same whether or not the histogram was merged.
      maxUs: pick(100),
      meanUs: samples === 0 ? null : Math.round(this.#h.mean * 10) / 10,
    };
  }

  /**
   * The percentile distribution to plot: [percentile, µs] points, denser towards the tail
   * (50, 75, 87.5, ... as 1 - 1/2^k, with `perHalf` points between each), ending at 100 (max).
   */
  distribution(perHalf = 4): Array<[number, number]> {
    if (this.count === 0) return [];
    const points: Array<[number, number]> = [];
    for (let half = 0; half < 20; half += 1) {
      for (let step = 0; step < perHalf; step += 1) {
        const remaining = 0.5 ** (half + step / perHalf);
        const percentile = 100 * (1 - remaining);
        points.push([percentile, this.#h.getValueAtPercentile(percentile)]);
        if (remaining * this.count < 1) return [...points, [100, this.#h.getValueAtPercentile(100)]];
      }
    }
    return [...points, [100, this.#h.getValueAtPercentile(100)]];
  }
}
