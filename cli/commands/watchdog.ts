// `whippet watchdog` / `fwatchdog`: reads env and flags, starts the watchdog, drains on SIGTERM/SIGINT.
// Every setting comes from watchdog/config.ts; --help lists each with its env names and default.

import type { Argv } from 'yargs';
import { SPAWN_METHODS, WATCHDOG_OPTIONS, loadWatchdogConfig } from '../../watchdog/config.js';
import { yargsOptions } from '../../common/options.js';
import { fastOptions, foldAliases, type FastPath } from '../fast-path.js';

export const command = {
  command: 'watchdog',
  describe: 'run the function watchdog (the entrypoint of a function image)',
  builder: (parser: Argv) => parser
    .options(yargsOptions(WATCHDOG_OPTIONS))
    .option('run-healthcheck', { type: 'boolean', describe: 'ask the running watchdog on this port for /_/health; exit 0 when healthy, 1 when not' })
    .epilog('Each option is also read from the environment variable named in brackets; a flag beats the env, the env beats the default. Durations: 30 (seconds), 500ms, 10s, 1m30s.'),
};

/**
 * The last line of the usage text: which spawn path this machine takes. Only the yargs path (--help, or a usage
 * error, which prints the usage too) asks: finding it loads the addon and makes one probe child.
 */
export async function usageFooter(): Promise<string> {
  const { describeSpawnPath } = await import('../../watchdog/spawn/native.js');
  const method = SPAWN_METHODS.find((m) => m === process.env.spawn_method?.trim()) ?? 'auto';
  return `Spawn path here with spawn_backend=auto: ${describeSpawnPath(method)}.`;
}

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
  const stderr = batchedStderr();
  const log = createLogger({ format: config.logFormat, level: config.logLevel, write: stderr }, { component: 'watchdog' });
  let running;
  try {
    running = await startWatchdog(config, { env: process.env, log, writeOutput: stderr });
  } catch (err) {
    log.error('cannot start', { err, code: (err as NodeJS.ErrnoException).code });
    return 1;
  }
  return serve(running, { log, secondSignal: 'wait' });
}

/** Flush when this much is pending, without waiting for the event loop's turn. */
const MAX_PENDING_CHARS = 64 * 1024;

/**
 * Log lines and function output to stderr, written once per event-loop turn instead of once per line: under
 * load a turn finishes several requests, and a write to stderr (a pipe or a file: synchronous) cost about a
 * tenth of the http mode's CPU per request. Order is kept (one buffer for both); what is pending is written at
 * exit, however the process exits.
 */
function batchedStderr(): (line: string) => void {
  let pending = '';
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    process.stderr.write(text);
  };
  process.once('exit', flush);
  return (line) => {
    pending += line;
    if (pending.length >= MAX_PENDING_CHARS) flush();
    else if (!scheduled) { scheduled = true; setImmediate(flush); }
  };
}
