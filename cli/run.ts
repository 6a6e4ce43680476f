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

/**
 * Run the CLI with `args` (no node/script prefix); resolves to the process exit code. A `scriptName` other
 * than `whippet` names a script that is the one command args[0] (`fwatchdog` is `whippet watchdog`): its
 * usage reads `fwatchdog [options]`, and no other command is offered.
 */
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

/**
 * The command's yargs module with its handler: run() through the mapping, the exit code kept in `result`.
 * `footer` ends the usage yargs prints for --help (a usage error adds it in runYargs, once it happened).
 */
function withHandler(command: WhippetCommand, name: string, result: { exitCode: number }, footer: string | undefined): CommandModule<object, any> {
  let commandParser: Argv | undefined;
  const builder = command.command.builder;
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

/** Thrown from yargs' fail() to end the parse there (see runYargs): what was wrong, and the usage to show. */
class UsageFailure extends Error {
  constructor(message: string, readonly usage: string) {
    super(message);
  }
}

async function runYargs(args: readonly string[], scriptName: string, name: string | undefined, loaded?: WhippetCommand): Promise<number> {
  const { default: yargs } = await import('yargs');
  const command = name === undefined || COMMANDS[name] === undefined ? undefined : loaded ?? await COMMANDS[name].load();
  const alone = scriptName !== 'whippet' && command !== undefined;
  let parser: Argv = yargs(alone ? args.slice(1) : [...args]).scriptName(scriptName);
  if (!alone) parser = parser.usage('$0 <command> [options]\n$0 --version').demandCommand(1, 'name a command').recommendCommands();
  parser = parser
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(120, process.stdout.columns ?? 100));
  let failure: UsageFailure | undefined;
  parser = parser.fail((msg, err, context) => {
    // yargs' own validation (unknown option, a flag missing its value, failed .check()) is a usage error;
    // anything else is a bug. The usage is the one of the command being parsed, so it is taken now: once
    // parsing ends the parser is back at the top level.
    // Throwing stops the parse: when fail() returns, yargs goes on to run the command's handler.
    if (err && err.name !== 'YError') throw err;
    let usage = '';
    context.showHelp((text: string) => { usage = text; });
    failure = new UsageFailure(msg ?? err?.message ?? 'usage error', usage);
    throw failure;
  });
  const result = { exitCode: 0 };
  // The footer costs work (the watchdog's loads its addon and makes a probe child): only for a usage that is printed.
  const footer = command !== undefined && wantsHelp(args) ? await command.usageFooter?.() : undefined;
  if (alone) {
    parser = parser.command({ ...withHandler(command, name!, result, footer), command: '$0' });
  } else {
    for (const [cmd, spec] of Object.entries(COMMANDS)) {
      parser = cmd === name && command !== undefined
        ? parser.command(withHandler(command, cmd, result, footer))
        : parser.command(cmd, spec.describe);
    }
  }
  try {
    await parser.parseAsync();
  } catch (err) {
    if (err !== failure) throw err;
  }
  if (failure !== undefined) {
    const end = await command?.usageFooter?.();
    process.stderr.write(`${failure.usage}${end === undefined ? '' : `\n\n${end}`}\n\n${failure.message}\n`);
    return 2;
  }
  return result.exitCode;
}
