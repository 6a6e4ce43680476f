// `whippet watchdog` / `fwatchdog`: reads env and flags, starts the watchdog, drains on SIGTERM/SIGINT.
// Every setting comes from watchdog/config.ts; --help lists each with its env names and default.

import type { Argv } from 'yargs';
import { SPAWN_METHODS, WATCHDOG_OPTIONS, loadWatchdogConfig } from '../../watchdog/config.js';
import { yargsOptions } from '../../common/options.js';
import { fastOptions, foldAliases, type FastPath } from '../fast-path.js';

export const command = {
  command: 'watchdog',
  describe: 'run the function watchdog (the entrypoint of a function image)',
  // Only the yargs path (--help, or a usage error, which prints the help too) builds this: finding the spawn
  // path loads the addon and makes one probe child, which a plain start does not need.
  builder: async (parser: Argv) => {
    const { describeSpawnPath } = await import('../../watchdog/spawn/native.js');
    const method = SPAWN_METHODS.find((m) => m === process.env.spawn_method?.trim()) ?? 'auto';
    return parser
      .options(yargsOptions(WATCHDOG_OPTIONS))
      .option('run-healthcheck', { type: 'boolean', describe: 'ask the running watchdog on this port for /_/health; exit 0 when healthy, 1 when not' })
      .epilog('Each option is also read from the environment variable named in brackets; a flag beats the env, the env beats the default. Durations: 30 (seconds), 500ms, 10s, 1m30s.'
        + `\n\nSpawn path here with spawn_backend=auto: ${describeSpawnPath(method)}.`);
  },
};

// Function images have always printed `watchdog: ...`, not `whippet watchdog: ...`.
export const errorPrefix = 'watchdog';

/** The yargs-free start (every function image runs this): flags parsed with node:util. */
export const fast: FastPath = {
  options: fastOptions(WATCHDOG_OPTIONS, ['run-healthcheck']),
  flags: (values) => foldAliases(WATCHDOG_OPTIONS, values),
};

/** Health-check, or run the watchdog until a signal drains it. */
export async function run(flags: Readonly<Record<string, unknown>>): Promise<number> {
  const config = loadWatchdogConfig(flags, process.env);
  if (flags['run-healthcheck'] === true) {
    const { checkHealth } = await import('../../watchdog/healthcheck.js');
    const problem = await checkHealth(config.port);
    if (problem !== undefined) process.stderr.write(`unhealthy: ${problem}\n`);
    return problem === undefined ? 0 : 1;
  }
  const [{ createLogger }, { startWatchdog }, { serve }] = await Promise.all([
    import('../../common/log.js'),
    import('../../watchdog/main.js'),
    import('../serve.js'),
  ]);
  const log = createLogger({ format: config.logFormat, level: config.logLevel }, { component: 'watchdog' });
  let running;
  try {
    running = await startWatchdog(config, { env: process.env, log, writeOutput: (line) => { process.stderr.write(line); } });
  } catch (err) {
    log.error('cannot start', { err, code: (err as NodeJS.ErrnoException).code });
    return 1;
  }
  return serve(running, { log, secondSignal: 'wait' });
}
