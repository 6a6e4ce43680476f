// `whippet build [-f stack.yml] [name...]`: assemble .whippet/build/<name>/ (template + handler in
// function/) for each function, the folder `docker build` takes as its context and `whippet up` runs.

import type { Argv } from 'yargs';
import { buildStack } from '../../stack/build-folder.js';

interface BuildArgs { file?: string; names?: string[] }

export const command = {
  command: 'build [names..]',
  describe: 'assemble the build folder (template + handler) of each function, for docker build and whippet up',
  builder: (parser: Argv) => parser
    .positional('names', { type: 'string', array: true, describe: 'functions to build (default: all in the stack file)' })
    .option('file', { alias: 'f', type: 'string', describe: 'the stack file', defaultDescription: 'stack.yaml, else stack.yml' })
    .epilog('Each folder is .whippet/build/<name>/ beside the stack file, emptied first. The base image is\n'
      + 'ghcr.io/whippet/watchdog:latest; pick another with docker build --build-arg WHIPPET_IMAGE=<image>.') as Argv<BuildArgs>,
};

/** A stack or Dockerfile it cannot use is a LocalStackError: one line, exit 1 (cli/errors.ts). */
export function run(argv: BuildArgs): number {
  const built = buildStack(argv.file, argv.names ?? [], process.env);
  for (const warning of built.warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(built.out);
  return 0;
}
