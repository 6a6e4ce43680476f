// Wiring only: resolver → queue → pool and registry → in-process worker → accept path → server →
// `listening`. The CLI (and `whippet up`) pass the config and hook signals to drain(); nothing here
// reads process.env or process.argv.

import type { Logger } from '../common/log.js';
import { createCallsApi } from './async/calls-api.js';
import { createAsyncHandler } from './async/handler.js';
import type { RouterConfig } from './config.js';
import { withRequestApi } from './dispatcher-api.js';
import { createCountedNames } from './counted-names.js';
import { createRouterMetrics, registerQueueDepth, type RouterMetrics } from './metrics.js';
import { openQueue } from './open-queue.js';
import type { Queue } from './queue/index.js';
import type { FunctionLogs } from './function-logs.js';
import { createResolver, type FunctionResolver } from './resolver.js';
import { RouterServer, type SharedFigures } from './server.js';
import { createUpstreamDispatcher } from './upstream.js';
import { createDashboard } from './ui/dashboard.js';
import { startWorker, type RunningWorker } from './worker/main.js';
import { workerConfigOf } from './worker/options.js';

export interface RouterDeps {
  readonly log: Logger;
  /** Consulted before the config's `functions` and `function_url_template` (`whippet up`'s stack). */
  readonly resolvers?: readonly FunctionResolver[];
  /** Per-function concurrency of the in-process worker (a stack file's); undefined = max_inflight only. */
  readonly functionLimit?: (functionName: string) => number | undefined;
  /** Interface to listen on; all by default. */
  readonly host?: string;
  /** The watchdogs' log lines (`whippet up`'s): GET /system/logs and the dashboard's tail; without: 501 there, "none" here. */
  readonly functionLogs?: FunctionLogs;
  /** A registry made by the caller (a cluster worker answers the primary's collect from it). */
  readonly metrics?: RouterMetrics;
  /** queue_depth on this router's /metrics (true); a cluster worker leaves it to the primary. */
  readonly queueDepth?: boolean;
  /** The start's log message; a cluster worker says `worker listening` and the primary `listening`. */
  readonly listeningMessage?: string;
  /** A cluster worker's figures of the whole router (router/cluster/): /metrics and the function counts. */
  readonly shared?: SharedFigures;
}

export interface RunningRouter {
  readonly port: number;
  readonly url: string;
  readonly queue: Queue;
  /**
   * The server drains while the in-process worker finishes its calls (both within write_timeout), then
   * the queue closes (pending accepts are committed first) and the shared pool last. A second call
   * returns the first drain.
   */
  drain(signal: 'SIGTERM' | 'SIGINT'): Promise<void>;
}

/** Start a router; rejects (having cleaned up) when it cannot start. */
export async function startRouter(config: RouterConfig, deps: RouterDeps): Promise<RunningRouter> {
  const { log } = deps;
  const resolver = createResolver(config, deps.resolvers);
  const queue = await openQueue(config, log);
  const metrics = deps.metrics ?? createRouterMetrics();
  if (deps.queueDepth !== false) registerQueueDepth(metrics.registry, queue);
  const dispatcher = withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: config.upstreamTimeoutMs }));
  let worker: RunningWorker | undefined;
  let server: RouterServer | undefined;
  try {
    if (config.asyncWorker) {
      worker = await startWorker(workerConfigOf(config), {
        log: log.child({ component: 'worker' }), resolver, functionLimit: deps.functionLimit, host: { queue, dispatcher, metrics },
      });
    }
    log.info('async calls enabled', { queue: queue.backend, worker: config.asyncWorker, maxInflight: worker === undefined ? undefined : config.maxInflight });
    const names = createCountedNames(resolver, log);
    server = new RouterServer(config, {
      resolver, log, metrics, dispatcher, names, stats: deps.shared?.stats, shared: deps.shared,
      async: createAsyncHandler(config, { queue, resolver, log, metrics, names }),
      systemRoutes: createCallsApi(queue),
      ui: createDashboard({ queue, logs: deps.functionLogs }),
      functionLogs: deps.functionLogs,
      orchestration: deps.resolvers !== undefined && deps.resolvers.length > 0 ? 'whippet up'
        : config.functionUrlTemplate !== undefined ? 'function_url_template' : 'functions',
    });
    const { port, url } = await server.listen(config.port, deps.host);
    log.info(deps.listeningMessage ?? 'listening', {
      port, url, queue: config.queue, functions: resolver.list().map((fn) => fn.name).join(',') || undefined,
      template: config.functionUrlTemplate, upstreamTimeoutMs: config.upstreamTimeoutMs,
    });
    const running = server;
    let drained: Promise<void> | undefined;
    const drain = async (signal: 'SIGTERM' | 'SIGINT'): Promise<void> => {
      log.info('shutting down', { signal, graceMs: config.writeTimeoutMs });
      await Promise.all([running.close(config.writeTimeoutMs), worker?.drain(signal)]);
      await queue.close();
      await dispatcher.close();
      log.info('stopped');
    };
    return { port, url, queue, drain: (signal) => (drained ??= drain(signal)) };
  } catch (err) {
    await server?.close(0);
    await worker?.drain('SIGINT');
    await queue.close();
    await dispatcher.close();
    throw err;
  }
}
