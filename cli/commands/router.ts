// `whippet router`: read the settings, build the resolver and the router, listen, drain on SIGTERM.
// Wiring only; the behaviour lives in router/.

import type { CommandModule } from 'yargs';
import { createLogger } from '../../watchdog/log.js';
import { ConfigError, yargsOptions } from '../../watchdog/options.js';
import { ROUTER_OPTIONS, loadRouterConfig, type RouterConfig } from '../../router/config.js';
import { createResolver, type FunctionResolver } from '../../router/resolver.js';
import { createRouter, type RouterDeps } from '../../router/server.js';
import type { Logger } from '../../watchdog/log.js';
import { setExitCode } from '../run.js';

/**
 * The async half (issue 4) plugs in here: given the config, resolver and logger, return the
 * `async`/`systemRoutes` hooks for createRouter and a `close` for shutdown. None yet: /async-function → 503.
 */
async function buildAsync(_config: RouterConfig, _resolver: FunctionResolver, _log: Logger):
  Promise<Pick<RouterDeps, 'async' | 'systemRoutes'> & { close?: () => Promise<void> }> {
  return {};
}

export const command: CommandModule<object, Record<string, unknown>> = {
  command: 'router',
  describe: 'run the router (gateway): /function/{name} proxied to functions, /system API, /metrics',
  builder: (y) => y.options(yargsOptions(ROUTER_OPTIONS)).strict(),
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
    const extra = await buildAsync(config, resolver, log);
    try {
      router = createRouter(config, { resolver, log, ...extra });
    } catch (err) {
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
    await router.close(config.writeTimeoutMs);
    await extra.close?.();
    log.info('stopped');
  },
};
