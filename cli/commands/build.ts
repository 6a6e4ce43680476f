// `whippet build [-f stack.yml] [name...]`: assemble .whippet/build/<name>/ (template + handler in
// function/) for each function, the folder `docker build` takes as its context and `whippet up` runs.

import type { Argv } from 'yargs';
import { buildStack } from '../../stack/build-folder.js';

interface BuildArgs { file?: string; names?: string[] }

export const command = {
  command: 'build [names..]',
  describe: 'assemble the build folder (template + handler) of each function: the docker build context',
  builder: (parser: Argv) => parser
    .positional('names', { type: 'string', array: true, describe: 'functions to build (default: all in the stack file)' })
    .option('file', { alias: 'f', type: 'string', describe: 'the stack file', defaultDescription: 'stack.yaml, else stack.yml' })
    .epilog('Each folder is .whippet/build/<name>/ beside the stack file, made afresh under another name and then\n'
      + 'swapped in (a running `whippet up` runs from .whippet/up/ and is not disturbed). Dependencies are left to\n'
      + 'the image build. The base image is ghcr.io/whippet/watchdog:latest; pick another with\n'
      + 'docker build --build-arg WHIPPET_IMAGE=<image>.') as Argv<BuildArgs>,
};

/** A stack or Dockerfile it cannot use is a LocalStackError: one line, exit 1 (cli/errors.ts). */
export function run(argv: BuildArgs): number {
  process.stdout.write(buildStack(argv.file, argv.names ?? [], process.env));
  return 0;
}
