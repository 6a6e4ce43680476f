// `whippet worker`: a queue-worker as its own process. Same queue, resolution and retry settings as the
// router's worker; /healthz and /metrics on `port`. SIGTERM/SIGINT: stop leasing, let in-flight calls
// finish within write_timeout, leave the rest to lapse back into the queue. Wiring only.

import type { CommandModule } from 'yargs';
import { createLogger, type Logger } from '../../common/log.js';
import { ConfigError, loadOptions, yargsOptions } from '../../common/options.js';
import { openQueue, startQueueWorker } from '../../router/async/build.js';
import { registerQueueDepth } from '../../router/async/metrics.js';
import { WORKER_OPTIONS, checkWorkerConfig, type WorkerCommandConfig } from '../../router/async/options.js';
import { createRouterMetrics } from '../../router/metrics.js';
import { QueueError, type Queue } from '../../router/queue/index.js';
import { createResolver, type FunctionResolver } from '../../router/resolver.js';
import { createUpstreamDispatcher } from '../../router/upstream.js';
import { startStatusServer } from '../../router/worker/status-server.js';
import { setExitCode } from '../run.js';

export const command: CommandModule<object, Record<string, unknown>> = {
  command: 'worker',
  describe: 'run a queue-worker as its own process (invokes queued async calls, delivers callbacks)',
  builder: (y) => y.options(yargsOptions(WORKER_OPTIONS)).strict(),
  handler: async (argv) => {
    let config: WorkerCommandConfig;
    let resolver: FunctionResolver;
    let queue: Queue;
    let log: Logger;
    try {
      config = loadOptions(WORKER_OPTIONS, argv, process.env, checkWorkerConfig);
      resolver = createResolver(config);
      log = createLogger({ format: config.logFormat }, { component: 'worker' });
      queue = await openQueue(config, log).catch((err: unknown) => {
        throw err instanceof QueueError ? new ConfigError([`queue (${config.queue}): ${err.message}`]) : err;
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`whippet worker: ${err.message}\n`);
      setExitCode(1);
      return;
    }
    const metrics = createRouterMetrics();
    registerQueueDepth(metrics.registry, queue);
    const dispatcher = createUpstreamDispatcher({ upstreamTimeoutMs: config.upstreamTimeoutMs });
    const worker = startQueueWorker(config, queue, resolver, log, { metrics, dispatcher });
    const status = await startStatusServer(config.port, queue, metrics.registry);
    log.info('listening', {
      port: status.port, url: `http://127.0.0.1:${status.port}`, queue: queue.backend, maxInflight: config.maxInflight,
      functions: resolver.list().map((f) => f.name).join(',') || undefined, template: config.functionUrlTemplate,
    });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    log.info('shutting down', { signal, graceMs: config.writeTimeoutMs, inflight: worker.inflight() });
    await worker.stop(config.writeTimeoutMs);
    status.server.close();
    status.server.closeAllConnections();
    await queue.close();
    await dispatcher.close();
    log.info('stopped');
  },
};
