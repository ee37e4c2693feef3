// A log-linear latency histogram in the manner of HdrHistogram: values below 2^SUB_BITS are
// counted exactly; above, every power of two is split into 2^(SUB_BITS-1) equal buckets, so a
// recorded value is known to within 1/128 (0.8%) whatever its size. Counts are a plain array,
// so histograms from several generator processes merge by adding them.
//
// Values are recorded in units of 0.1 microsecond (so 2^31 units is 214 s, the largest value).

const SUB_BITS = 8;
const HALF = 1 << (SUB_BITS - 1);
const MAX_VALUE = 2 ** 31 - 1;
export const BUCKETS = (31 - SUB_BITS + 1) * HALF + HALF;
export const UNITS_PER_MS = 10_000;

function bucketOf(value) {
  if (value < 1 << SUB_BITS) return value;
  const shift = 31 - Math.clz32(value) - (SUB_BITS - 1);
  return shift * HALF + (value >>> shift);
}

/** The middle of a bucket, in units. */
function valueOf(bucket) {
  if (bucket < 1 << SUB_BITS) return bucket;
  const shift = Math.floor(bucket / HALF) - 1;
  const low = (bucket - shift * HALF) * 2 ** shift;
  return low + (2 ** shift - 1) / 2;
}

export class Histogram {
  counts = new Float64Array(BUCKETS);
  total = 0;
  max = 0;
  sum = 0;

  /** Records a duration given in milliseconds (as performance.now() differences are). */
  recordMs(ms) {
    let units = Math.round(ms * UNITS_PER_MS);
    if (units < 0) units = 0;
    else if (units > MAX_VALUE) units = MAX_VALUE;
    this.counts[bucketOf(units)] += 1;
    this.total += 1;
    this.sum += units;
    if (units > this.max) this.max = units;
  }

  reset() {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
    this.sum = 0;
  }

  /** A compact form for IPC: only the non-empty buckets. */
  toJSON() {
    const buckets = [];
    for (let i = 0; i < BUCKETS; i += 1) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { buckets, total: this.total, max: this.max, sum: this.sum };
  }

  static fromJSON(data) {
    const h = new Histogram();
    h.add(data);
    return h;
  }

  /** Adds another histogram (or its JSON form) into this one. */
  add(other) {
    const data = other instanceof Histogram ? other.toJSON() : other;
    for (const [i, n] of data.buckets) this.counts[i] += n;
    this.total += data.total;
    this.sum += data.sum;
    if (data.max > this.max) this.max = data.max;
  }

  /** The value at quantile q (0..1), in microseconds; null when nothing was recorded. */
  quantileUs(q) {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i += 1) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(valueOf(i), this.max) / 10;
    }
    return this.max / 10;
  }

  summary() {
    if (this.total === 0) return { samples: 0, p50Us: null, p99Us: null, p999Us: null, maxUs: null, meanUs: null };
    return {
      samples: this.total,
      p50Us: round(this.quantileUs(0.5)),
      p99Us: round(this.quantileUs(0.99)),
      p999Us: round(this.quantileUs(0.999)),
      maxUs: round(this.max / 10),
      meanUs: round(this.sum / this.total / 10),
    };
  }
}

function round(us) {
  return Math.round(us * 10) / 10;
}
