// `whippet build [-f stack.yml] [name...]`: assemble .whippet/build/<name>/ (template + handler in
// function/) for each function, the folder `docker build` takes as its context and `whippet up` runs.

import type { Argv, CommandModule } from 'yargs';
import { setExitCode } from '../run.js';
import { assemble, DockerfileError, shown } from '../stack/build-folder.js';
import { loadStack, selectFunctions, StackError } from '../stack/stack-file.js';
import { listTemplates, templateDir } from '../stack/templates.js';

interface BuildArgs { file: string; names?: string[] }

/** Build the named functions (all when none); returns what to print and the warnings. */
export function buildStack(file: string, names: readonly string[]): { out: string; warnings: string[] } {
  const stack = loadStack(file, listTemplates());
  const lines: string[] = [];
  const warnings: string[] = [];
  for (const fn of selectFunctions(stack, names)) {
    const built = assemble(stack, fn, templateDir(fn.lang)!);
    warnings.push(...built.warnings);
    lines.push(`${fn.name}: ${shown(built.folder)}/ (${fn.lang})`, `  docker build -t ${fn.image ?? `${fn.name}:latest`} ${shown(built.folder)}`);
  }
  return { out: `${lines.join('\n')}\n`, warnings };
}

export const command: CommandModule<object, BuildArgs> = {
  command: 'build [names..]',
  describe: 'assemble the build folder (template + handler) of each function, for docker build and whippet up',
  builder: (y: Argv) => y
    .positional('names', { type: 'string', array: true, describe: 'functions to build (default: all in the stack file)' })
    .option('file', { alias: 'f', type: 'string', default: 'stack.yml', describe: 'the stack file' })
    .epilog('Each folder is .whippet/build/<name>/ beside the stack file, emptied first. The base image is\n'
      + 'ghcr.io/whippet/watchdog:latest; pick another with docker build --build-arg WHIPPET_IMAGE=<image>.') as Argv<BuildArgs>,
  handler: (argv) => {
    try {
      const { out, warnings } = buildStack(argv.file, argv.names ?? []);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(out);
    } catch (err) {
      if (!(err instanceof StackError) && !(err instanceof DockerfileError)) throw err;
      process.stderr.write(`whippet build: ${err.message}\n`);
      setExitCode(1);
    }
  },
};
