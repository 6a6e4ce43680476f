// `whippet build [-f stack.yml] [name...]`: assemble .whippet/build/<name>/ (template + handler in
// function/) for each function, the folder `docker build` takes as its context and `whippet up` runs.

import type { Argv, CommandModule } from 'yargs';
import { setExitCode } from '../run.js';
import { buildStack } from '../../stack/build-folder.js';
import { LocalStackError } from '../../stack/errors.js';

interface BuildArgs { file?: string; names?: string[] }

export const command: CommandModule<object, BuildArgs> = {
  command: 'build [names..]',
  describe: 'assemble the build folder (template + handler) of each function, for docker build and whippet up',
  builder: (y: Argv) => y
    .positional('names', { type: 'string', array: true, describe: 'functions to build (default: all in the stack file)' })
    .option('file', { alias: 'f', type: 'string', describe: 'the stack file', defaultDescription: 'stack.yaml, else stack.yml' })
    .epilog('Each folder is .whippet/build/<name>/ beside the stack file, emptied first. The base image is\n'
      + 'ghcr.io/whippet/whippet:latest; pick another with docker build --build-arg WHIPPET_IMAGE=<image>.') as Argv<BuildArgs>,
  handler: (argv) => {
    try {
      const { out, warnings } = buildStack(argv.file, argv.names ?? [], process.env);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(out);
    } catch (err) {
      if (!(err instanceof LocalStackError)) throw err;
      process.stderr.write(`whippet build: ${err.message}\n`);
      setExitCode(1);
    }
  },
};
