// Wrong arguments that yargs cannot see (a bad --port value, --callback without --async) are reported
// like yargs' own: the command's usage, then what was wrong, exit code 2.

import type { Argv } from 'yargs';
import { setExitCode } from './run.js';

/** Remembers a command's yargs instance (from its builder) so the handler can show its usage. */
export function usageReporter(): { keep<T>(y: Argv<T>): Argv<T>; fail(message: string): void } {
  let parser: Argv<unknown> | undefined;
  return {
    keep(y) { parser = y as Argv<unknown>; return y; },
    fail(message) {
      parser?.showHelp('error');
      process.stderr.write(`\n${message}\n`);
      setExitCode(2);
    },
  };
}
