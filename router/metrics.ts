// Prometheus metrics under the OpenFaaS gateway's names and labels, so existing dashboards work.
// The registry is exported through `RouterMetrics` so the queue and worker add theirs to it.

import { createRequire } from 'node:module';
import type { Counter, Gauge as GaugeType, Histogram, Registry } from 'prom-client';
import type * as Prom from 'prom-client';
import type { Queue } from './queue/index.js';

// prom-client's index also loads the Summary, the Pushgateway (https) and, through the default metrics,
// @opentelemetry/api: ~45 ms and ~8 MB of a start whose first answer needs only these four classes (as the
// watchdog does, watchdog/metrics.ts). prom-client 15 has no `exports` map; each module exports its class.
const require = createRequire(import.meta.url);
/** The prom-client classes without its index; router/worker/metrics.ts can take Counter from here too. */
export const prom = {
  Registry: require('prom-client/lib/registry') as typeof Prom.Registry,
  Counter: require('prom-client/lib/counter') as typeof Prom.Counter,
  Gauge: require('prom-client/lib/gauge') as typeof Prom.Gauge,
  Histogram: require('prom-client/lib/histogram') as typeof Prom.Histogram,
};

/**
 * The default process metrics (process_*, nodejs_*) are registered on the registry's first read (a scrape,
 * or a cluster primary collecting), which nobody waits for: a router nobody scrapes never loads them.
 */
function withDefaultsOnFirstRead(registry: Registry): Registry {
  let added = false;
  const addDefaults = (): void => {
    if (added) return;
    added = true;
    (require('prom-client/lib/defaultMetrics') as typeof Prom.collectDefaultMetrics)({ register: registry });
  };
  const metrics = registry.metrics.bind(registry);
  const asJson = registry.getMetricsAsJSON.bind(registry);
  registry.metrics = () => { addDefaults(); return metrics(); };
  registry.getMetricsAsJSON = () => { addDefaults(); return asJson(); };
  return registry;
}

export interface RouterMetrics {
  readonly registry: Registry;
  readonly invocationTotal: Counter<'function_name' | 'code'>;
  readonly functionSeconds: Histogram<'function_name' | 'code'>;
  readonly invocationStarted: Counter<'function_name'>;
}

/** A fresh registry with the gateway metrics (and Node process metrics unless `defaults` is false). */
export function createRouterMetrics(options: { defaults?: boolean } = {}): RouterMetrics {
  const registry = new prom.Registry();
  if (options.defaults !== false) withDefaultsOnFirstRead(registry);
  return {
    registry,
    invocationTotal: new prom.Counter({
      name: 'gateway_function_invocation_total',
      help: 'Function invocations completed, by function and status code',
      labelNames: ['function_name', 'code'],
      registers: [registry],
    }),
    functionSeconds: new prom.Histogram({
      name: 'gateway_functions_seconds',
      help: 'Function invocation time taken, by function and status code',
      labelNames: ['function_name', 'code'],
      registers: [registry],
    }),
    invocationStarted: new prom.Counter({
      name: 'gateway_function_invocation_started',
      help: 'Function invocations started',
      labelNames: ['function_name'],
      registers: [registry],
    }),
  };
}

/** queue_depth{function_name,status}: asked from the queue at every scrape (rows with 0 are left out). */
export function registerQueueDepth(registry: Registry, queue: Queue): void {
  new prom.Gauge({
    name: 'queue_depth',
    help: 'Async calls in the queue by function and status (final statuses count records still kept)',
    labelNames: ['function_name', 'status'],
    registers: [registry],
    async collect(this: GaugeType<'function_name' | 'status'>) {
      this.reset();
      // A scrape must not fail because the queue is away: /healthz says that.
      const rows = await queue.depth().catch(() => []);
      for (const row of rows) this.set({ function_name: row.functionName, status: row.status }, row.count);
    },
  });
}
