/**
 * The HTTP handler that answers Prometheus scrapes with a MetricsCollector's text: GET and
 * HEAD get 200 in the text format 0.0.4, other methods 405. Mount it at /metrics (or anywhere).
 * Must not: route (the caller decides which requests reach it) or keep state.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MetricsCollector } from './metrics-collector.js';
import { PROMETHEUS_CONTENT_TYPE } from './metric-family.js';

export function createMetricsHandler(collector: MetricsCollector): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('405 Method Not Allowed\n');
      return;
    }
    const body = collector.text();
    response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
}
