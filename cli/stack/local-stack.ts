// `whippet up` without the printing: build every function, start one supervised watchdog each, then
// the router with its in-process worker on the sqlite queue under .whippet/, all in this process.
// Watchdogs first, so calls left in the queue by the last run find their functions when the worker starts.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRouterConfig, type RouterConfig } from '../../router/config.js';
import { createFunctionLogs } from '../../router/function-logs.js';
import { startRouter, type RunningRouter } from '../../router/main.js';
import type { Logger } from '../../common/log.js';
import { assemble, stateDir, type BuiltFunction } from './build-folder.js';
import { freePort } from '../../common/free-port.js';
import { loadStack, type Stack } from './stack-file.js';
import { createStackResolver } from './stack-resolver.js';
import { Supervisor } from './supervisor.js';
import { listTemplates, templateDir } from './templates.js';
import { functionLimit, isHttpMode, watchdogEnv } from './watchdog-env.js';

export interface LocalStackOptions {
  readonly stackFile: string;
  /** Router port (0 = ephemeral). */
  readonly port: number;
  /** The environment `up` runs in: watchdogs inherit it, router settings are read from it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Where the watchdogs' tagged log lines go. */
  readonly output: (line: string) => void;
  /** argv that runs a watchdog; defaults to this package's compiled CLI. */
  readonly watchdogCommand?: readonly string[];
}

export interface LocalFunction {
  readonly name: string;
  readonly built: BuiltFunction;
  readonly supervisor: Supervisor;
  /** The watchdog's current URL. */
  upstream(): URL | undefined;
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

/** Build and start everything; on a failure whatever started is stopped again before the error is thrown. */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const stack = loadStack(opts.stackFile, listTemplates());
  const built = stack.functions.map((fn) => assemble(stack, fn, templateDir(fn.lang)!));
  for (const b of built) for (const w of b.warnings) opts.log.warn(w);
  const state = stateDir(stack);
  const queueFlag = opts.env['queue'] === undefined ? { queue: `sqlite:${join(state, 'queue.db')}` } : {};
  const config: RouterConfig = loadRouterConfig({ port: String(opts.port), 'async-worker': 'true', ...queueFlag }, opts.env);
  const stackResolver = createStackResolver();
  const functionLogs = createFunctionLogs(config.functionNamespace);
  const command = opts.watchdogCommand ?? [process.execPath, fileURLToPath(new URL('../main.js', import.meta.url)), 'watchdog'];
  const limits = new Map<string, number | undefined>();
  const functions = built.map((b): LocalFunction => {
    const tmpDir = join(state, 'run', b.fn.name);
    mkdirSync(tmpDir, { recursive: true });
    const settings = { ...b.dockerEnv, ...b.fn.environment };
    limits.set(b.fn.name, functionLimit(settings));
    const supervisor = new Supervisor({
      name: b.fn.name, cwd: b.folder, command, log: opts.log, output: opts.output,
      env: async () => watchdogEnv({
        base: opts.env, dockerfile: b.dockerEnv, stack: b.fn.environment, tmpDir,
        upstreamPort: isHttpMode(settings) ? await freePort() : undefined,
      }),
      onLine: (line, pid) => functionLogs.append(b.fn.name, `${b.fn.name}-${pid ?? 0}`, line),
      onReady: (url) => stackResolver.set(b.fn.name, url, {
        image: b.fn.image ?? `${b.fn.name}:latest`, envProcess: settings['fprocess'] ?? '', createdAt: new Date().toISOString(),
      }),
    });
    return { name: b.fn.name, built: b, supervisor, upstream: () => stackResolver.resolve(b.fn.name) };
  });
  const stopFunctions = (): Promise<unknown> => Promise.all(functions.map((f) => f.supervisor.stop(WATCHDOG_STOP_GRACE_MS)));

  try {
    await Promise.all(functions.map((f) => f.supervisor.start()));
    const router: RunningRouter = await startRouter(config, {
      log: opts.log.child({ component: 'router' }), resolvers: [stackResolver], functionLimit: (name) => limits.get(name), host: '127.0.0.1',
      functionLogs,
    });
    let stopped: Promise<void> | undefined;
    return {
      stack, url: router.url, port: router.port, queue: config.queue, functions,
      stop: () => (stopped ??= (async () => {
        functionLogs.close();
        await router.drain('SIGTERM');
        await stopFunctions();
      })()),
      kill: () => { for (const f of functions) f.supervisor.killNow(); },
    };
  } catch (err) {
    await stopFunctions();
    throw err;
  }
}
