// `whippet up [stack.yml]`: the local stack in one command. Builds each function's folder, runs one
// supervised watchdog per function and the router (with its in-process worker) on --port, prints the
// URLs, and on Ctrl-C/SIGTERM stops the router first (accepted async calls stay queued), then the functions.

import type { Argv } from 'yargs';
import { parsePort } from '../../common/options.js';
import { createLogger } from '../../common/log.js';
import { RefusedError, UsageError } from '../errors.js';
import { serve } from '../serve.js';
import { DockerfileError, shown } from '../stack/build-folder.js';
import { startLocalStack, type LocalStack } from '../stack/local-stack.js';
import { StackError } from '../stack/stack-file.js';
import { WatchdogStartError } from '../stack/supervisor.js';

interface UpArgs { stack?: string; file?: string; port: string; 'log-format': 'text' | 'json' }

/** What `up` prints once everything listens: the URLs and a curl line to try. */
export function summary(local: LocalStack): string {
  const width = Math.max(...local.functions.map((fn) => fn.name.length));
  const lines = [`whippet up: ${local.functions.length} function${local.functions.length === 1 ? '' : 's'} from ${shown(local.stack.file)}, router ${local.url}`];
  for (const f of local.functions) {
    lines.push(`  ${f.name.padEnd(width)}  ${local.url}/function/${f.name}  (${f.built.fn.lang}, watchdog ${f.upstream()?.host ?? 'down'}, pid ${f.supervisor.pid})`);
  }
  lines.push(`  async: ${local.url}/async-function/<name>   calls: ${local.url}/system/calls   queue: ${local.queue.replace(/^sqlite:(.*)$/, (_, p: string) => `sqlite:${shown(p)}`)}`);
  const first = local.functions[0]!.name;
  lines.push('try:', `  curl -d 'hello' ${local.url}/function/${first}`, `  echo hello | whippet invoke ${first} --gateway ${local.url}`);
  lines.push('Ctrl-C stops everything; accepted async calls stay queued for the next `whippet up`.');
  return `${lines.join('\n')}\n`;
}

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
    .positional('stack', { type: 'string', describe: 'the stack file (default: stack.yml)' })
    .option('file', { alias: 'f', type: 'string', describe: 'the stack file (same as the positional, as faas-cli spells it)' })
    .option('port', { alias: 'p', type: 'string', default: '8080', describe: 'router port (0 = a free one, printed)' })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'log lines of up, the router and the watchdogs (stderr)' })
    .epilog([
      'Each function runs from .whippet/build/<name>/ (as `whippet build` makes it) with its Dockerfile\'s ENV',
      'plus the stack\'s `environment` (later wins), on a free port; a watchdog that dies is restarted.',
      'Router settings (upstream_timeout, max_inflight, retry_http_codes, ...) are read from the environment as',
      'for `whippet router`; the queue is sqlite:.whippet/queue.db beside the stack file unless `queue` is set.',
    ].join('\n')),
};

export async function run(argv: UpArgs): Promise<number> {
  const problem = argProblem(argv);
  if (problem !== undefined) throw new UsageError(problem);
  const format = argv['log-format'];
  const env = { ...process.env, log_format: format };
  const log = createLogger({ format }, { component: 'up' });
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      stackFile: argv.stack ?? argv.file ?? 'stack.yml', port: parsePort(argv.port), env, log,
      output: (line) => { process.stderr.write(`${line}\n`); },
    });
  } catch (err) {
    if (err instanceof StackError || err instanceof DockerfileError || err instanceof WatchdogStartError) throw new RefusedError(err.message, { cause: err });
    throw err;
  }
  process.stdout.write(summary(stack));
  const drain = async (signal: string): Promise<void> => {
    log.info('stopping', { signal });
    await stack.stop();
    log.info('stopped');
  };
  return serve({ drain }, { log, alsoOn: ['SIGHUP'], kill: () => stack.kill() });
}
