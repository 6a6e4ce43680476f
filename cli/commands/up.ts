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
export function summary(s: LocalStack): string {
  const width = Math.max(...s.functions.map((f) => f.name.length));
  const lines = [`whippet up: ${s.functions.length} function${s.functions.length === 1 ? '' : 's'} from ${shown(s.stack.file)}, router ${s.url}`];
  for (const f of s.functions) {
    lines.push(`  ${f.name.padEnd(width)}  ${s.url}/function/${f.name}  (${f.built.fn.lang}, watchdog ${f.upstream()?.host ?? 'down'}, pid ${f.supervisor.pid})`);
  }
  lines.push(`  async: ${s.url}/async-function/<name>   calls: ${s.url}/system/calls   queue: ${s.queue.replace(/^sqlite:(.*)$/, (_, p: string) => `sqlite:${shown(p)}`)}`);
  const first = s.functions[0]!.name;
  lines.push('try:', `  curl -d 'hello' ${s.url}/function/${first}`, `  echo hello | whippet invoke ${first} --gateway ${s.url}`);
  lines.push('Ctrl-C stops everything; accepted async calls stay queued for the next `whippet up`.');
  return `${lines.join('\n')}\n`;
}

function argProblem(a: UpArgs): string | undefined {
  if (a.stack !== undefined && a.file !== undefined && a.stack !== a.file) return 'give the stack file once: as the positional or with -f';
  try {
    parsePort(String(a.port));
  } catch (err) {
    return `--port: ${(err as Error).message}`;
  }
  return undefined;
}

export const command = {
  command: 'up [stack]',
  describe: 'build and run a stack file locally: one watchdog per function, the router and its worker',
  builder: (y: Argv) => y
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
