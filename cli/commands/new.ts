// `whippet new <name> --lang <template>`: copy the template's function/ skeleton to ./<name>/ and add
// the function to the stack file (created when missing; comments and order kept).

import type { Argv } from 'yargs';
import { createFunction, type NewFunctionArgs } from '../../stack/new-function.js';
import { listTemplates } from '../../stack/templates.js';

export const command = {
  command: 'new <name>',
  describe: 'scaffold a function from a template and add it to a stack file',
  builder: (parser: Argv) => parser
    .positional('name', { type: 'string', demandOption: true, describe: 'function name (letters, digits, - and _)' })
    .option('lang', { alias: 'l', type: 'string', demandOption: true, describe: `template: ${safeTemplates()}` })
    .option('stack', { alias: 'f', type: 'string', describe: 'stack file to add the function to (created when missing)', defaultDescription: 'stack.yaml, else stack.yml' })
    .option('handler', { type: 'string', describe: 'folder for the function\'s code', defaultDescription: './<name>' })
    .example('$0 new hello --lang python3', 'creates ./hello/ and adds hello to ./stack.yml') as Argv<NewFunctionArgs>,
};

/** A refusal is a LocalStackError, thrown before anything is written: one line, exit 1 (cli/errors.ts). */
export function run(argv: NewFunctionArgs): number {
  process.stdout.write(createFunction(argv));
  return 0;
}

function safeTemplates(): string {
  try {
    return listTemplates().join(', ');
  } catch {
    return 'see templates/';
  }
}
