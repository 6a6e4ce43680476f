// Prometheus metrics on their own port (metrics_port), with OpenFaaS's names. prom-client is loaded only when
// metrics are on, and only the parts the request path needs before `listen`: its index also loads the
// Summary, the Pushgateway (https) and, through the default metrics, @opentelemetry/api, ~45 ms of a start
// that is otherwise ~10 ms of our own code. The default process metrics (process_*, nodejs_*) are loaded on
// the first scrape, which nobody waits for.

import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type * as Prom from 'prom-client';
import { DatedResponse } from '../common/dated-response.js';

/** What the request path records; a no-op implementation is used when metrics are off. */
export interface Metrics {
  requestStarted(): void;
  /** `method` is lowercased, as Go's promhttp labels it. */
  requestFinished(method: string, code: number, seconds: number): void;
  readonly port: number;
  close(): Promise<void>;
}

export const NO_METRICS: Metrics = {
  requestStarted() {},
  requestFinished() {},
  port: 0,
  async close() {},
};

/** Distinct (code, method) pairs whose label children are kept; methods come from clients, so it is bounded. */
const MAX_CACHED_SERIES = 256;

// prom-client 15 has no `exports` map; its index is a list of these requires. Each module exports its class.
const require = createRequire(import.meta.url);
interface PromParts {
  Registry: typeof Prom.Registry;
  Counter: typeof Prom.Counter;
  Gauge: typeof Prom.Gauge;
  Histogram: typeof Prom.Histogram;
}
function loadPromParts(): PromParts {
  return {
    Registry: require('prom-client/lib/registry') as typeof Prom.Registry,
    Counter: require('prom-client/lib/counter') as typeof Prom.Counter,
    Gauge: require('prom-client/lib/gauge') as typeof Prom.Gauge,
    Histogram: require('prom-client/lib/histogram') as typeof Prom.Histogram,
  };
}

/** Start the metrics server on `port` (127.0.0.1 is not assumed: Prometheus scrapes from outside). */
export async function startMetrics(port: number): Promise<Metrics> {
  const prom = loadPromParts();
  const registry = new prom.Registry();
  const total = new prom.Counter({ name: 'http_requests_total', help: 'Requests served, by status code and method', labelNames: ['code', 'method'], registers: [registry] });
  const duration = new prom.Histogram({ name: 'http_request_duration_seconds', help: 'Time to serve a request', labelNames: ['code', 'method'], registers: [registry] });
  const children = new Map<string, { total: { inc(): void }; duration: { observe(v: number): void } }>();
  const inflight = new prom.Gauge({ name: 'http_requests_in_flight', help: 'Requests being served now', registers: [registry] });
  let defaults = false;
  const server: Server = createServer({ ServerResponse: DatedResponse }, (req, res) => {
    if (req.url !== '/metrics' && !req.url?.startsWith('/metrics?')) {
      res.writeHead(404).end();
      return;
    }
    if (!defaults) {
      defaults = true;
      (require('prom-client/lib/defaultMetrics') as typeof Prom.collectDefaultMetrics)({ register: registry });
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => { server.off('error', reject); resolve(); });
  });
  return {
    port: (server.address() as AddressInfo).port,
    requestStarted: () => inflight.inc(),
    requestFinished: (method, code, seconds) => {
      inflight.dec();
      // The children per (code, method) are kept: prom-client would hash the label object on every call.
      const key = `${code} ${method}`;
      let series = children.get(key);
      if (series === undefined) {
        const labels = { code: String(code), method: method.toLowerCase() };
        series = { total: total.labels(labels), duration: duration.labels(labels) };
        if (children.size < MAX_CACHED_SERIES) children.set(key, series);
      }
      series.total.inc();
      series.duration.observe(seconds);
    },
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
