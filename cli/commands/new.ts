// `whippet new <name> --lang <template>`: copy the template's function/ skeleton to ./<name>/ and add
// the function to the stack file (created when missing; comments and order kept).

import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Argv } from 'yargs';
import { parse as parseYaml } from 'yaml';
import { RefusedError, UsageError } from '../errors.js';
import { addFunction } from '../stack/add-function.js';
import { shown } from '../stack/build-folder.js';
import { FUNCTION_NAME, StackError } from '../stack/stack-file.js';
import { listTemplates, templateDir } from '../stack/templates.js';

interface NewArgs { name: string; lang: string; stack: string; handler?: string }

/** `whippet new --list`: the templates, in faas-cli's `new --list` form. */
export function templateList(): string {
  return ['Languages available as templates:', ...listTemplates().sort().map((lang) => `- ${lang}`), '', ''].join('\n');
}

/** Create the function; returns what to print. Throws RefusedError or StackError before writing anything. */
export function createFunction(args: NewArgs, cwd: string = process.cwd()): string {
  if (!FUNCTION_NAME.test(args.name)) throw new RefusedError(`invalid function name ${JSON.stringify(args.name)}: use letters, digits, - and _, starting with a letter or digit`);
  const template = templateDir(args.lang);
  if (template === undefined) throw new RefusedError(`unknown template ${JSON.stringify(args.lang)}; installed: ${listTemplates().join(', ')}`);
  const stackFile = resolve(cwd, args.stack);
  const handlerDir = resolve(cwd, args.handler ?? args.name);
  if (existsSync(handlerDir) && readdirSync(handlerDir).length > 0) throw new RefusedError(`${shown(handlerDir, cwd)} already exists and is not empty; pick another name or --handler`);
  const rel = relative(dirname(stackFile), handlerDir).split(sep).join('/');
  const handlerRef = rel.startsWith('..') ? rel : `./${rel}`;
  const existing = existsSync(stackFile) ? readFileSync(stackFile, 'utf8') : undefined;
  const updated = addFunction(existing, shown(stackFile, cwd), args.name, { lang: args.lang, handler: handlerRef });
  cpSync(join(template, 'function'), handlerDir, { recursive: true });
  writeFileSync(stackFile, updated);
  const files = readdirSync(handlerDir).sort().join(', ');
  const welcome = (parseYaml(readFileSync(join(template, 'template.yml'), 'utf8')) as { welcome_message?: string } | null)?.welcome_message?.trim();
  const stackArg = shown(stackFile, cwd);
  return [
    `Created ${shown(handlerDir, cwd)}/ from the ${args.lang} template: ${files}`,
    `${existing === undefined ? 'Created' : 'Updated'} ${stackArg}: ${args.name} (lang: ${args.lang}, handler: ${handlerRef})`,
    ...(welcome === undefined ? [] : ['', welcome]),
    '',
    'Next:',
    `  whippet up ${stackArg}    # run the stack locally; Ctrl-C stops it`,
    `  curl -d 'hi' http://127.0.0.1:8080/function/${args.name}`,
    `  echo hi | whippet invoke ${args.name}`,
    `  whippet build -f ${stackArg} ${args.name}    # the folder docker build takes`,
    '',
  ].join('\n');
}

export const command = {
  command: 'new [name]',
  describe: 'scaffold a function from a template and add it to a stack file',
  builder: (parser: Argv) => parser
    .positional('name', { type: 'string', describe: 'function name (letters, digits, - and _)' })
    .option('lang', { alias: 'l', type: 'string', describe: `template: ${safeTemplates()}` })
    .option('list', { type: 'boolean', describe: 'list the templates and exit' })
    .option('stack', { alias: 'f', type: 'string', default: 'stack.yml', describe: 'stack file to add the function to (created when missing)' })
    .option('handler', { type: 'string', describe: 'folder for the function\'s code', defaultDescription: './<name>' })
    .example('$0 new hello --lang python3', 'creates ./hello/ and adds hello to ./stack.yml')
    .example('$0 new --list', 'the templates --lang takes') as Argv<NewArgs>,
};

export function run(argv: Partial<NewArgs> & { stack: string; list?: boolean }): number {
  if (argv.list === true) {
    process.stdout.write(templateList());
    return 0;
  }
  if (argv.name === undefined) throw new UsageError('name the function: whippet new <name> --lang <template> (or whippet new --list)');
  if (argv.lang === undefined) throw new UsageError(`--lang is required: one of ${safeTemplates()} (whippet new --list)`);
  try {
    process.stdout.write(createFunction({ ...argv, name: argv.name, lang: argv.lang }));
  } catch (err) {
    if (err instanceof StackError) throw new RefusedError(err.message, { cause: err });
    throw err;
  }
  return 0;
}

function safeTemplates(): string {
  try {
    return listTemplates().join(', ');
  } catch {
    return 'see templates/';
  }
}
