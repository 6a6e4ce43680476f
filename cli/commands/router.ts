// `whippet router`: read the settings, start the router (with its in-process worker unless
// async_worker=false), serve until a signal drains it. With `workers` > 1 this same command runs in every
// process: the first becomes the primary (router/cluster/primary.ts), the processes node:cluster forks from
// it the workers (router/cluster/worker.ts). Wiring only; the behaviour lives in router/.

import type { Argv } from 'yargs';
import { keepLlhttpOnLiftoff } from '../../common/wasm-tier.js';
import { createLogger, type Logger } from '../../common/log.js';
import { yargsOptions } from '../../common/options.js';
import { ROUTER_OPTIONS, loadRouterConfig, type RouterConfig } from '../../router/config.js';
import { fastOptions, foldAliases, type FastPath } from '../fast-path.js';
import { serve } from '../serve.js';

export const command = {
  command: 'router',
  describe: 'run the router (gateway): /function/{name} proxied to functions, /system API, /metrics',
  builder: (parser: Argv) => parser.options(yargsOptions(ROUTER_OPTIONS)).strict(),
};

/** The yargs-free start (yargs costs ~200 ms and ~13 MB); a boolean flag without a value falls back to yargs. */
export const fast: FastPath = {
  options: fastOptions(ROUTER_OPTIONS),
  flags: (values) => foldAliases(ROUTER_OPTIONS, values),
};

export async function run(flags: Readonly<Record<string, unknown>>): Promise<number> {
  keepLlhttpOnLiftoff(); // before undici's first connection (common/wasm-tier.ts)
  const config = loadRouterConfig(flags, process.env);
  if (config.workers > 1) return runCluster(config);
  const log = createLogger({ format: config.logFormat }, { component: 'router' });
  // serve() takes signals while the router is still loading: one then drains it as soon as it listens.
  return serve(import('../../router/main.js').then(({ startRouter }) => startRouter(config, { log })), { log });
}

async function runCluster(config: RouterConfig): Promise<number> {
  const { default: cluster } = await import('node:cluster');
  if (cluster.isPrimary) {
    const log = createLogger({ format: config.logFormat }, { component: 'router', process: 'primary' });
    const { startRouterPrimary } = await import('../../router/cluster/primary.js');
    const primary = await startRouterPrimary(config, log);
    return serve(primary, { log, kill: () => primary.kill() });
  }
  const log = createLogger({ format: config.logFormat }, { component: 'router', process: `worker-${cluster.worker!.id}` });
  return runWorker(config, log);
}

/**
 * A worker drains when the primary says so or on its own SIGTERM/SIGINT (a Ctrl-C reaches every process of
 * the terminal's group); a second signal ends it at once. It exits when drained: the IPC channel would keep it up.
 */
async function runWorker(config: RouterConfig, log: Logger): Promise<number> {
  const { startClusterWorker } = await import('../../router/cluster/worker.js');
  let started;
  try {
    started = await startClusterWorker(config, log, {
      send: (msg) => { process.send?.(msg); },
      onMessage: (listener) => { process.on('message', listener); },
      onDisconnect: (listener) => { process.on('disconnect', listener); },
    });
  } catch (err) {
    log.error('cannot start', { err: err as Error, code: (err as NodeJS.ErrnoException).code });
    process.exit(1);
  }
  const { router, stopRequested } = started;
  router.ready.catch((err: unknown) => {
    log.error('cannot start', { err: err as Error, code: (err as NodeJS.ErrnoException).code });
    process.exit(1);
  });
  let draining = false;
  const drain = (signal: 'SIGTERM' | 'SIGINT'): void => {
    if (draining) return;
    draining = true;
    void router.drain(signal).then(() => process.exit(0));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (!draining) { drain(signal); return; }
      log.warn('stopping now', { signal });
      process.exit(1);
    });
  }
  drain(await stopRequested);
  return new Promise<number>(() => {}); // process.exit above ends it
}
