/**
 * Registers a MetricsCollector's families into a prom-client Registry, so that an application
 * that already exposes prom-client metrics exposes ours beside them. prom-client stays the
 * application's (an optional peer dependency): this file only meets its Registry's shape
 * (registerMetric, removeSingleMetric) and gives it objects of its metrics' shape (name, help,
 * type, get()).
 * Must not: import prom-client, or collect more than once per scrape.
 */
import type { MetricsCollector } from './metrics-collector.js';
import type { MetricFamily } from './metric-family.js';

/** What we use of a prom-client Registry. */
export interface PromClientRegistry {
  registerMetric(metric: unknown): void;
  removeSingleMetric(name: string): void;
}

interface PromValue {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

/**
 * Adds every family of `collector` to `registry`; returns a function that removes them. Each
 * scrape collects once (the families are kept until the end of that turn of the event loop).
 */
export function registerMetrics(registry: PromClientRegistry, collector: MetricsCollector): () => void {
  let cached: Map<string, MetricFamily> | null = null;
  const current = (): Map<string, MetricFamily> => {
    if (cached === null) {
      cached = new Map(collector.families().map((family) => [family.name, family]));
      setImmediate(() => {
        cached = null;
      });
    }
    return cached;
  };
  const names: string[] = [];
  for (const family of collector.families()) {
    const { name, help, type } = family;
    names.push(name);
    registry.registerMetric({
      name,
      help,
      type,
      aggregator: 'sum',
      get() {
        const now = current().get(name);
        const values: PromValue[] = (now?.samples ?? []).map((sample) => {
          const value: PromValue = { value: sample.value, labels: { ...sample.labels } };
          if (sample.suffix) value.metricName = name + sample.suffix;
          return value;
        });
        return { name, help, type, values, aggregator: 'sum' };
      },
      reset() {},
    });
  }
  return () => {
    for (const name of names) registry.removeSingleMetric(name);
  };
}
