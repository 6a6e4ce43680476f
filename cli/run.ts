// Command table and dispatch for the `whippet` CLI: each command resolves to its exit code, and the one
// mapping in errors.ts turns what it throws into one (wrong arguments: what was wrong and the usage, exit 2).
// yargs costs ~200 ms and ~13 MB to import here, so a command with a fast path (the watchdog, which every
// function image starts) parses its flags with node:util's parseArgs and loads yargs only for --help or a
// usage error.

import type { Argv, CommandModule } from 'yargs';
import { runCommand, runFast, type WhippetCommand } from './fast-path.js';

export type { WhippetCommand } from './fast-path.js';

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

/** Run the CLI with `args` (no node/script prefix); resolves to the process exit code. */
export async function runCli(args: readonly string[], scriptName = 'whippet'): Promise<number> {
  if (args.length === 1 && args[0] === '--version') {
    const { whippetVersion } = await import('../common/version.js');
    process.stdout.write(`whippet ${whippetVersion()}\n`);
    return 0;
  }
  const name = args[0];
  const spec = name === undefined ? undefined : COMMANDS[name];
  let loaded: WhippetCommand | undefined;
  if (spec !== undefined && !wantsHelp(args)) {
    loaded = await spec.load();
    const done = runFast(loaded, name!, args.slice(1));
    if (done !== undefined) return done;
  }
  return runYargs(args, scriptName, name, loaded);
}

const wantsHelp = (args: readonly string[]): boolean => args.includes('--help') || args.includes('-h');

/** The command's yargs module with its handler: run() through the mapping, the exit code kept in `result`. */
async function withHandler(command: WhippetCommand, name: string, result: { exitCode: number }): Promise<CommandModule<object, any>> {
  let commandParser: Argv | undefined;
  const builder = command.command.builder;
  const footer = await command.usageFooter?.();
  return {
    ...command.command,
    // Synchronous: yargs sends a usage error of a command with an async builder past fail(), as a rejection.
    builder: (parser: Argv) => {
      commandParser = parser;
      const built = (typeof builder === 'function' ? builder(parser) : parser.options(builder ?? {})) as Argv;
      return footer === undefined ? built : built.epilog(`\n${footer}`);
    },
    handler: async (argv) => {
      result.exitCode = await runCommand(command, name, argv, () => commandParser?.showHelp('error'));
    },
  } as CommandModule<object, any>;
}

/** Thrown from yargs' fail() to end the parse there (see runYargs). */
class UsageFailure extends Error {}

async function runYargs(args: readonly string[], scriptName: string, name: string | undefined, loaded?: WhippetCommand): Promise<number> {
  const { default: yargs } = await import('yargs');
  let parser: Argv = yargs([...args])
    .scriptName(scriptName)
    .usage('$0 <command> [options]\n$0 --version')
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(120, process.stdout.columns ?? 100));
  let usageError: string | undefined;
  let usage: string | undefined;
  parser = parser.fail((msg, err, context) => {
    // yargs' own validation (unknown option, a flag missing its value, failed .check()) is a usage error;
    // anything else is a bug. The usage is the one of the command being parsed, so it is taken now: once
    // parsing ends the parser is back at the top level.
    // Throwing stops the parse: when fail() returns, yargs goes on to run the command's handler.
    if (err && err.name !== 'YError') throw err;
    usageError = msg ?? err?.message;
    context.showHelp((text: string) => { usage = text; });
    throw new UsageFailure(usageError ?? 'usage error');
  });
  const result = { exitCode: 0 };
  for (const [cmd, spec] of Object.entries(COMMANDS)) {
    if (cmd === name) {
      parser = parser.command(await withHandler(loaded ?? await spec.load(), cmd, result));
    } else {
      parser = parser.command(cmd, spec.describe);
    }
  }
  try {
    await parser.parseAsync();
  } catch (err) {
    if (!(err instanceof UsageFailure)) throw err;
  }
  if (usageError !== undefined) {
    process.stderr.write(`${usage ?? ''}\n\n${usageError}\n`);
    return 2;
  }
  return result.exitCode;
}
