// One worker process of a multi-process router: the whole HTTP router (every route, the async accept path)
// on the port the primary shares, without the in-process async worker (the primary runs that once) and
// without queue_depth (the primary reports it). /metrics and the function counts are asked of the primary,
// which sums every process's; a stop comes from the primary (`drain`) or from a signal to this process. On a
// SQLite queue its async accepts are committed by the primary (accepts.ts): the file keeps one writer.

import type { Logger } from '../../common/log.js';
import type { RouterConfig } from '../config.js';
import { createFunctionStats } from '../function-stats.js';
import { startRouter, type RunningRouter } from '../main.js';
import { createRouterMetrics } from '../metrics.js';
import { ForwardedAccepts } from './accepts.js';
import { ANSWER_TIMEOUT_MS, isOurs, type Figure, type ToPrimary, type ToWorker } from './messages.js';
import { createSharedStats, type StatsByName } from './stats.js';

/** The IPC channel to the primary (process.send/process.on('message') in a cluster worker). */
export interface PrimaryChannel {
  send(msg: ToPrimary): void;
  onMessage(listener: (msg: unknown) => void): void;
  /** The channel closed (the primary is gone). */
  onDisconnect(listener: () => void): void;
}

export interface ClusterWorker {
  readonly router: RunningRouter;
  /** Resolves when the primary asks this process to stop, with the signal it got. */
  readonly stopRequested: Promise<'SIGTERM' | 'SIGINT'>;
}

/** Start this process's router; resolves once it listens. */
export async function startClusterWorker(config: RouterConfig, log: Logger, channel: PrimaryChannel): Promise<ClusterWorker> {
  const metrics = createRouterMetrics();
  const pending = new Map<number, (data: unknown) => void>();
  let nextId = 0;
  const gather = (what: Figure): Promise<unknown> => new Promise((resolve) => {
    const id = nextId++;
    const timer = setTimeout(() => { pending.delete(id); resolve(undefined); }, ANSWER_TIMEOUT_MS * 2);
    pending.set(id, (data) => { clearTimeout(timer); pending.delete(id); resolve(data); });
    channel.send({ whippet: 'gather', id, what });
  });
  const stats = createSharedStats(createFunctionStats(), async () => (await gather('stats')) as StatsByName | undefined);
  let requestStop: (signal: 'SIGTERM' | 'SIGINT') => void = () => {};
  const stopRequested = new Promise<'SIGTERM' | 'SIGINT'>((resolve) => { requestStop = resolve; });
  let accepts: ForwardedAccepts | undefined;
  channel.onDisconnect(() => accepts?.disconnected());
  channel.onMessage((msg) => {
    if (!isOurs<ToWorker>(msg)) return;
    switch (msg.whippet) {
      case 'gathered': pending.get(msg.id)?.(msg.data); return;
      case 'enqueued': accepts?.received(msg); return;
      case 'drain': requestStop(msg.signal); return;
      case 'collect':
        void (msg.what === 'stats' ? Promise.resolve(stats.own()) : metrics.registry.getMetricsAsJSON())
          .then((data) => channel.send({ whippet: 'collected', id: msg.id, data }), () => channel.send({ whippet: 'collected', id: msg.id, data: undefined }));
    }
  });
  const router = await startRouter({ ...config, asyncWorker: false }, {
    log, metrics, queueDepth: false, listeningMessage: 'worker listening',
    queueOf: (queue) => queue.backend === 'sqlite' ? (accepts = new ForwardedAccepts(queue, channel)) : queue,
    shared: {
      stats,
      // The primary's answer; unanswered (it is stopping), this process's own figures rather than none.
      scrape: async () => ((await gather('metrics')) as string | undefined) ?? metrics.registry.metrics(),
    },
  });
  return { router, stopRequested };
}
