// `whippet new`: copy a template's function/ skeleton to the handler folder and add the function to
// the stack file (created when missing; comments and order kept). Everything is checked first, so a
// refusal writes nothing.

import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { addFunction } from './add-function.js';
import { shown } from './build-folder.js';
import { NewFunctionError } from './errors.js';
import { DEFAULT_STACK_FILES, FUNCTION_NAME } from './stack-file.js';
import { findTemplate, knownTemplates } from './templates.js';

export interface NewFunctionArgs {
  readonly name: string;
  readonly lang: string;
  /** The stack file, relative to cwd; default: stack.yaml when there is one, else stack.yml (created when missing). */
  readonly stack?: string;
  /** The handler folder, relative to cwd (default ./<name>). */
  readonly handler?: string;
}

/** Create the function; returns what to print. Throws NewFunctionError or StackError before writing anything. */
export function createFunction(args: NewFunctionArgs, cwd: string = process.cwd()): string {
  if (!FUNCTION_NAME.test(args.name)) throw new NewFunctionError(`invalid function name ${JSON.stringify(args.name)}: use letters, digits, - and _, starting with a letter or digit`);
  const stackFile = resolve(cwd, args.stack ?? DEFAULT_STACK_FILES.find((name) => existsSync(join(cwd, name))) ?? 'stack.yml');
  // The project's own template/<lang>/ beside the stack file first, as `up` and `build` will use it.
  const template = findTemplate(args.lang, dirname(stackFile))?.dir;
  if (template === undefined) throw new NewFunctionError(`unknown template ${JSON.stringify(args.lang)}; installed: ${knownTemplates(dirname(stackFile)).join(', ')}`);
  const handlerDir = resolve(cwd, args.handler ?? args.name);
  if (existsSync(handlerDir) && readdirSync(handlerDir).length > 0) throw new NewFunctionError(`${shown(handlerDir, cwd)} already exists and is not empty; pick another name or --handler`);
  const rel = relative(dirname(stackFile), handlerDir).split(sep).join('/');
  const handlerRef = rel.startsWith('..') ? rel : `./${rel}`;
  const existing = existsSync(stackFile) ? readFileSync(stackFile, 'utf8') : undefined;
  const updated = addFunction(existing, shown(stackFile, cwd), args.name, { lang: args.lang, handler: handlerRef });
  cpSync(join(template, 'function'), handlerDir, { recursive: true });
  writeFileSync(stackFile, updated);
  const files = readdirSync(handlerDir).sort().join(', ');
  const manifest = join(template, 'template.yml');
  const welcome = existsSync(manifest) ? (parseYaml(readFileSync(manifest, 'utf8')) as { welcome_message?: string } | null)?.welcome_message?.trim() : undefined;
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
