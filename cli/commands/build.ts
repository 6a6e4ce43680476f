// `whippet build [-f stack.yml] [name...]`: assemble .whippet/build/<name>/ (template + handler in
// function/) for each function, the folder `docker build` takes as its context and `whippet up` runs.

import type { Argv } from 'yargs';
import { RefusedError } from '../errors.js';
import { assemble, DockerfileError, shown } from '../stack/build-folder.js';
import { loadStack, selectFunctions, StackError } from '../stack/stack-file.js';
import { listTemplates, templateDir } from '../stack/templates.js';

interface BuildArgs { file: string; names?: string[] }

/** Build the named functions (all when none); returns what to print and the warnings. */
function buildStack(file: string, names: readonly string[]): { out: string; warnings: string[] } {
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

export const command = {
  command: 'build [names..]',
  describe: 'assemble the build folder (template + handler) of each function, for docker build and whippet up',
  builder: (parser: Argv) => parser
    .positional('names', { type: 'string', array: true, describe: 'functions to build (default: all in the stack file)' })
    .option('file', { alias: 'f', type: 'string', default: 'stack.yml', describe: 'the stack file' })
    .epilog('Each folder is .whippet/build/<name>/ beside the stack file, emptied first. The base image is\n'
      + 'ghcr.io/whippet/whippet:latest; pick another with docker build --build-arg WHIPPET_IMAGE=<image>.') as Argv<BuildArgs>,
};

export function run(argv: BuildArgs): number {
  let built: ReturnType<typeof buildStack>;
  try {
    built = buildStack(argv.file, argv.names ?? []);
  } catch (err) {
    if (err instanceof StackError || err instanceof DockerfileError) throw new RefusedError(err.message, { cause: err });
    throw err;
  }
  for (const warning of built.warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(built.out);
  return 0;
}
