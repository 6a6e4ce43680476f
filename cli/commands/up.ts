// `whippet up [stack.yml]`: the local stack in one command. Builds each function's folder, runs one
// supervised watchdog per function and the router (with its in-process worker) on --port, prints the
// URLs, and on Ctrl-C/SIGTERM stops the router first (accepted async calls stay queued), then the functions.

import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError, parsePort } from '../../common/options.js';
import { createLogger } from '../../common/log.js';
import { setExitCode } from '../run.js';
import { LocalStackError } from '../../stack/errors.js';
import { startLocalStack, summary, type LocalStack } from '../../stack/local-stack.js';
import { usageReporter } from '../usage.js';

interface UpArgs { stack?: string; file?: string; port: string; 'log-format': 'text' | 'json' }

const usage = usageReporter();

function argProblem(a: UpArgs): string | undefined {
  if (a.stack !== undefined && a.file !== undefined && a.stack !== a.file) return 'give the stack file once: as the positional or with -f';
  try {
    parsePort(String(a.port));
  } catch (err) {
    return `--port: ${(err as Error).message}`;
  }
  return undefined;
}

export const command: CommandModule<object, UpArgs> = {
  command: 'up [stack]',
  describe: 'build and run a stack file locally: one watchdog per function, the router and its worker',
  builder: (y: Argv) => usage.keep(y)
    .positional('stack', { type: 'string', describe: 'the stack file (default: stack.yaml, else stack.yml)' })
    .option('file', { alias: 'f', type: 'string', describe: 'the stack file (same as the positional, as faas-cli spells it)' })
    .option('port', { alias: 'p', type: 'string', default: '8080', describe: 'router port (0 = a free one, printed)' })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'log lines of up, the router and the watchdogs (stderr)' })
    .epilog([
      'Each function runs from .whippet/build/<name>/ (as `whippet build` makes it) with its Dockerfile\'s ENV',
      'plus the stack\'s `environment` (later wins), on a free port; a watchdog that dies is restarted.',
      'Router settings (upstream_timeout, max_inflight, retry_http_codes, ...) are read from the environment as',
      'for `whippet router`; the queue is sqlite:.whippet/queue.db beside the stack file unless `queue` is set.',
    ].join('\n')),
  handler: async (argv) => {
    const problem = argProblem(argv);
    if (problem !== undefined) { usage.fail(problem); return; }
    const format = argv['log-format'];
    const env = { ...process.env, log_format: format };
    const log = createLogger({ format }, { component: 'up' });
    let stack: LocalStack;
    try {
      stack = await startLocalStack({
        stackFile: argv.stack ?? argv.file, port: parsePort(argv.port), env, log,
        output: (line) => { process.stderr.write(`${line}\n`); },
        watchdogCommand: [process.execPath, fileURLToPath(new URL('../main.js', import.meta.url)), 'watchdog'],
      });
    } catch (err) {
      const known = err instanceof LocalStackError || err instanceof ConfigError;
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!known && !inUse) throw err;
      process.stderr.write(`whippet up: ${inUse ? `port ${argv.port} is in use; pick another with --port` : (err as Error).message}\n`);
      setExitCode(1);
      return;
    }
    process.stdout.write(summary(stack));
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, () => resolve(s));
    });
    log.info('stopping', { signal });
    // A second signal does not wait for the drain.
    const force = (s: NodeJS.Signals): void => { log.warn('stopping now', { signal: s }); stack.kill(); process.exit(1); };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, force);
    await stack.stop();
    log.info('stopped');
  },
};
