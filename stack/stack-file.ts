// The stack file, as faas-cli writes and reads it: `functions: {name: {lang, handler, environment,
// environment_file, fprocess, image}}`, `${VAR}` and `${VAR:-default}` expanded in the whole text
// before it is parsed. Parsing reports every problem at once, each naming the function and the key.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml, parseDocument } from 'yaml';
import { splitCommand } from '../watchdog/command.js';
import { StackError } from './errors.js';
import { knownTemplates } from './templates.js';

/** One function of a stack. */
export interface StackFunction {
  readonly name: string;
  readonly lang: string;
  /** The handler folder, absolute (the stack gives it relative to the stack file). */
  readonly handler: string;
  /**
   * What the stack sets in the function's environment, every value a string: the environment_file
   * entries (later files win), then `environment`, then `fprocess`.
   */
  readonly environment: Readonly<Record<string, string>>;
  /** The stack's own `fprocess:` (it overrides the template's). */
  readonly fprocess?: string;
  readonly image?: string;
}

export interface Stack {
  /** The stack file, absolute. */
  readonly file: string;
  /** Its folder: handler paths, environment files, template/ and `.whippet/` are relative to it. */
  readonly dir: string;
  readonly functions: readonly StackFunction[];
}

type Variables = Readonly<Record<string, string | undefined>>;

export interface ParseOptions {
  /** Where `${VAR}` takes its values from: the environment the command runs in. */
  readonly env?: Variables;
  /** Reads an environment_file by absolute path (tests may give their own). */
  readonly readFile?: (path: string) => string;
}

/** Function names: what a URL path segment, a compose service and a folder can all hold. */
export const FUNCTION_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9_]*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYS = ['lang', 'handler', 'environment', 'environment_file', 'fprocess', 'image'];
// OpenFaaS keys that only matter to a cluster deployment; `whippet up` accepts and ignores them.
const DEPLOY_ONLY = ['labels', 'annotations', 'secrets', 'limits', 'requests', 'constraints', 'build_args',
  'build_options', 'namespace', 'readonly_root_filesystem', 'skip_build'];
/** The names faas-cli looks for when no file is given, in its order. */
export const DEFAULT_STACK_FILES = ['stack.yaml', 'stack.yml'] as const;

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The stack file to use: the one given, else stack.yaml, else stack.yml in `cwd`; StackError when there is none. */
export function findStackFile(given: string | undefined, cwd: string = process.cwd()): string {
  if (given !== undefined) return given;
  const found = DEFAULT_STACK_FILES.find((name) => existsSync(join(cwd, name)));
  if (found !== undefined) return found;
  throw new StackError(DEFAULT_STACK_FILES.join(' or '), [`no stack file in ${cwd}: name one, or create ${DEFAULT_STACK_FILES[0]} (whippet new <name> --lang <template> makes one)`]);
}

/**
 * `${VAR}` and `${VAR:-default}` (default when VAR is unset or empty; `${VAR-default}`: only when
 * unset), from `env`, in the whole text, as faas-cli does before it parses a stack file. `$${` stays a
 * literal `${`; a bare `$VAR` is left alone, so an fprocess such as `sh -c 'echo $HOME'` keeps it.
 */
export function expandVariables(text: string, env: Variables): { text: string; problems: string[] } {
  const problems: string[] = [];
  const expanded = text.replace(/\$(\$?)\{([^}\n]*)(\}?)/g, (whole, escaped: string, inside: string, closed: string, offset: number) => {
    const line = text.slice(0, offset).split('\n').length;
    if (escaped !== '') return whole.slice(1);
    if (closed === '') { problems.push(`line ${line}: \${${inside} has no closing }`); return whole; }
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*))?$/s.exec(inside);
    if (match === null) { problems.push(`line ${line}: \${${inside}}: expected \${VAR} or \${VAR:-default}`); return whole; }
    const [, name, operator, fallback] = match;
    const value = env[name!];
    if (operator === undefined) return value ?? '';
    const useFallback = operator === ':-' ? value === undefined || value === '' : value === undefined;
    return useFallback ? fallback! : value!;
  });
  return { text: expanded, problems };
}

