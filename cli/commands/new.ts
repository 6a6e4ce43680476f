// `whippet new <name> --lang <template>`: copy the template's function/ skeleton to ./<name>/ and add
// the function to the stack file (created when missing; comments and order kept).

import type { Argv } from 'yargs';
import { createFunction, type NewFunctionArgs } from '../../stack/new-function.js';
import { listTemplates } from '../../stack/templates.js';
import { UsageError } from '../errors.js';

/** `whippet new --list`: the templates, in faas-cli's `new --list` form. */
export function templateList(): string {
  return ['Languages available as templates:', ...listTemplates().sort().map((lang) => `- ${lang}`), '', ''].join('\n');
}

export const command = {
  command: 'new [name]',
  describe: 'scaffold a function from a template and add it to a stack file',
  builder: (parser: Argv) => parser
    .positional('name', { type: 'string', describe: 'function name (letters, digits, - and _)' })
    .option('lang', { alias: 'l', type: 'string', describe: `template: ${safeTemplates()}` })
    .option('list', { type: 'boolean', describe: 'list the templates and exit' })
    .option('stack', { alias: 'f', type: 'string', describe: 'stack file to add the function to (created when missing)', defaultDescription: 'stack.yaml, else stack.yml' })
    .option('handler', { type: 'string', describe: 'folder for the function\'s code', defaultDescription: './<name>' })
    .example('$0 new hello --lang python3', 'creates ./hello/ and adds hello to ./stack.yml')
    .example('$0 new --list', 'the templates --lang takes') as Argv<Partial<NewFunctionArgs> & { list?: boolean }>,
};

/** A refusal is a LocalStackError, thrown before anything is written: one line, exit 1 (cli/errors.ts). */
export function run(argv: Partial<NewFunctionArgs> & { list?: boolean }): number {
  if (argv.list === true) {
    process.stdout.write(templateList());
    return 0;
  }
  if (argv.name === undefined) throw new UsageError('name the function: whippet new <name> --lang <template> (or whippet new --list)');
  if (argv.lang === undefined) throw new UsageError(`--lang is required: one of ${safeTemplates()} (whippet new --list)`);
  process.stdout.write(createFunction({ ...argv, name: argv.name, lang: argv.lang }));
  return 0;
}

function safeTemplates(): string {
  try {
    return listTemplates().join(', ');
  } catch {
    return 'see templates/';
  }
}
