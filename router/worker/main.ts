// Wiring only: queue → pool → metrics → loop → status server → `listening`. Standalone (`whippet
// worker`) the worker owns all of them; inside a router it borrows the router's queue, pool and registry
// and serves nothing itself. Nothing here reads process.env or process.argv.

import type { Dispatcher } from 'undici';
import type { Logger } from '../../common/log.js';
import { withRequestApi } from '../dispatcher-api.js';
import { createRouterMetrics, registerQueueDepth, type RouterMetrics } from '../metrics.js';
import { openQueue } from '../open-queue.js';
import type { Queue } from '../queue/index.js';
import { createResolver, type FunctionResolver } from '../resolver.js';
import { createUpstreamDispatcher } from '../upstream.js';
import { createCallbackDispatcher } from './callback-dispatcher.js';
import { WorkerLoop } from './loop.js';
import { createWorkerMetrics } from './metrics.js';
import type { WorkerConfig } from './options.js';
import { startStatusServer } from './status-server.js';

/** What a router lends its in-process worker; the router closes them, the worker does not. */
export interface WorkerHost {
  readonly queue: Queue;
  readonly dispatcher: Dispatcher;
  readonly metrics: RouterMetrics;
}

export interface WorkerDeps {
  readonly log: Logger;
  /** Defaults to the config's `functions` and `function_url_template`. */
  readonly resolver?: FunctionResolver;
  /** Per-function concurrency (a stack file's); undefined = max_inflight only. */
  readonly functionLimit?: (functionName: string) => number | undefined;
  readonly host?: WorkerHost;
}

export interface RunningWorker {
  /** Port of /healthz and /metrics; undefined inside a router. */
  readonly port: number | undefined;
  inflight(): number;
  /** Stop leasing, give in-flight calls write_timeout, close what the worker owns; a second call returns the first drain. */
  drain(signal: 'SIGTERM' | 'SIGINT'): Promise<void>;
}

/** The queue's stored result limit: the most of one result the worker holds in memory. */
function storedResultLimit(queue: Queue): number | undefined {
  const limit = (queue as { maxResultBytes?: unknown }).maxResultBytes;
  return typeof limit === 'number' ? limit : undefined;
}

/** Start a queue-worker; rejects (having cleaned up) when it cannot start. */
export async function startWorker(config: WorkerConfig, deps: WorkerDeps): Promise<RunningWorker> {
  const { log, host } = deps;
  const resolver = deps.resolver ?? createResolver(config);
  const queue = host?.queue ?? await openQueue(config, log);
  const metrics = host?.metrics ?? createRouterMetrics();
  if (host === undefined) registerQueueDepth(metrics.registry, queue);
  const dispatcher = host?.dispatcher ?? withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: config.upstreamTimeoutMs }));
  const callbackDispatcher = createCallbackDispatcher({ timeoutMs: config.upstreamTimeoutMs, allowLinkLocal: config.callbackAllowLinkLocal });
  const loop = new WorkerLoop(config, {
    queue, resolver, dispatcher, callbackDispatcher, log, functionLimit: deps.functionLimit, maxResultBytes: storedResultLimit(queue),
    metrics: createWorkerMetrics(metrics.registry), gatewayMetrics: metrics,
  });
  const closeOwned = async (): Promise<void> => {
    await callbackDispatcher.close();
    if (host !== undefined) return;
    await queue.close();
    await dispatcher.close();
  };
  let status: Awaited<ReturnType<typeof startStatusServer>> | undefined;
  try {
    if (host === undefined) status = await startStatusServer(config.port, queue, metrics.registry);
  } catch (err) {
    await loop.stop(0);
    await closeOwned();
    throw err;
  }
  if (status !== undefined) {
    log.info('listening', {
      port: status.port, url: `http://127.0.0.1:${status.port}`, queue: queue.backend, maxInflight: config.maxInflight,
      functions: resolver.list().map((fn) => fn.name).join(',') || undefined, template: config.functionUrlTemplate,
    });
  }
  let drained: Promise<void> | undefined;
  const drain = async (signal: 'SIGTERM' | 'SIGINT'): Promise<void> => {
    if (host === undefined) log.info('shutting down', { signal, graceMs: config.writeTimeoutMs, inflight: loop.inflight() });
    await loop.stop(config.writeTimeoutMs);
    status?.server.close();
    status?.server.closeAllConnections();
    await closeOwned();
    if (host === undefined) log.info('stopped');
  };
  return {
    port: status?.port,
    inflight: () => loop.inflight(),
    drain: (signal) => (drained ??= drain(signal)),
  };
}
