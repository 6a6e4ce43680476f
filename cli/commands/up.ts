// `whippet up [stack.yml]`: the local stack in one command. Takes the stack's lock, checks the port,
// makes each function's folder, runs one
// supervised watchdog per function and the router (with its in-process worker) on --port, prints the
// URLs, and on Ctrl-C/SIGTERM stops the router first (accepted async calls stay queued), then the functions.

import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { parsePort } from '../../common/options.js';
import { keepLlhttpOnLiftoff } from '../../common/wasm-tier.js';
import { createLogger } from '../../common/log.js';
import { UsageError } from '../errors.js';
import { serve } from '../serve.js';
import { startLocalStack, summary, type LocalStack } from '../../stack/local-stack.js';

interface UpArgs { stack?: string; file?: string; port: string; 'log-format': 'text' | 'json' }

function argProblem(args: UpArgs): string | undefined {
  if (args.stack !== undefined && args.file !== undefined && args.stack !== args.file) return 'give the stack file once: as the positional or with -f';
  try {
    parsePort(String(args.port));
  } catch (err) {
    return `--port: ${(err as Error).message}`;
  }
  return undefined;
}

export const command = {
  command: 'up [stack]',
  describe: 'build and run a stack file locally: one watchdog per function, the router and its worker',
  builder: (parser: Argv) => parser
    .positional('stack', { type: 'string', describe: 'the stack file (default: stack.yaml, else stack.yml)' })
    .option('file', { alias: 'f', type: 'string', describe: 'the stack file (same as the positional, as faas-cli spells it)' })
    .option('port', { alias: 'p', type: 'string', default: '8080', describe: 'router port (0 = a free one, printed)' })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'log lines of up, the router and the watchdogs (stderr)' })
    .epilog([
      'One up per stack: .whippet/up.lock names the up that runs it, and a second one exits 1, as does a taken',
      '--port; both are checked before anything is built. Each function runs from .whippet/up/<name>/ (the files',
      '`whippet build` puts in .whippet/build/<name>/, which build may remake while up runs) with its Dockerfile\'s',
      'ENV plus the stack\'s `environment` (later wins), on a free port; a watchdog that dies is restarted.',
      'Router settings (upstream_timeout, max_inflight, retry_http_codes, ...) are read from the environment as',
      'for `whippet router`; the queue is sqlite:.whippet/queue.db beside the stack file unless `queue` is set.',
    ].join('\n')),
};

/** A stack it cannot use or a watchdog that will not start is a LocalStackError: one line, exit 1 (cli/errors.ts). */
export async function run(argv: UpArgs): Promise<number> {
  keepLlhttpOnLiftoff(); // before undici's first connection (common/wasm-tier.ts)
  const problem = argProblem(argv);
  if (problem !== undefined) throw new UsageError(problem);
  const format = argv['log-format'];
  const env = { ...process.env, log_format: format };
  const log = createLogger({ format }, { component: 'up' });
  const stack: LocalStack = await startLocalStack({
    stackFile: argv.stack ?? argv.file, port: parsePort(argv.port), env, log,
    output: (line) => { process.stderr.write(`${line}\n`); },
    watchdogCommand: [process.execPath, fileURLToPath(new URL('../main.js', import.meta.url)), 'watchdog'],
  });
  process.stdout.write(summary(stack));
  const drain = async (signal: string): Promise<void> => {
    log.info('stopping', { signal });
    await stack.stop();
    log.info('stopped');
  };
  return serve({ drain }, { log, alsoOn: ['SIGHUP'], kill: () => stack.kill() });
}
