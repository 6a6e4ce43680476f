// A command's modules from its start bundle: dist/cli/start/NAME.cjs, one CommonJS script that
// cli/build-start-bundle.mjs makes at build time, compiled here through node:vm with the V8 code cache made
// beside it (NAME.cache). Node 20 has no compile cache for ES modules: without this, every start resolves,
// reads, parses and compiles the modules of the start path one by one (the watchdog's ~40: ~40-50 CPU ms and
// ~4.5 MB of RSS of a ~170 ms start, docs/performance.md).
//
// This module is CommonJS itself (a .cts), as are the command entries that load it (main.cts, fwatchdog.cts): Node
// then reaches the bundle without its ES module loader, which took ~20 ms of a start and ~0.5 MB (its async file
// reads start libuv's thread pool; docs/performance.md). Its builtins come through require(), not an ES module's
// facade of each, which reads every export (node:fs' facade loads fs' stream classes, ~5 ms).
//
// The cache is only a hint: V8 refuses one made by another V8 version, with other flags or for a source of
// another length (then it compiles the script as usual), and the build id both files start with must match.

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * The first line of a bundle: `// whippet start bundle <id> [V8 flags]`. Its cache starts with the same id, and
 * was made with those flags set (the router's --liftoff-only, common/wasm-tier.ts): they are set before the
 * script is compiled, as V8 takes a cache only under the flags it was made with.
 */
const HEADER = /^\/\/ whippet start bundle ([0-9a-f]+)((?: --[-a-z]+)*)\n/;

/** The commands that have a start bundle. */
const BUNDLED = new Set(['watchdog', 'router']);

/** What a start bundle exports (cli/watchdog-bundle.ts, cli/router-bundle.ts), and how it was compiled. */
export interface StartBundle {
  /** Run the command with `args` (after its name), or undefined when they need yargs (--help, a usage error). */
  start(args: readonly string[]): Promise<number> | undefined;
  /** `used`: V8 took the cache; `refused`: V8 or the build id refused it (compiled as usual); `none`: no cache. */
  readonly codeCache: 'used' | 'refused' | 'none';
}

/** NODE_OPTIONS that load code which hooks or measures modules (an APM agent, a test runner's coverage). */
const INSTRUMENTED = /(^|[\s"'])(--import|--require|-r|--loader|--experimental-loader)\b/;

/**
 * `whippet watchdog|router ARGS` from its start bundle; undefined for another command, --help, or when there is no
 * bundle. Not when modules are instrumented (NODE_OPTIONS with --import, --require or a loader; NODE_V8_COVERAGE):
 * what hooks or measures modules would not see the command's. WHIPPET_START_BUNDLE=0 turns it off (to
 * compare); WHIPPET_WRITE_CODE_CACHE is the build's training run.
 */
export function startBundled(args: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> | undefined {
  const name = args[0];
  if (name === undefined || !BUNDLED.has(name) || args.includes('--help') || args.includes('-h')) return undefined;
  if (env.WHIPPET_START_BUNDLE === '0' || env.NODE_V8_COVERAGE || INSTRUMENTED.test(env.NODE_OPTIONS ?? '')) return undefined;
  return loadStartBundle(name, { writeCacheTo: env.WHIPPET_WRITE_CODE_CACHE || undefined })?.start(args.slice(1));
}

/**
 * Run a command entry (main.cts, fwatchdog.cts): `args` from the start bundle when it takes them, else through the
 * CLI (run.ts, imported only then) as `scriptName`; the process exits with the command's code.
 */
export function runEntry(args: readonly string[], scriptName?: string): void {
  void (startBundled(args, process.env) ?? import('./run.js').then(({ runCli }) => runCli(args, scriptName))).then((code) => {
    process.exitCode = code;
  });
}

export interface StartBundleOptions {
  /** Build time: write the code cache to this file at exit (what the process compiled by then). */
  readonly writeCacheTo?: string;
  /** The folder of the bundles (tests); dist/cli/start/ by default. */
  readonly dir?: string;
}

/** Bundle `name`, or undefined when there is none (a build without the step, tsx). */
export function loadStartBundle(name: string, options: StartBundleOptions = {}): StartBundle | undefined {
  const file = options.dir === undefined ? join(__dirname, 'start', `${name}.cjs`) : `${options.dir}/${name}.cjs`;
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const header = HEADER.exec(source);
  const id = header?.[1];
  const flags = header?.[2]?.trim();
  if (flags) (require('node:v8') as typeof import('node:v8')).setFlagsFromString(flags);
  const cache = options.writeCacheTo === undefined && id !== undefined ? readCache(file.replace(/\.cjs$/, '.cache'), id) : undefined;
  const cachedData = cache === 'other build' ? undefined : cache;
  // The CommonJS wrapper, strict as the ES modules it was made from.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {'use strict';${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  const to = options.writeCacheTo;
  if (to !== undefined && id !== undefined) {
    process.once('exit', () => writeFileSync(to, Buffer.concat([Buffer.from(id), script.createCachedData()])));
  }
  const codeCache = cache === undefined ? 'none' : cache === 'other build' || script.cachedDataRejected === true ? 'refused' : 'used';
  return { ...(module.exports as Pick<StartBundle, 'start'>), codeCache };
}

/** The V8 data of a cache file made for build `id`; undefined when there is none. */
function readCache(file: string, id: string): Buffer | 'other build' | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return undefined;
  }
  return data.subarray(0, id.length).toString('latin1') === id ? data.subarray(id.length) : 'other build';
}
