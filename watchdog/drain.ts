// The SIGTERM sequence: health → 503, wait healthcheck_interval (still serving, so load balancers can notice),
// stop accepting, let in-flight requests finish up to write_timeout, stop the runner. SIGINT skips the wait.

import type { WatchdogConfig } from './config.js';
import type { LockFile } from './lock.js';
import type { Logger } from '../common/log.js';
import type { Metrics } from './metrics.js';
import type { Runner } from './runners/types.js';
import type { WatchdogServer } from './server.js';

export interface DrainDeps {
  readonly config: WatchdogConfig;
  readonly server: WatchdogServer;
  readonly runner: Runner;
  readonly metrics: Metrics;
  readonly lock: LockFile | undefined;
  readonly log: Logger;
}

/** Drain and stop; resolves when everything is closed. */
export async function drain(deps: DrainDeps, signal: 'SIGTERM' | 'SIGINT'): Promise<void> {
  const { config, server, log } = deps;
  const waitMs = signal === 'SIGTERM' ? config.healthcheckIntervalMs : 0;
  server.startDrain();
  deps.lock?.remove();
  log.info('draining', { signal, healthcheckIntervalMs: waitMs, writeTimeoutMs: config.writeTimeoutMs });
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  const cut = await server.close(config.writeTimeoutMs);
  if (cut > 0) log.warn('write_timeout reached while draining, connections cut', { requests: cut });
  await deps.runner.stop();
  await deps.metrics.close();
  log.info('stopped');
}
