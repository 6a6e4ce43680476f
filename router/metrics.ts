// Prometheus metrics under the OpenFaaS gateway's names and labels, so existing dashboards work.
// The registry is exported through `RouterMetrics` so the queue and worker add theirs to it.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from './queue/index.js';

export interface RouterMetrics {
  readonly registry: Registry;
  readonly invocationTotal: Counter<'function_name' | 'code'>;
  readonly functionSeconds: Histogram<'function_name' | 'code'>;
  readonly invocationStarted: Counter<'function_name'>;
}

/** A fresh registry with the gateway metrics (and Node process metrics unless `defaults` is false). */
export function createRouterMetrics(options: { defaults?: boolean } = {}): RouterMetrics {
  const registry = new Registry();
  if (options.defaults !== false) collectDefaultMetrics({ register: registry });
  return {
    registry,
    invocationTotal: new Counter({
      name: 'gateway_function_invocation_total',
      help: 'Function invocations completed, by function and status code',
      labelNames: ['function_name', 'code'],
      registers: [registry],
    }),
    functionSeconds: new Histogram({
      name: 'gateway_functions_seconds',
      help: 'Function invocation time taken, by function and status code',
      labelNames: ['function_name', 'code'],
      registers: [registry],
    }),
    invocationStarted: new Counter({
      name: 'gateway_function_invocation_started',
      help: 'Function invocations started',
      labelNames: ['function_name'],
      registers: [registry],
    }),
  };
}

/** queue_depth{function_name,status}: asked from the queue at every scrape (rows with 0 are left out). */
export function registerQueueDepth(registry: Registry, queue: Queue): void {
  new Gauge({
    name: 'queue_depth',
    help: 'Async calls in the queue by function and status (final statuses count records still kept)',
    labelNames: ['function_name', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      // A scrape must not fail because the queue is away: /healthz says that.
      const rows = await queue.depth().catch(() => []);
      for (const row of rows) this.set({ function_name: row.functionName, status: row.status }, row.count);
    },
  });
}
