/**
 * fullduplex/metrics: the library's diagnostics channels read as metrics. A MetricsCollector
 * listens (no fields on sockets or servers; near nothing spent while nobody listens), and
 * exposes Prometheus text (`text()`, `createMetricsHandler`), registers into a prom-client
 * Registry (`registerMetrics`), and feeds the admin page (`createAdminHandler`).
 *   import { MetricsCollector, createMetricsHandler } from 'fullduplex/metrics';
 *   const metrics = new MetricsCollector();
 *   http.createServer((req, res) => req.url === '/metrics' ? createMetricsHandler(metrics)(req, res) : ...);
 * Must not: import the library's other layers; it listens by channel name.
 */
export { MetricsCollector, METRICS_DEFAULTS } from './metrics-collector.js';
export type { MetricsCollectorOptions, MetricsSnapshot } from './metrics-collector.js';
export { renderPrometheusText, PROMETHEUS_CONTENT_TYPE } from './metric-family.js';
export type { MetricFamily, MetricType, Sample } from './metric-family.js';
export { CHANNEL_NAMES } from './channel-names.js';
export type { CollectRequest, TrafficTotals, ServerGauges, RealtimeGauges } from './channel-names.js';
export { createMetricsHandler } from './metrics-handler.js';
export { registerMetrics } from './prom-client-bridge.js';
export type { PromClientRegistry } from './prom-client-bridge.js';
export { createAdminHandler, ADMIN_DEFAULTS, ADMIN_ERRORS } from './admin-handler.js';
export type { AdminOptions, AdminErrorCode, AdminSocket, AdminWebSocketServer, AdminRealtimeServer } from './admin-handler.js';
