// The entry of the router's start bundle (cli/build-start-bundle.mjs makes dist/cli/start/router.cjs from it;
// cli/start-bundle.cts loads it): the router command, everything it loads after listening, and its yargs-free run.

import * as router from './commands/router.js';
import { runFast } from './fast-path.js';

/** `whippet router ARGS` without yargs, or undefined when ARGS need it (cli/run.ts then runs them). */
export function start(args: readonly string[]): Promise<number> | undefined {
  return runFast(router, 'router', args);
}
