// Command table and dispatch for the `whippet` CLI: wrong arguments print what was wrong and the usage, exit 2.
// yargs costs ~200 ms and ~13 MB to import here, so the long-running commands (watchdog, router, worker)
// parse their flags with node:util's parseArgs and load yargs only for --help or a usage error.

import { parseArgs } from 'node:util';
import type { Argv, CommandModule } from 'yargs';
import { flagName, type OptionTable } from '../common/options.js';

/** A yargs-free start for a command: the flags it accepts and a runner that resolves to the exit code. */
export interface FastPath {
  readonly options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  run(flags: Readonly<Record<string, unknown>>): Promise<number>;
}

/** What each command module exports: a yargs command whose handler calls setExitCode, and maybe a fast path. */
export interface WhippetCommand {
  readonly command: CommandModule<object, any>;
  readonly fast?: FastPath;
}

const COMMANDS: Readonly<Record<string, { describe: string; load: () => Promise<WhippetCommand> }>> = {
  watchdog: { describe: 'run the function watchdog (the entrypoint of a function image)', load: () => import('./commands/watchdog.js') },
  router: { describe: 'run the router (gateway) with its in-process queue-worker', load: () => import('./commands/router.js') },
  worker: { describe: 'run a queue-worker as its own process', load: () => import('./commands/worker.js') },
  up: { describe: 'build and run a stack file locally: watchdogs, router and worker', load: () => import('./commands/up.js') },
  invoke: { describe: 'call a function through the router, stdin as the body', load: () => import('./commands/invoke.js') },
  calls: { describe: 'list, show, retry or cancel async calls', load: () => import('./commands/calls.js') },
  new: { describe: 'scaffold a function from a template and add it to a stack file', load: () => import('./commands/new.js') },
  build: { describe: 'assemble the build folder (template + handler) of each function', load: () => import('./commands/build.js') },
};

/** Set by a command handler: the process exit code once the command is done. */
let commandExitCode = 0;
export function setExitCode(code: number): void { commandExitCode = code; }

/** parseArgs declarations for an option table: every setting is a string flag, aliases included. */
export function fastOptions(table: OptionTable, booleans: readonly string[] = []): FastPath['options'] {
  const out: NonNullable<FastPath['options']> = {};
  for (const spec of Object.values(table)) {
    for (const env of spec.env) out[flagName(env)] = { type: 'string', multiple: true };
  }
  for (const b of booleans) out[b] = { type: 'boolean' };
  return out;
}

/** Fold alias flags onto the canonical flag name, as yargs does, so loadOptions sees one key. */
export function foldAliases(table: OptionTable, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  for (const spec of Object.values(table)) {
    const [canonical, ...aliases] = spec.env.map(flagName);
    for (const a of aliases) {
      if (out[a] !== undefined && out[canonical!] === undefined) out[canonical!] = out[a];
      delete out[a];
    }
  }
  return out;
}

/** Run the CLI with `args` (no node/script prefix); resolves to the process exit code. */
export async function runCli(args: readonly string[], scriptName = 'whippet'): Promise<number> {
  const name = args[0];
  const spec = name === undefined ? undefined : COMMANDS[name];
  const wantsHelp = args.includes('--help') || args.includes('-h');
  let loaded: WhippetCommand | undefined;
  if (spec !== undefined && !wantsHelp) {
    loaded = await spec.load();
    if (loaded.fast !== undefined) {
      let flags: Record<string, unknown> | undefined;
      try {
        flags = parseArgs({ args: args.slice(1), options: loaded.fast.options, strict: true, allowPositionals: false }).values;
      } catch {
        flags = undefined; // yargs below reports the problem with the usage text
      }
      if (flags !== undefined) return loaded.fast.run(flags);
    }
  }
  return runYargs(args, scriptName, name, loaded);
}

async function runYargs(args: readonly string[], scriptName: string, name: string | undefined, loaded?: WhippetCommand): Promise<number> {
  const { default: yargs } = await import('yargs');
  let parser: Argv = yargs([...args])
    .scriptName(scriptName)
    .usage('$0 <command> [options]')
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(120, process.stdout.columns ?? 100));
  let usageError: string | undefined;
  parser = parser.fail((msg, err) => {
    // yargs' own validation (unknown option, failed .check()) is a usage error; anything else is a bug.
    if (err && err.name !== 'YError') throw err;
    usageError = msg ?? err?.message;
  });
  for (const [cmd, spec] of Object.entries(COMMANDS)) {
    if (cmd === name) {
      const mod = loaded ?? await spec.load();
      parser = parser.command(mod.command);
    } else {
      parser = parser.command(cmd, spec.describe);
    }
  }
  commandExitCode = 0;
  await parser.parseAsync();
  if (usageError !== undefined) {
    parser.showHelp('error');
    process.stderr.write(`\n${usageError}\n`);
    return 2;
  }
  return commandExitCode;
}
