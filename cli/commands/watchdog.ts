// `whippet watchdog` / `fwatchdog`: reads env and flags, starts the watchdog, drains on SIGTERM/SIGINT.
// Every setting comes from watchdog/config.ts; --help lists each with its env names and default.

import type { Argv, CommandModule } from 'yargs';
import { SPAWN_METHODS, WATCHDOG_OPTIONS, loadWatchdogConfig } from '../../watchdog/config.js';
import { ConfigError, yargsOptions } from '../../common/options.js';
import { fastOptions, foldAliases, type FastPath } from '../run.js';

export const command: CommandModule<object, Record<string, unknown>> = {
  command: 'watchdog',
  describe: 'run the function watchdog (the entrypoint of a function image)',
  // Only the yargs path (--help, or a usage error, which prints the help too) builds this: finding the spawn
  // path loads the addon and makes one probe child, which a plain start does not need.
  builder: async (y: Argv) => {
    const { describeSpawnPath } = await import('../../watchdog/spawn/native.js');
    const method = SPAWN_METHODS.find((m) => m === process.env.spawn_method?.trim()) ?? 'auto';
    return y
      .options(yargsOptions(WATCHDOG_OPTIONS))
      .option('run-healthcheck', { type: 'boolean', describe: 'ask the running watchdog on this port for /_/health; exit 0 when healthy, 1 when not' })
      .epilog('Each option is also read from the environment variable named in brackets; a flag beats the env, the env beats the default. Durations: 30 (seconds), 500ms, 10s, 1m30s.'
        + `\n\nSpawn path here with spawn_backend=auto: ${describeSpawnPath(method)}.`);
  },
  handler: async (argv) => {
    const { setExitCode } = await import('../run.js');
    setExitCode(await runWatchdogProcess(argv, process.env));
  },
};

/** The yargs-free start (every function image runs this): flags parsed with node:util. */
export const fast: FastPath = {
  options: fastOptions(WATCHDOG_OPTIONS, ['run-healthcheck']),
  run: (flags) => runWatchdogProcess(foldAliases(WATCHDOG_OPTIONS, flags), process.env),
};

/**
 * Load the config, then health-check or run the watchdog until a signal drains it; resolves with the exit code.
 * Needs no yargs when `flags` is empty, so cli/main.ts may call it directly for a bare `watchdog` (fast start).
 */
export async function runWatchdogProcess(flags: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): Promise<number> {
  let config;
  try {
    config = loadWatchdogConfig(flags, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`watchdog: ${err.message}\n`);
    return 1;
  }
  if (flags['run-healthcheck'] === true) {
    const { checkHealth } = await import('../../watchdog/healthcheck.js');
    const problem = await checkHealth(config.port);
    if (problem !== undefined) process.stderr.write(`unhealthy: ${problem}\n`);
    return problem === undefined ? 0 : 1;
  }
  const [{ createLogger }, { startWatchdog }] = await Promise.all([
    import('../../common/log.js'),
    import('../../watchdog/main.js'),
  ]);
  const log = createLogger({ format: config.logFormat, level: config.logLevel }, { component: 'watchdog' });
  let running;
  try {
    running = await startWatchdog(config, { env, log, writeOutput: (line) => { process.stderr.write(line); } });
  } catch (err) {
    log.error('cannot start', { err, code: (err as NodeJS.ErrnoException).code });
    return 1;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (signal: 'SIGTERM' | 'SIGINT') => { void running.drain(signal).then(resolve); };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return 0;
}
