// Wiring only: resolver → metrics and pool → sync path → server → `listening`, then in the background the
// queue → accept path, calls API, dashboard and in-process worker. The CLI (and `whippet up`) pass the
// config and hook signals to drain(); nothing here reads process.env or process.argv.
//
// Listening comes first because the first /function/ call needs none of the second half (~100 ms of
// loading and opening at start). Until the queue is open, the routes that need it wait for it: an async
// accept is a durable write that is a few milliseconds from possible, so it waits rather than being refused;
// /healthz waits for the queue to exist and then asks it, so it never answers healthy before it is.

import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../common/log.js';
import type { RouterConfig } from './config.js';
import { withRequestApi } from './dispatcher-api.js';
import { createCountedNames } from './counted-names.js';
import { createRouterMetrics, registerQueueDepth, type RouterMetrics } from './metrics.js';
import { awaitConnected, createConfiguredQueue } from './open-queue.js';
import type { Queue } from './queue/index.js';
import type { FunctionLogs } from './function-logs.js';
import { createResolver, type FunctionResolver } from './resolver.js';
import { RouterServer, type AsyncHook, type SharedFigures, type SystemRoutes } from './server.js';
import { createUpstreamDispatcher } from './upstream.js';
import type { UiMount, UiRoutes } from './ui/dashboard.js';
import type { RunningWorker } from './worker/main.js';

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
  /** The queue as this router uses it, made from the one it opened (a cluster worker hands SQLite accepts to the primary). */
  readonly queueOf?: (queue: Queue) => Queue;
}

export interface RunningRouter {
  readonly port: number;
  readonly url: string;
  /**
   * Resolves once the queue is open and the accept path, calls API, dashboard and in-process worker run.
   * Rejects when they cannot start, the router having closed itself: the caller exits non-zero with it.
   */
  readonly ready: Promise<void>;
  /**
   * The server drains while the in-process worker finishes its calls (both within write_timeout), then
   * the queue closes (pending accepts are committed first) and the shared pool last. A second call
   * returns the first drain. Called while the queue is still opening, it lets the open finish first.
   */
  drain(signal: 'SIGTERM' | 'SIGINT'): Promise<void>;
}

/** What the background half of the start makes. */
interface AsyncSide {
  readonly async: AsyncHook;
  readonly calls: SystemRoutes;
  /** undefined with dashboard=false. */
  readonly ui: UiMount | undefined;
  readonly worker: RunningWorker | undefined;
}

/**
 * How long /healthz waits for a queue still being opened before it answers unhealthy: a SQLite file opens in
 * milliseconds (seconds on a host under load), a NATS queue exists at once and then says whether it is connected.
 */
const HEALTH_WAIT_MS = 5_000;

