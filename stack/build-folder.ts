// `whippet build`: .whippet/build/<name>/ = the template's files + the handler copied into function/.
// The same folder is the `docker build` context and what `whippet up` runs, so both run the same thing.
// The template is the project's own template/<lang>/ when there is one, else whippet's.

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { dockerfileEnv, parseDockerfile } from './dockerfile.js';
import { DockerfileError, StackError } from './errors.js';
import { findStackFile, loadStack, selectFunctions, type Stack, type StackFunction } from './stack-file.js';
import { findTemplate, type TemplateChoice } from './templates.js';

/** `.whippet/` of a stack: build folders, the queue, nothing the user edits. */
export function stateDir(stack: Stack): string {
  return join(stack.dir, '.whippet');
}

/** The build folder of one function. */
function buildFolder(stack: Stack, fn: StackFunction): string {
  return join(stateDir(stack), 'build', fn.name);
}

export interface BuiltFunction {
  readonly fn: StackFunction;
  readonly folder: string;
  readonly template: TemplateChoice;
  /** The ENV of the folder's Dockerfile (final stage, later lines winning), fprocess from template.yml when it sets none. */
  readonly dockerEnv: Readonly<Record<string, string>>;
  /** Things that work in the image but may not locally (dependencies not installed). */
  readonly warnings: readonly string[];
}

type Variables = Readonly<Record<string, string | undefined>>;

/**
 * Assemble one function's build folder from a clean slate. `baseEnv` is what the Dockerfile's `$VAR`
 * reads beyond its own ENV lines (the environment the function will run in).
 */
export function assemble(stack: Stack, fn: StackFunction, baseEnv: Variables): BuiltFunction {
  const template = findTemplate(fn.lang, stack.dir);
  // loadStack checked every lang against the same folders; a template removed since is a new problem.
  if (template === undefined) throw new StackError(stack.file, [`functions.${fn.name}.lang: the template ${JSON.stringify(fn.lang)} is gone`]);
  const templateDir = template.dir;
  const folder = buildFolder(stack, fn);
  const state = stateDir(stack);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  for (const entry of readdirSync(templateDir)) {
    if (entry !== 'function') cpSync(join(templateDir, entry), join(folder, entry), { recursive: true });
  }
  // A handler folder may contain the stack's own .whippet/ (handler: .): never copy it into itself.
  // Entry by entry, because cpSync refuses a destination inside its source even with a filter.
  mkdirSync(join(folder, 'function'));
  for (const entry of readdirSync(fn.handler)) {
    if (resolve(fn.handler, entry) !== state) cpSync(join(fn.handler, entry), join(folder, 'function', entry), { recursive: true });
  }
  return { fn, folder, template, dockerEnv: readDockerfileEnv(folder, baseEnv), warnings: dependencyWarnings(fn, join(folder, 'function')) };
}

/**
 * The ENV a folder's Dockerfile sets, as `docker run` would see it; when it sets no fprocess, the one
 * of the folder's template.yml (faas-cli's templates name it there).
 */
export function readDockerfileEnv(folder: string, baseEnv: Variables = {}): Record<string, string> {
  const file = join(folder, 'Dockerfile');
  let env: Record<string, string>;
  try {
    env = dockerfileEnv(parseDockerfile(readFileSync(file, 'utf8')), baseEnv);
  } catch (err) {
    throw new DockerfileError(file, (err as Error).message, { cause: err });
  }
  if (env['fprocess'] !== undefined || env['function_process'] !== undefined) return env;
  const fromTemplate = templateFprocess(join(folder, 'template.yml'));
  return fromTemplate === undefined ? env : { ...env, fprocess: fromTemplate };
}

function templateFprocess(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const manifest = parseYaml(readFileSync(file, 'utf8')) as { fprocess?: unknown } | null;
    return typeof manifest?.fprocess === 'string' && manifest.fprocess.trim() !== '' ? manifest.fprocess : undefined;
  } catch (err) {
    throw new DockerfileError(file, `not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

function dependencyWarnings(fn: StackFunction, fnDir: string): string[] {
  const out: string[] = [];
  const manifest = join(fnDir, 'package.json');
  if (existsSync(manifest)) {
    const deps = (JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {};
    if (Object.keys(deps).length > 0 && !existsSync(join(fnDir, 'node_modules'))) {
      out.push(`${fn.name}: package.json lists dependencies but ${fn.handler} has no node_modules; run npm install there for local runs (the image installs them)`);
    }
  }
  const requirements = join(fnDir, 'requirements.txt');
  if (existsSync(requirements) && statSync(requirements).size > 0 && readFileSync(requirements, 'utf8').split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#'))) {
    out.push(`${fn.name}: requirements.txt lists packages; local runs use the python3 on PATH, so pip install them there (the image installs them)`);
  }
  return out;
}

/** Path for messages: relative to the cwd when that is shorter. */
export function shown(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') && rel.length > path.length ? path : rel;
}

/** `whippet build`: the named functions' folders (all when none); returns what to print and the warnings. */
export function buildStack(file: string | undefined, names: readonly string[], env: Variables): { out: string; warnings: string[] } {
  const stack = loadStack(findStackFile(file), env);
  const lines: string[] = [];
  const warnings: string[] = [];
  for (const fn of selectFunctions(stack, names)) {
    const built = assemble(stack, fn, env);
    warnings.push(...built.warnings);
    lines.push(`${fn.name}: ${shown(built.folder)}/ (${templateLabel(built.template)})`, `  docker build -t ${fn.image ?? `${fn.name}:latest`} ${shown(built.folder)}`);
  }
  return { out: `${lines.join('\n')}\n`, warnings };
}

/** How `up` and `build` name a function's template: the lang, and the folder when it is the project's own. */
export function templateLabel(template: TemplateChoice): string {
  return template.source === 'project' ? `${template.lang} from ${shown(template.dir)}` : template.lang;
}
