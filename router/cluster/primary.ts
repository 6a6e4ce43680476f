// The primary of a multi-process router (`workers` > 1): it serves no HTTP itself. It forks the workers
// that share the listening port (node:cluster hands each new connection to the next worker in turn),
// replaces one that dies, runs the one in-process async worker and queue_depth (so neither runs once per
// process), commits the workers' async accepts on a SQLite queue (accepts.ts: the file keeps one writer),
// answers the workers' questions about the whole router (/metrics summed over every process, per-function
// counts), and on SIGTERM/SIGINT drains the workers (in-flight requests finish) and its own
// async worker before the queue closes.

import type { Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from '../../common/log.js';
import type { RouterConfig } from '../config.js';
import { withRequestApi } from '../dispatcher-api.js';
import type { RunningRouter } from '../main.js';
import { createRouterMetrics, registerQueueDepth } from '../metrics.js';
import { openQueue } from '../open-queue.js';
import { createResolver } from '../resolver.js';
import { createUpstreamDispatcher } from '../upstream.js';
import { startWorker, type RunningWorker } from '../worker/main.js';
import { workerConfigOf } from '../worker/options.js';
import { commitForwarded } from './accepts.js';
import { ANSWER_TIMEOUT_MS, isOurs, type Figure, type ToPrimary, type ToWorker } from './messages.js';
import { mergeStats, type StatsByName } from './stats.js';
import { WorkerSupervisor } from './supervisor.js';

export interface RunningPrimary extends RunningRouter {
  readonly supervisor: WorkerSupervisor;
  /** SIGKILL the workers (a second signal): nothing is left behind when the primary exits at once. */
  kill(): void;
}

/** Start the primary and its `config.workers` workers; resolves once every worker listens. */
export async function startRouterPrimary(config: RouterConfig, log: Logger): Promise<RunningPrimary> {
  const resolver = createResolver(config);
  const queue = await openQueue(config, log);
  const metrics = createRouterMetrics();
  registerQueueDepth(metrics.registry, queue);
  const dispatcher = withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: config.upstreamTimeoutMs }));
  const answers = new Map<string, (data: unknown) => void>();
  let nextId = 0;

  /** One worker's part of a figure, or undefined when it does not answer in time (starting, dying). */
  const collect = (worker: Worker, what: Figure): Promise<unknown> => new Promise((resolve) => {
    const id = nextId++;
    const key = `${worker.id}:${id}`;
    const timer = setTimeout(() => { answers.delete(key); resolve(undefined); }, ANSWER_TIMEOUT_MS);
    answers.set(key, (data) => { clearTimeout(timer); answers.delete(key); resolve(data); });
    const msg: ToWorker = { whippet: 'collect', id, what };
    try { worker.send(msg); } catch { answers.delete(key); clearTimeout(timer); resolve(undefined); }
  });
  const figure = async (what: Figure): Promise<unknown> => {
    const parts = await Promise.all(supervisor.workers().map((w) => collect(w, what)));
    if (what === 'stats') return mergeStats(parts.filter((p): p is StatsByName => p !== undefined));
    // Counters and histograms are summed; gauges as prom-client's aggregators say (queue_depth is the primary's alone).
    const own = await metrics.registry.getMetricsAsJSON();
    const all: object[] = [own, ...parts.filter((p): p is object[] => Array.isArray(p))];
    return AggregatorRegistry.aggregate(all).metrics();
  };
  const onMessage = (worker: Worker, msg: unknown): void => {
    if (!isOurs<ToPrimary>(msg)) return;
    if (msg.whippet === 'collected') { answers.get(`${worker.id}:${msg.id}`)?.(msg.data); return; }
    if (msg.whippet === 'enqueue') {
      // Never rejects: every call's outcome, committed or refused, goes back in the reply. A worker that went away
      // meanwhile gets nothing (a send on a closed channel would be an 'error' event nobody listens to).
      void commitForwarded(queue, msg).then((reply) => { if (worker.isConnected()) worker.send(reply); });
      return;
    }
    void figure(msg.what).then((data) => data, () => undefined).then((data) => {
      const reply: ToWorker = { whippet: 'gathered', id: msg.id, data };
      if (worker.isConnected()) worker.send(reply);
    });
  };
  const supervisor = new WorkerSupervisor(config.workers, log, onMessage);

  let worker: RunningWorker | undefined;
  try {
    if (config.asyncWorker) {
      worker = await startWorker(workerConfigOf(config), { log: log.child({ component: 'worker' }), resolver, host: { queue, dispatcher, metrics } });
    }
    log.info('async calls enabled', { queue: queue.backend, worker: config.asyncWorker, maxInflight: worker === undefined ? undefined : config.maxInflight });
    const port = await supervisor.start();
    const url = `http://127.0.0.1:${port}`;
    log.info('listening', {
      port, url, workers: config.workers, pids: supervisor.workers().map((w) => w.process.pid).join(','), queue: config.queue,
      functions: resolver.list().map((fn) => fn.name).join(',') || undefined, template: config.functionUrlTemplate,
    });
    let drained: Promise<void> | undefined;
    const drain = async (signal: 'SIGTERM' | 'SIGINT'): Promise<void> => {
      log.info('shutting down', { signal, graceMs: config.writeTimeoutMs, workers: supervisor.workers().length });
      await Promise.all([supervisor.drain(signal, config.writeTimeoutMs), worker?.drain(signal)]);
      await queue.close();
      await dispatcher.close();
      log.info('stopped');
    };
    return { port, url, ready: Promise.resolve(), supervisor, drain: (signal) => (drained ??= drain(signal)), kill: () => supervisor.kill() };
  } catch (err) {
    supervisor.kill();
    await worker?.drain('SIGINT');
    await queue.close();
    await dispatcher.close();
    throw err;
  }
}
