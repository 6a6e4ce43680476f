// The entry of the watchdog's start bundle (cli/build-start-bundle.mjs makes dist/cli/start/watchdog.cjs from
// it; cli/start-bundle.cts loads it): the watchdog command and its yargs-free run.

import * as watchdog from './commands/watchdog.js';
import { runFast } from './fast-path.js';

/** `whippet watchdog ARGS` without yargs, or undefined when ARGS need it (cli/run.ts then runs them). */
export function start(args: readonly string[]): Promise<number> | undefined {
  return runFast(watchdog, 'watchdog', args);
}
