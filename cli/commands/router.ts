// `whippet router`: read the settings, build the resolver and the router, listen, drain on SIGTERM.
// Wiring only; the behaviour lives in router/.

import type { CommandModule } from 'yargs';
import { createLogger } from '../../common/log.js';
import { ConfigError, loadOptions, yargsOptions } from '../../common/options.js';
import { buildAsyncRouter, type AsyncRouterParts } from '../../router/async/build.js';
import { QueueError } from '../../router/queue/index.js';
import { ASYNC_ROUTER_OPTIONS } from '../../router/async/options.js';
import { ROUTER_OPTIONS, loadRouterConfig, type RouterConfig } from '../../router/config.js';
import { createResolver, type FunctionResolver } from '../../router/resolver.js';
import { createRouter, type RouterDeps } from '../../router/server.js';
import { createDashboard } from '../../router/ui/dashboard.js';
import type { Logger } from '../../common/log.js';
import { setExitCode } from '../run.js';

/**
 * The async half (issue 4): the queue, /async-function, /system/calls, queue metrics and, unless
 * async_worker=false, an in-process worker. The pool and registry it returns are shared with the router.
 */
async function buildAsync(config: RouterConfig, resolver: FunctionResolver, log: Logger, argv: Record<string, unknown>):
  Promise<Pick<RouterDeps, 'async' | 'systemRoutes' | 'metrics' | 'dispatcher' | 'ui'> & { drain?: () => Promise<void>; close?: () => Promise<void> }> {
  const { asyncWorker } = loadOptions(ASYNC_ROUTER_OPTIONS, argv, process.env);
  let parts: AsyncRouterParts;
  try {
    parts = await buildAsyncRouter(config, resolver, log, { worker: asyncWorker });
  } catch (err) {
    if (err instanceof QueueError) throw new ConfigError([`queue (${config.queue}): ${err.message}`]);
    throw err;
  }
  return {
    async: parts.async, systemRoutes: parts.systemRoutes, metrics: parts.metrics, dispatcher: parts.dispatcher,
    ui: createDashboard({ queue: parts.queue }),
    drain: () => parts.stopWorker(config.writeTimeoutMs), close: () => parts.close(),
  };
}

export const command: CommandModule<object, Record<string, unknown>> = {
  command: 'router',
  describe: 'run the router (gateway): /function/{name} proxied to functions, /system API, /metrics',
  builder: (y) => y.options({ ...yargsOptions(ROUTER_OPTIONS), ...yargsOptions(ASYNC_ROUTER_OPTIONS) }).strict(),
  handler: async (argv) => {
    let config: RouterConfig;
    let resolver: FunctionResolver;
    try {
      config = loadRouterConfig(argv, process.env);
      resolver = createResolver(config);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`whippet router: ${err.message}\n`);
      setExitCode(1);
      return;
    }
    const log = createLogger({ format: config.logFormat }, { component: 'router' });
    let router: ReturnType<typeof createRouter>;
    let extra: Awaited<ReturnType<typeof buildAsync>> | undefined;
    try {
      extra = await buildAsync(config, resolver, log, argv);
      router = createRouter(config, { resolver, log, ...extra });
    } catch (err) {
      await extra?.close?.(); // the queue and worker are open by now: let the process end
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`whippet router: ${err.message}\n`);
      setExitCode(1);
      return;
    }
    const { port, url } = await router.listen(config.port);
    log.info('listening', {
      port, url, functions: resolver.list().map((f) => f.name).join(',') || undefined,
      template: config.functionUrlTemplate, upstreamTimeoutMs: config.upstreamTimeoutMs,
    });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    log.info('shutting down', { signal, graceMs: config.writeTimeoutMs });
    // The server drains while the in-process worker finishes its calls; the shared pool closes last.
    await Promise.all([router.close(config.writeTimeoutMs), extra.drain?.()]);
    await extra.close?.();
    log.info('stopped');
  },
};
