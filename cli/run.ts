// Command table and dispatch for the `whippet` CLI: wrong arguments print what was wrong and the usage, exit 2.

import yargs, { type Argv, type CommandModule } from 'yargs';

/** What each command module exports: a yargs command whose handler sets the exit code it returns. */
export interface WhippetCommand {
  readonly command: CommandModule<object, any>;
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

/** Run the CLI with `args` (no node/script prefix); resolves to the process exit code. */
export async function runCli(args: readonly string[], scriptName = 'whippet'): Promise<number> {
  const name = args[0];
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
    if (err) throw err;
    usageError = msg;
  });
  for (const [cmd, spec] of Object.entries(COMMANDS)) {
    if (cmd === name) {
      const mod = await spec.load();
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