/** Parse stack text; `templates` are the known `lang` values. Throws StackError listing every problem. */
export function parseStack(text: string, file: string, templates: readonly string[], options: ParseOptions = {}): Stack {
  const expansion = expandVariables(text, options.env ?? {});
  if (expansion.problems.length > 0) throw new StackError(file, expansion.problems);
  const doc = parseDocument(expansion.text);
  if (doc.errors.length > 0) {
    // The first line of yaml's message names the place: "... at line 3, column 5:".
    throw new StackError(file, doc.errors.map((error) => `not valid YAML: ${error.message.split('\n')[0]!.replace(/:$/, '')}`));
  }
  const top: unknown = doc.toJS();
  const dir = dirname(resolve(file));
  if (!isMap(top) || !isMap(top['functions']) || Object.keys(top['functions']).length === 0) {
    throw new StackError(file, ['expected a top-level `functions:` map with at least one function (name: {lang, handler})']);
  }
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const problems: string[] = [];
  const functions: StackFunction[] = [];
  for (const [name, raw] of Object.entries(top['functions'])) {
    const at = `functions.${name}`;
    if (!FUNCTION_NAME.test(name)) problems.push(`${at}: invalid function name, expected letters, digits, - and _ (starting with a letter or digit)`);
    if (!isMap(raw)) { problems.push(`${at}: expected a map with lang and handler`); continue; }
    for (const key of Object.keys(raw)) {
      if (!KEYS.includes(key) && !DEPLOY_ONLY.includes(key)) problems.push(`${at}.${key}: unknown key (known: ${KEYS.join(', ')}; ignored locally: ${DEPLOY_ONLY.join(', ')})`);
    }
    const { lang, handler, environment = {}, environment_file: environmentFiles = [], fprocess, image } = raw;
    if (typeof lang !== 'string' || lang === '') problems.push(`${at}.lang: required, one of ${templates.join(', ')}`);
    else if (!templates.includes(lang)) problems.push(`${at}.lang: unknown template ${JSON.stringify(lang)} (known: ${templates.join(', ')}; a project's own go in template/<lang>/ beside the stack file)`);
    if (typeof handler !== 'string' || handler === '') problems.push(`${at}.handler: required, the folder of the function's code relative to the stack file`);
    if (image !== undefined && typeof image !== 'string') problems.push(`${at}.image: expected a string`);
    const env: Record<string, string> = {};
    if (!Array.isArray(environmentFiles) || !environmentFiles.every((entry) => typeof entry === 'string' && entry !== '')) {
      problems.push(`${at}.environment_file: expected a list of YAML file names, relative to the stack file`);
    } else {
      for (const [index, entry] of (environmentFiles as string[]).entries()) {
        Object.assign(env, readEnvironmentFile(resolve(dir, entry), `${at}.environment_file[${index}] (${entry})`, readFile, problems));
      }
    }
    if (environment === null || !isMap(environment)) problems.push(`${at}.environment: expected a map of NAME: value`);
    else Object.assign(env, environmentValues(environment, `${at}.environment`, problems));
    if (fprocess !== undefined) {
      const problem = typeof fprocess === 'string' ? commandProblem(fprocess) : `expected a command line, got ${JSON.stringify(fprocess)}`;
      if (problem !== undefined) problems.push(`${at}.fprocess: ${problem}`);
      else env['fprocess'] = fprocess as string;
    }
    if (typeof lang === 'string' && typeof handler === 'string' && handler !== '') {
      functions.push({
        name, lang, handler: resolve(dir, handler), environment: env,
        ...(typeof fprocess === 'string' ? { fprocess } : {}), ...(typeof image === 'string' ? { image } : {}),
      });
    }
  }
  if (problems.length > 0) throw new StackError(file, problems);
  return { file: resolve(file), dir, functions };
}

/** A map of NAME: scalar as strings; each bad entry is a problem naming `at` and the key. */
function environmentValues(map: Record<string, unknown>, at: string, problems: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(map)) {
    if (!ENV_KEY.test(key)) problems.push(`${at}.${key}: not a valid variable name`);
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') env[key] = String(value);
    else problems.push(`${at}.${key}: expected a string, number or boolean, got ${value === null ? 'nothing' : JSON.stringify(value)}`);
  }
  return env;
}

/**
 * One environment_file: faas-cli's form holds an `environment:` map; a file that is itself a map of
 * NAME: value is read too.
 */
function readEnvironmentFile(path: string, at: string, readFile: (path: string) => string, problems: string[]): Record<string, string> {
  let content: unknown;
  try {
    content = parseYaml(readFile(path));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0];
    problems.push(`${at}: cannot read ${path} (${reason})`);
    return {};
  }
  const map = isMap(content) && isMap(content['environment']) ? content['environment'] : content;
  if (!isMap(map)) { problems.push(`${at}: expected an environment: map of NAME: value in ${path}`); return {}; }
  return environmentValues(map, at, problems);
}

/** Why the watchdog would refuse `command` as fprocess, or undefined: the same splitter decides. */
function commandProblem(command: string): string | undefined {
  try {
    splitCommand(command);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Read and check a stack file, including that each handler folder exists; `env` fills `${VAR}`. */
export function loadStack(file: string, env: Variables): Stack {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StackError(file, [`cannot read the stack file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  const stack = parseStack(text, file, knownTemplates(dirname(resolve(file))), { env });
  const missing = stack.functions
    .filter((fn) => !existsSync(fn.handler) || !statSync(fn.handler).isDirectory())
    .map((fn) => `functions.${fn.name}.handler: no such folder ${fn.handler}`);
  if (missing.length > 0) throw new StackError(file, missing);
  return stack;
}

/** Pick the functions named on the command line (all when none); unknown names are a StackError. */
export function selectFunctions(stack: Stack, names: readonly string[]): StackFunction[] {
  if (names.length === 0) return [...stack.functions];
  const unknown = names.filter((name) => !stack.functions.some((fn) => fn.name === name));
  if (unknown.length > 0) {
    throw new StackError(stack.file, unknown.map((name) => `no function ${JSON.stringify(name)} (the stack has ${stack.functions.map((fn) => fn.name).join(', ')})`));
  }
  return stack.functions.filter((fn) => names.includes(fn.name));
}
