// `whippet up` without the printing: take the stack's lock and check the port (before anything is
// touched), make every function's up folder, start one supervised watchdog each, then the router with its
// in-process worker on the sqlite queue under .whippet/, all in this process. Watchdogs first, so calls
// left in the queue by the last run find their functions when the worker starts.

import { join } from 'node:path';
import { loadRouterConfig, type RouterConfig } from '../router/config.js';
import { startRouter, type RunningRouter } from '../router/main.js';
import { createFunctionLogs } from '../router/function-logs.js';
import type { Logger } from '../common/log.js';
import { shown, stateDir, templateLabel, type BuiltFunction } from './build-folder.js';
import type { InstallContext } from './dependencies.js';
import { localFunctions, type LocalFunction } from './local-function.js';
import { findStackFile, loadStack, type Stack } from './stack-file.js';
import { createStackResolver } from './stack-resolver.js';
import { prepareUpFolder } from './up-folder.js';
import { acquireUpLock, checkPortFree, type UpLock } from './up-lock.js';

export interface LocalStackOptions {
  /** The stack file; undefined: stack.yaml, else stack.yml, in the cwd. */
  readonly stackFile: string | undefined;
  /** Router port (0 = ephemeral). */
  readonly port: number;
  /** The environment `up` runs in: watchdogs inherit it, router settings are read from it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Where the watchdogs' tagged log lines go. */
  readonly output: (line: string) => void;
  /** argv that runs a watchdog (the CLI knows where its compiled self is). */
  readonly watchdogCommand: readonly string[];
}

export interface LocalStack {
  readonly stack: Stack;
  readonly url: string;
  readonly port: number;
  readonly queue: string;
  readonly functions: readonly LocalFunction[];
  /** Router drains (accepted async calls stay queued), worker stops, then every watchdog. */
  stop(): Promise<void>;
  /** Kill every watchdog group now (a second Ctrl-C). */
  kill(): void;
}

const WATCHDOG_STOP_GRACE_MS = 10_000;
/** The router's interface under `up`. */
const HOST = '127.0.0.1';

/** Build and start everything; on a failure whatever started is stopped again before the error is thrown. */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const stack = loadStack(findStackFile(opts.stackFile), opts.env);
  const lock = acquireUpLock(stack, opts.log);
  try {
    await checkPortFree(opts.port, HOST);
    return await startLocked(stack, opts, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(stack: Stack, opts: LocalStackOptions, lock: UpLock): Promise<LocalStack> {
  // One after another: installs share the machine and the network.
  const built: BuiltFunction[] = [];
  const installs: InstallContext = { stack, env: opts.env, log: opts.log };
  for (const fn of stack.functions) built.push(await prepareUpFolder(installs, fn));
  const state = stateDir(stack);
  const queueFlag = opts.env['queue'] === undefined ? { queue: `sqlite:${join(state, 'queue.db')}` } : {};
  const config: RouterConfig = loadRouterConfig({ port: String(opts.port), 'async-worker': 'true', ...queueFlag }, opts.env);
  const stackResolver = createStackResolver();
  // The last lines of each function: GET /system/logs (faas-cli logs) and the dashboard's tail.
  const functionLogs = createFunctionLogs(config.functionNamespace);
  const infos = new Map(built.map((fn) => [fn.fn.name, {
    image: fn.fn.image ?? `${fn.fn.name}:latest`,
    envProcess: { ...fn.dockerEnv, ...fn.fn.environment }['fprocess'] ?? '',
    createdAt: new Date().toISOString(),
  }]));
  const functions = localFunctions(built, {
    stack, env: opts.env, log: opts.log, watchdogCommand: opts.watchdogCommand, output: opts.output,
    onLine: (name, line, pid) => functionLogs.append(name, `${name}-${pid}`, line),
    onReady: (name, url) => stackResolver.set(name, url, infos.get(name)),
  });
  const limits = new Map(functions.map((fn) => [fn.name, fn.settings.maxInflight > 0 ? fn.settings.maxInflight : undefined]));
  const stopFunctions = (): Promise<unknown> => Promise.all(functions.map((fn) => fn.supervisor.stop(WATCHDOG_STOP_GRACE_MS)));

  try {
    await Promise.all(functions.map((fn) => fn.supervisor.start()));
    const router: RunningRouter = await startRouter(config, {
      log: opts.log.child({ component: 'router' }), resolvers: [stackResolver], functionLimit: (name) => limits.get(name), host: HOST,
      functionLogs,
    });
    await router.ready; // the queue and the worker too: `up` prints its summary once everything runs
    lock.listening(router.url);
    let stopped: Promise<void> | undefined;
    return {
      stack, url: router.url, port: router.port, queue: config.queue, functions,
      stop: () => (stopped ??= (async () => {
        functionLogs.close(); // open `follow` streams must not hold the drain
        await router.drain('SIGTERM');
        await stopFunctions();
        lock.release();
      })()),
      kill: () => { for (const f of functions) f.supervisor.killNow(); lock.release(); },
    };
  } catch (err) {
    await stopFunctions();
    throw err;
  }
}

/** What `up` prints once everything listens: the URLs and a curl line to try. */
export function summary(local: LocalStack): string {
  const { url } = local;
  const width = Math.max(...local.functions.map((fn) => fn.name.length));
  const lines = [`whippet up: ${local.functions.length} function${local.functions.length === 1 ? '' : 's'} from ${shown(local.stack.file)}, router ${url}`];
  for (const fn of local.functions) {
    lines.push(`  ${fn.name.padEnd(width)}  ${url}/function/${fn.name}  (${templateLabel(fn.built.template)}, watchdog ${fn.upstream()?.host ?? 'down'}, pid ${fn.supervisor.pid})`);
  }
  const queue = local.queue.replace(/^sqlite:(.*)$/, (_, path: string) => `sqlite:${shown(path)}`);
  lines.push(`  async: ${url}/async-function/<name>   calls: ${url}/system/calls   queue: ${queue}`);
  const first = local.functions[0]!.name;
  lines.push('try:', `  curl -d 'hello' ${url}/function/${first}`, `  echo hello | whippet invoke ${first} --gateway ${url}`);
  lines.push('Ctrl-C stops everything; accepted async calls stay queued for the next `whippet up`.');
  return `${lines.join('\n')}\n`;
}
