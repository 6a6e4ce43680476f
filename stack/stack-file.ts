// The stack file (OpenFaaS stack.yml form): `functions: {name: {lang, handler, environment}}`.
// Parsing is pure and reports every problem at once, each naming the function and the key.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { StackError } from './errors.js';

/** One function of a stack. */
export interface StackFunction {
  readonly name: string;
  readonly lang: string;
  /** The handler folder, absolute (the stack gives it relative to the stack file). */
  readonly handler: string;
  /** The stack's `environment`, every value as a string. */
  readonly environment: Readonly<Record<string, string>>;
  readonly image?: string;
}

export interface Stack {
  /** The stack file, absolute. */
  readonly file: string;
  /** Its folder: handler paths and `.whippet/` are relative to it. */
  readonly dir: string;
  readonly functions: readonly StackFunction[];
}

/** Function names: what a URL path segment, a compose service and a folder can all hold. */
export const FUNCTION_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9_]*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYS = ['lang', 'handler', 'environment', 'image'];
// OpenFaaS keys that only matter to a cluster deployment; `whippet up` accepts and ignores them.
const DEPLOY_ONLY = ['labels', 'annotations', 'secrets', 'limits', 'requests', 'constraints', 'build_args',
  'build_options', 'namespace', 'readonly_root_filesystem', 'skip_build'];

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse stack text; `templates` are the known `lang` values. Throws StackError listing every problem. */
export function parseStack(text: string, file: string, templates: readonly string[]): Stack {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    // The first line of yaml's message names the place: "... at line 3, column 5:".
    throw new StackError(file, doc.errors.map((e) => `not valid YAML: ${e.message.split('\n')[0]!.replace(/:$/, '')}`));
  }
  const top: unknown = doc.toJS();
  const problems: string[] = [];
  const dir = dirname(resolve(file));
  if (!isMap(top) || !isMap(top['functions']) || Object.keys(top['functions']).length === 0) {
    throw new StackError(file, ['expected a top-level `functions:` map with at least one function (name: {lang, handler})']);
  }
  const functions: StackFunction[] = [];
  for (const [name, raw] of Object.entries(top['functions'])) {
    const at = `functions.${name}`;
    if (!FUNCTION_NAME.test(name)) problems.push(`${at}: invalid function name, expected letters, digits, - and _ (starting with a letter or digit)`);
    if (!isMap(raw)) { problems.push(`${at}: expected a map with lang and handler`); continue; }
    for (const key of Object.keys(raw)) {
      if (!KEYS.includes(key) && !DEPLOY_ONLY.includes(key)) problems.push(`${at}.${key}: unknown key (known: ${KEYS.join(', ')}; ignored locally: ${DEPLOY_ONLY.join(', ')})`);
    }
    const { lang, handler, environment = {}, image } = raw;
    if (typeof lang !== 'string' || lang === '') problems.push(`${at}.lang: required, one of ${templates.join(', ')}`);
    else if (!templates.includes(lang)) problems.push(`${at}.lang: unknown template ${JSON.stringify(lang)} (installed: ${templates.join(', ')})`);
    if (typeof handler !== 'string' || handler === '') problems.push(`${at}.handler: required, the folder of the function's code relative to the stack file`);
    if (image !== undefined && typeof image !== 'string') problems.push(`${at}.image: expected a string`);
    const env: Record<string, string> = {};
    if (environment === null || !isMap(environment)) problems.push(`${at}.environment: expected a map of NAME: value`);
    else {
      for (const [k, v] of Object.entries(environment)) {
        if (!ENV_KEY.test(k)) problems.push(`${at}.environment.${k}: not a valid variable name`);
        else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') env[k] = String(v);
        else problems.push(`${at}.environment.${k}: expected a string, number or boolean, got ${v === null ? 'nothing' : JSON.stringify(v)}`);
      }
    }
    if (typeof lang === 'string' && typeof handler === 'string' && handler !== '') {
      functions.push({ name, lang, handler: resolve(dir, handler), environment: env, ...(typeof image === 'string' ? { image } : {}) });
    }
  }
  if (problems.length > 0) throw new StackError(file, problems);
  return { file: resolve(file), dir, functions };
}

/** Read and check a stack file, including that each handler folder exists. */
export function loadStack(file: string, templates: readonly string[]): Stack {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StackError(file, [`cannot read the stack file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  const stack = parseStack(text, file, templates);
  const missing = stack.functions
    .filter((f) => !existsSync(f.handler) || !statSync(f.handler).isDirectory())
    .map((f) => `functions.${f.name}.handler: no such folder ${f.handler}`);
  if (missing.length > 0) throw new StackError(file, missing);
  return stack;
}

/** Pick the functions named on the command line (all when none); unknown names are a StackError. */
export function selectFunctions(stack: Stack, names: readonly string[]): StackFunction[] {
  if (names.length === 0) return [...stack.functions];
  const unknown = names.filter((n) => !stack.functions.some((f) => f.name === n));
  if (unknown.length > 0) {
    throw new StackError(stack.file, unknown.map((n) => `no function ${JSON.stringify(n)} (the stack has ${stack.functions.map((f) => f.name).join(', ')})`));
  }
  return stack.functions.filter((f) => names.includes(f.name));
}
