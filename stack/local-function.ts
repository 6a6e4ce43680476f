// One function of a local stack: its settings checked as its watchdog will check them, where an
// http-mode function's process listens, and the supervisor that keeps its watchdog running.
//
// The upstream of an http-mode function: the stack's upstream_url wins, then the one in the Dockerfile
// of a project's own template (its process may listen on a port fixed in its code, as OpenFaaS's
// python3-http does on 5000); otherwise `up` picks a free port and says so in upstream_url, http_port
// and PORT, which whippet's own node-http template and OpenFaaS's node templates listen on. Two
// functions cannot share one port: a Dockerfile's port that an earlier function has is replaced by a
// picked one (with a warning), the same port set twice in the stack is refused.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../common/log.js';
import { ConfigError } from '../common/options.js';
import { freePort } from '../common/free-port.js';
import { shown, stateDir, templateLabel, type BuiltFunction } from './build-folder.js';
import { StackError } from './errors.js';
import type { Stack } from './stack-file.js';
import { Supervisor } from './supervisor.js';
import { functionSettings, watchdogEnv, type FunctionSettings } from './watchdog-env.js';

export interface LocalFunction {
  readonly name: string;
  readonly built: BuiltFunction;
  readonly supervisor: Supervisor;
  /** The watchdog's current URL. */
  upstream(): URL | undefined;
}

/** Where an http-mode function's process listens: a URL someone set, or a port `up` picks at each start. */
type Upstream =
  | { readonly kind: 'none' }
  | { readonly kind: 'set'; readonly url: URL; readonly from: 'the stack' | 'its Dockerfile' }
  | { readonly kind: 'picked' };

export interface LocalFunctionOptions {
  readonly stack: Stack;
  /** The environment `up` runs in: watchdogs inherit it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Where the watchdogs' tagged log lines go. */
  readonly output: (line: string) => void;
  /** Each line a function's watchdog wrote, untagged, with the function's name and the watchdog's pid. */
  readonly onLine?: (name: string, line: string, pid: number) => void;
  readonly watchdogCommand: readonly string[];
  /** Called each time a function's (re)started watchdog listens. */
  readonly onReady: (name: string, url: URL) => void;
}

/** The functions of a stack, ready to start; throws StackError listing every setting that would stop a watchdog. */
export function localFunctions(built: readonly BuiltFunction[], opts: LocalFunctionOptions): Array<LocalFunction & { readonly settings: FunctionSettings }> {
  const problems: string[] = [];
  const settingsByName = new Map(built.map((fn) => [fn.fn.name, settingsOf(fn, problems)]));
  const upstreams = planUpstreams(built, settingsByName, opts.log, problems);
  if (problems.length > 0) throw new StackError(shown(opts.stack.file), problems);
  return built.map((fn) => {
    const name = fn.fn.name;
    const settings = settingsByName.get(name)!;
    const upstream = upstreams.get(name)!;
    const tmpDir = join(stateDir(opts.stack), 'run', name);
    mkdirSync(tmpDir, { recursive: true });
    opts.log.info('function template', { function: name, template: templateLabel(fn.template), folder: shown(fn.folder) });
    let current: URL | undefined;
    const supervisor = new Supervisor({
      name, cwd: fn.folder, command: opts.watchdogCommand, log: opts.log, output: opts.output,
      onLine: (line, pid) => opts.onLine?.(name, line, pid),
      env: async () => watchdogEnv({
        base: opts.env, dockerfile: fn.dockerEnv, stack: fn.fn.environment, tmpDir, pythonPath: fn.pythonPath,
        // A fresh port at each start: the last process may still hold the old one for a moment.
        upstreamPort: upstream.kind === 'picked' ? await freePort() : undefined,
      }),
      waitingFor: (env) => waitingFor(settings, upstream, env),
      onReady: (url) => { current = url; opts.onReady(name, url); },
    });
    return { name, built: fn, settings, supervisor, upstream: () => current };
  });
}

function planUpstreams(built: readonly BuiltFunction[], settingsByName: ReadonlyMap<string, FunctionSettings | undefined>, log: Logger, problems: string[]): Map<string, Upstream> {
  const plans = new Map<string, Upstream>();
  const owners = new Map<string, string>();
  for (const fn of built) {
    const name = fn.fn.name;
    const settings = settingsByName.get(name);
    if (settings === undefined) continue;
    if (settings.mode !== 'http') { plans.set(name, { kind: 'none' }); continue; }
    const fromStack = setsUpstream(fn.fn.environment);
    const fromDockerfile = fn.template.source === 'project' && setsUpstream(fn.dockerEnv);
    if (!fromStack && !fromDockerfile) { plans.set(name, { kind: 'picked' }); continue; }
    const url = settings.upstreamUrl!;
    const from = fromStack ? 'the stack' : 'its Dockerfile';
    const owner = owners.get(url.host);
    if (owner !== undefined && fromStack) {
      problems.push(`functions.${name}: upstream_url ${url.href} is also ${owner}'s; give each function its own port`);
      continue;
    }
    if (owner !== undefined) {
      log.warn('upstream port taken; picking a free one', {
        function: name, upstream_url: url.href, takenBy: owner,
        why: 'up passes the picked port in upstream_url, http_port and PORT; a process that listens on a port fixed in its code cannot run twice on one machine',
      });
      plans.set(name, { kind: 'picked' });
      continue;
    }
    owners.set(url.host, name);
    plans.set(name, { kind: 'set', url, from });
  }
  return plans;
}

function setsUpstream(env: Readonly<Record<string, string>>): boolean {
  return env['upstream_url'] !== undefined || env['http_upstream_url'] !== undefined;
}

/** What a function that is not healthy yet waits for, in words a user can act on. */
function waitingFor(settings: FunctionSettings, upstream: Upstream, env: Readonly<Record<string, string>>): string {
  if (settings.mode !== 'http') return 'its watchdog to report healthy';
  const process = env['fprocess'] ?? env['function_process'] ?? 'its process';
  if (upstream.kind === 'set') return `${process} to accept connections at ${upstream.url.href} (upstream_url from ${upstream.from})`;
  return `${process} to accept connections at ${env['upstream_url']} (the port up picked, also in http_port and PORT)`;
}

/** A function's Dockerfile ENV and stack environment as its watchdog will read them; undefined (and problems) when it would refuse them. */
function settingsOf(built: BuiltFunction, problems: string[]): FunctionSettings | undefined {
  try {
    return functionSettings({ ...built.dockerEnv, ...built.fn.environment });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems.map((problem) => `functions.${built.fn.name}: ${problem}`));
    return undefined;
  }
}
