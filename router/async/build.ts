// Compose the async half for a process: the queue, the /async-function handler, the calls API, the
// queue metrics and (optionally) an in-process worker, sharing one upstream pool and one registry
// with the sync router. Used by `whippet router`, `whippet worker` and `whippet up`.

import type { Dispatcher } from 'undici';
import type { Logger } from '../../common/log.js';
import type { RouterConfig } from '../config.js';
import { createRouterMetrics, type RouterMetrics } from '../metrics.js';
import { createQueue, queueMaxBodyBytes, type Queue } from '../queue/index.js';
import type { FunctionResolver } from '../resolver.js';
import type { AsyncHook, SystemRoutes } from '../server.js';
import { createUpstreamDispatcher } from '../upstream.js';
import { sharedView, withRequestApi } from '../worker/dispatcher-api.js';
import { startWorker, type Worker } from '../worker/worker.js';
import { createCallsApi } from './calls-api.js';
import { createAsyncHandler } from './handler.js';
import { createWorkerMetrics, registerQueueDepth } from './metrics.js';

/** The settings the worker reads (a subset of the router's table). */
export type WorkerConfig = Pick<RouterConfig,
  'queue' | 'ackWaitMs' | 'maxInflight' | 'retryHttpCodes' | 'initialRetryWaitMs' | 'maxRetryWaitMs' | 'maxRetryAttempts'
  | 'maxEventAgeMs' | 'callRetentionMs' | 'upstreamTimeoutMs' | 'callbackSecret'>;

export interface WorkerPartOptions {
  /** Per-function concurrency (a stack file's); undefined = max_inflight only. */
  readonly functionLimit?: (name: string) => number | undefined;
}

/** How long a start waits for a queue that connects in the background before listening without it. */
export const QUEUE_CONNECT_GRACE_MS = 5_000;

/** Open the queue a config names, with its timing settings. */
export async function openQueue(config: WorkerConfig, log?: Logger, graceMs = QUEUE_CONNECT_GRACE_MS): Promise<Queue> {
  const queue = await createQueue(config.queue, {
    ackWaitMs: config.ackWaitMs, maxEventAgeMs: config.maxEventAgeMs, callRetentionMs: config.callRetentionMs,
    // Routers and workers start in any order: a NATS that is not up yet makes calls 503, not the start fail.
    connectInBackground: true,
  });
  // But a NATS that is up should be connected before `listening`, or the first calls would get 503.
  const deadline = Date.now() + graceMs;
  for (;;) {
    const health = await queue.health();
    if (health.ok) break;
    if (Date.now() >= deadline) {
      log?.warn('starting without the queue; async calls get 503 until it is reachable', { queue: health.backend, reason: health.detail });
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return queue;
}

/** Start a worker on `queue` with the config's policy, counting into `metrics`' registry. */
export function startQueueWorker(
  config: WorkerConfig, queue: Queue, resolver: FunctionResolver, log: Logger,
  shared: { metrics: RouterMetrics; dispatcher: Dispatcher }, options: WorkerPartOptions = {},
): Worker {
  return startWorker({
    queue, resolver, dispatcher: withRequestApi(shared.dispatcher), log: log.child({ component: 'worker' }),
    maxInflight: config.maxInflight, functionLimit: options.functionLimit,
    metrics: createWorkerMetrics(shared.metrics.registry), gatewayMetrics: shared.metrics,
    settings: {
      ackWaitMs: config.ackWaitMs, upstreamTimeoutMs: config.upstreamTimeoutMs, retryHttpCodes: config.retryHttpCodes,
      maxRetryAttempts: config.maxRetryAttempts, initialRetryWaitMs: config.initialRetryWaitMs,
      maxRetryWaitMs: config.maxRetryWaitMs, callbackSecret: config.callbackSecret,
    },
  });
}

export interface AsyncRouterParts {
  readonly async: AsyncHook;
  readonly systemRoutes: SystemRoutes;
  readonly metrics: RouterMetrics;
  /** For createRouter: the shared pool, whose close() is left to this part's close(). */
  readonly dispatcher: Dispatcher;
  readonly queue: Queue;
  readonly worker: Worker | undefined;
  /** Stop the worker: no new leases, up to graceMs for in-flight calls (the router still accepts meanwhile). */
  stopWorker(graceMs: number): Promise<void>;
  /** Stop the worker if still running, then close the queue (pending accepts are committed first) and the pool. */
  close(graceMs?: number): Promise<void>;
}

/** Everything `whippet router` adds for async calls; `worker: false` only accepts (a separate `whippet worker` works). */
export async function buildAsyncRouter(
  config: RouterConfig, resolver: FunctionResolver, log: Logger, options: WorkerPartOptions & { worker: boolean },
): Promise<AsyncRouterParts> {
  const queue = await openQueue(config, log);
  const metrics = createRouterMetrics();
  const dispatcher = withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: config.upstreamTimeoutMs }));
  registerQueueDepth(metrics.registry, queue);
  const worker = options.worker ? startQueueWorker(config, queue, resolver, log, { metrics, dispatcher }, options) : undefined;
  log.info('async calls enabled', { queue: queue.backend, worker: options.worker, maxInflight: options.worker ? config.maxInflight : undefined });
  return {
    async: createAsyncHandler(asyncLimits(config, queue), { queue, resolver, log, metrics }),
    systemRoutes: createCallsApi(queue),
    metrics, dispatcher: sharedView(dispatcher), queue, worker,
    stopWorker: async (graceMs) => { await worker?.stop(graceMs); },
    async close(graceMs = config.writeTimeoutMs) {
      await worker?.stop(graceMs);
      await queue.close();
      await dispatcher.close();
    },
  };
}

/**
 * The handler's settings with the 413 limit at min(max_async_body, what the queue can carry). A getter,
 * read per request: NATS tells its max_payload only once connected, which may be after the start.
 */
function asyncLimits(config: RouterConfig, queue: Queue): Pick<RouterConfig, 'maxAsyncBodyBytes' | 'callbackAllow'> {
  return {
    callbackAllow: config.callbackAllow,
    get maxAsyncBodyBytes() { return Math.min(config.maxAsyncBodyBytes, queueMaxBodyBytes(queue) ?? Infinity); },
  };
}