/** Start a router; resolves once it listens (see `ready` for the rest), rejects (having cleaned up) when it cannot. */
export async function startRouter(config: RouterConfig, deps: RouterDeps): Promise<RunningRouter> {
  const { log } = deps;
  const resolver = createResolver(config, deps.resolvers);
  const metrics = deps.metrics ?? createRouterMetrics();
  const dispatcher = withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: config.upstreamTimeoutMs }));
  const names = createCountedNames(resolver, log);
  const stopping = new AbortController();
  let queue: Queue | undefined;
  let created!: (q: Queue | undefined) => void;
  const queueCreated = new Promise<Queue | undefined>((resolve) => { created = resolve; });

  const startAsyncSide = async (): Promise<AsyncSide> => {
    // The queue first (/healthz waits for it), then the modules, loaded here rather than imported above:
    // none of them is on the first sync call's path.
    try {
      const opened = await createConfiguredQueue(config, log);
      queue = deps.queueOf?.(opened) ?? opened;
    } finally {
      created(queue);
    }
    const [{ createAsyncHandler }, { createCallsApi }, dashboard, inProcess] = await Promise.all([
      import('./async/handler.js'), import('./async/calls-api.js'), config.dashboard ? import('./ui/dashboard.js') : undefined,
      config.asyncWorker ? Promise.all([import('./worker/main.js'), import('./worker/options.js')]) : undefined,
    ]);
    await awaitConnected(queue, log, stopping.signal);
    if (deps.queueDepth !== false) registerQueueDepth(metrics.registry, queue);
    const worker = inProcess !== undefined && !stopping.signal.aborted
      ? await inProcess[0].startWorker(inProcess[1].workerConfigOf(config), {
        log: log.child({ component: 'worker' }), resolver, functionLimit: deps.functionLimit, host: { queue, dispatcher, metrics },
      })
      : undefined;
    log.info('async calls enabled', { queue: queue.backend, worker: worker !== undefined, maxInflight: worker === undefined ? undefined : config.maxInflight });
    return {
      async: createAsyncHandler(config, { queue, resolver, log, metrics, names }),
      calls: createCallsApi(queue, config.functionNamespace),
      ui: dashboard?.createDashboard({ queue, logs: deps.functionLogs }),
      worker,
    };
  };

  let asyncSide: Promise<AsyncSide> | undefined;
  const side = (): Promise<AsyncSide> => (asyncSide ??= startAsyncSide());
  let uiRoutes: UiRoutes | undefined;
  let uiContext: Parameters<UiMount>[0] | undefined;
  const server = new RouterServer(config, {
    resolver, log, metrics, dispatcher, names, stats: deps.shared?.stats, shared: deps.shared,
    async: {
      handle: async (req, res, match) => (await side()).async.handle(req, res, match),
      healthy: async () => {
        const q = await Promise.race([queueCreated, delay(HEALTH_WAIT_MS, undefined, { ref: false })]);
        return q === undefined ? false : (await q.health()).ok;
      },
    },
    systemRoutes: { handle: async (req, res, path, query) => (await side()).calls.handle(req, res, path, query) },
    ui: !config.dashboard ? undefined : (ctx) => {
      uiContext = ctx;
      return {
        handle: async (req, res, path, query) => {
          const { ui } = await side();
          return (uiRoutes ??= ui!(uiContext!)).handle(req, res, path, query);
        },
        close: () => uiRoutes?.close(),
      };
    },
    functionLogs: deps.functionLogs,
    orchestration: deps.resolvers !== undefined && deps.resolvers.length > 0 ? 'whippet up'
      : config.functionUrlTemplate !== undefined ? 'function_url_template' : 'functions',
  });

  let listened: { port: number; url: string };
  try {
    listened = await server.listen(config.port, deps.host);
  } catch (err) {
    await server.close(0);
    await dispatcher.close();
    throw err;
  }
  const { port, url } = listened;
  log.info(deps.listeningMessage ?? 'listening', {
    port, url, queue: config.queue, functions: resolver.list().map((fn) => fn.name).join(',') || undefined,
    template: config.functionUrlTemplate, upstreamTimeoutMs: config.upstreamTimeoutMs,
  });

  // Each once: a drain and a failed start may both get here.
  let serverClosed: Promise<void> | undefined;
  const closeServer = (graceMs: number): Promise<void> => (serverClosed ??= server.close(graceMs));
  let closed: Promise<void> | undefined;
  const closeRest = (worker: RunningWorker | undefined, signal: 'SIGTERM' | 'SIGINT', graceMs: number): Promise<void> => (closed ??= (async () => {
    await Promise.all([closeServer(graceMs), worker?.drain(signal)]);
    await queue?.close();
    await dispatcher.close();
  })());
  // The dashboard's samplers are made on its first request, after the queue: mount it now so that it samples
  // from the start, as it would without the deferred half.
  const ready = side().then((s) => { if (uiContext !== undefined && s.ui !== undefined) uiRoutes ??= s.ui(uiContext); }).catch(async (err: unknown) => {
    await closeRest(undefined, 'SIGINT', 0);
    throw err;
  });
  ready.catch(() => {}); // the caller takes the failure from `ready`; a drain must not see it as unhandled

  let drained: Promise<void> | undefined;
  const drain = async (signal: 'SIGTERM' | 'SIGINT'): Promise<void> => {
    log.info('shutting down', { signal, graceMs: config.writeTimeoutMs });
    stopping.abort();
    void closeServer(config.writeTimeoutMs); // stop accepting now, even while the queue is still opening
    const s = await side().catch(() => undefined);
    await closeRest(s?.worker, signal, config.writeTimeoutMs);
    log.info('stopped');
  };
  return { port, url, ready, drain: (signal) => (drained ??= drain(signal)) };
}
