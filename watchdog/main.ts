// Wiring only: spawn backend → runner → metrics → server → lock file → `listening`. The CLI passes the
// environment and hooks signals to drain(); nothing here reads process.env or process.argv.

import { baseEnv } from './cgi-env.js';
import type { WatchdogConfig } from './config.js';
import { drain } from './drain.js';
import { formatDuration } from '../common/duration.js';
import type { FunctionLogOptions } from './function-log.js';
import { createLockFile } from './lock.js';
import type { Logger } from '../common/log.js';
import { NO_METRICS, startMetrics, type Metrics } from './metrics.js';
import { createRunner, needsSpawn } from './runners/index.js';
import type { Runner } from './runners/types.js';
import { WatchdogServer } from './server.js';
import { nativeLoader, selectSpawnBackend } from './spawn/select.js';

export interface WatchdogDeps {
  /** The watchdog's environment: every child inherits it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Raw writer for function output lines (stderr). */
  readonly writeOutput: (line: string) => void;
}

export interface RunningWatchdog {
  readonly port: number;
  readonly metricsPort: number;
  /** Drain and stop; a second call returns the first drain. */
  drain(signal: 'SIGTERM' | 'SIGINT'): Promise<void>;
}

/** Start a watchdog; rejects (having cleaned up) when it cannot start. */
export async function startWatchdog(config: WatchdogConfig, deps: WatchdogDeps): Promise<RunningWatchdog> {
  const { log } = deps;
  const output: FunctionLogOptions = { format: config.logFormat, prefix: config.prefixLogs, write: deps.writeOutput };
  const backend = needsSpawn(config.mode) ? await selectSpawnBackend(config.spawnBackend, log, nativeLoader(config.spawnMethod)) : undefined;
  log.info('starting', {
    mode: config.mode,
    fprocess: config.fprocess.join(' ') || undefined,
    spawnBackend: backend?.name,
    spawnMethod: backend?.method,
    readTimeout: formatDuration(config.readTimeoutMs),
    writeTimeout: formatDuration(config.writeTimeoutMs),
    execTimeout: formatDuration(config.execTimeoutMs),
    healthcheckInterval: formatDuration(config.healthcheckIntervalMs),
    maxInflight: config.maxInflight,
    maxRequestBody: config.marshalRequest || config.bufferHttp ? config.maxRequestBodyBytes : undefined,
  });
  if (config.execTimeoutMs === 0 || config.execTimeoutMs > config.writeTimeoutMs) {
    log.warn('write_timeout cuts the response before exec_timeout would', { execTimeout: formatDuration(config.execTimeoutMs) });
  }
  const runner: Runner = createRunner(config.mode, { config, backend, env: baseEnv(deps.env), log, output });
  let metrics: Metrics = NO_METRICS;
  try {
    await runner.start();
    if (config.metricsPort !== 0) metrics = await startMetrics(config.metricsPort);
    const lock = config.suppressLock ? undefined : createLockFile(deps.env.TMPDIR || undefined);
    const server = new WatchdogServer(config, { runner, metrics, log, lock });
    const port = await server.listen();
    lock?.write();
    server.accepting = true;
    log.info('listening', { port, url: `http://127.0.0.1:${port}`, mode: config.mode, metricsPort: metrics.port || undefined });
    let drained: Promise<void> | undefined;
    return {
      port,
      metricsPort: metrics.port,
      drain: (signal) => (drained ??= drain({ config, server, runner, metrics, lock, log }, signal)),
    };
  } catch (err) {
    await runner.stop().catch(() => {});
    await metrics.close();
    throw err;
  }
}
