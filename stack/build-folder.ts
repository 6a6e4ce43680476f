// `whippet build`: .whippet/build/<name>/ = the template's files + the handler copied into function/,
// the `docker build` context. `whippet up` assembles the same files into .whippet/up/<name>/ (up-folder.ts)
// and runs them there, so both run the same thing; the folders are separate so that a build while up runs
// never pulls a folder out from under a running watchdog, and the dependencies up installs for a local
// run never end up in an image's context. Either folder is filled under a fresh name beside it, then
// renamed in place: nothing ever sees a half-copied folder.
// The template is the project's own template/<lang>/ when there is one, else whippet's.

import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { dockerfileEnv, parseDockerfile } from './dockerfile.js';
import { DockerfileError, StackError } from './errors.js';
import { findStackFile, loadStack, selectFunctions, type Stack, type StackFunction } from './stack-file.js';
import { findTemplate, type TemplateChoice } from './templates.js';

/** `.whippet/` of a stack: build folders, the queue, nothing the user edits. */
export function stateDir(stack: Stack): string {
  return join(stack.dir, '.whippet');
}

/** The build folder of one function (`whippet build`'s, the docker build context). */
function buildFolder(stack: Stack, fn: StackFunction): string {
  return join(stateDir(stack), 'build', fn.name);
}

export interface BuiltFunction {
  readonly fn: StackFunction;
  readonly folder: string;
  readonly template: TemplateChoice;
  /** The ENV of the folder's Dockerfile (final stage, later lines winning), fprocess from template.yml when it sets none. */
  readonly dockerEnv: Readonly<Record<string, string>>;
  /** up only: the folder its pip install went to, first on the watchdog's PYTHONPATH. */
  readonly pythonPath?: string;
}

type Variables = Readonly<Record<string, string | undefined>>;

/**
 * Assemble one function's build folder: filled under a fresh name, then swapped in. `baseEnv` is what
 * the Dockerfile's `$VAR` reads beyond its own ENV lines (the environment the function will run in).
 */
export function assemble(stack: Stack, fn: StackFunction, baseEnv: Variables, folder: string = buildFolder(stack, fn)): BuiltFunction {
  const template = templateOf(stack, fn);
  replaceFolder(folder, (fresh) => copyFunction(stack, fn, template, fresh));
  return { fn, folder, template, dockerEnv: readDockerfileEnv(folder, baseEnv) };
}

/** The template a function of a loaded stack runs with. */
export function templateOf(stack: Stack, fn: StackFunction): TemplateChoice {
  const template = findTemplate(fn.lang, stack.dir);
  // loadStack checked every lang against the same folders; a template removed since is a new problem.
  if (template === undefined) throw new StackError(stack.file, [`functions.${fn.name}.lang: the template ${JSON.stringify(fn.lang)} is gone`]);
  return template;
}

/** The template's files (its function/ skeleton aside) and the handler as function/, into an empty `folder`. */
export function copyFunction(stack: Stack, fn: StackFunction, template: TemplateChoice, folder: string): void {
  const state = stateDir(stack);
  for (const entry of readdirSync(template.dir)) {
    if (entry !== 'function') cpSync(join(template.dir, entry), join(folder, entry), { recursive: true });
  }
  // A handler folder may contain the stack's own .whippet/ (handler: .): never copy it into itself.
  // Entry by entry, because cpSync refuses a destination inside its source even with a filter.
  mkdirSync(join(folder, 'function'));
  for (const entry of readdirSync(fn.handler)) {
    if (resolve(fn.handler, entry) !== state) cpSync(join(fn.handler, entry), join(folder, 'function', entry), { recursive: true });
  }
}

/**
 * Replace `target` by a folder `fill` makes under a fresh name beside it (same file system, so the
 * renames are cheap). The old folder is renamed aside, the new one renamed in, then the old one removed:
 * the path is missing for the moment between two renames, never half-filled. `fill` may take what it
 * keeps from the old folder (up's installed dependencies) before it goes.
 */
export function replaceFolder(target: string, fill: (fresh: string, old: string | undefined) => void): void {
  const fresh = freshFolderFor(target);
  try {
    fill(fresh, existsSync(target) ? target : undefined);
  } catch (err) {
    rmSync(fresh, { recursive: true, force: true });
    throw err;
  }
  swapIn(fresh, target);
}

/**
 * Remove what an interrupted replace left beside `target` (its `.new-` and `.old-` folders). Only for a
 * folder no one else fills at the same time: up's, under the stack's lock.
 */
export function removeLeftovers(target: string): void {
  if (!existsSync(dirname(target))) return;
  const prefix = `.${basename(target)}.`;
  for (const entry of readdirSync(dirname(target))) {
    if (entry.startsWith(prefix) && /^\.(new|old)-[^.]+$/.test(entry.slice(prefix.length - 1))) rmSync(join(dirname(target), entry), { recursive: true, force: true });
  }
}

/** An empty folder beside `target` (same file system) to fill and then swapIn. */
export function freshFolderFor(target: string): string {
  mkdirSync(dirname(target), { recursive: true });
  const fresh = mkdtempSync(join(dirname(target), `.${basename(target)}.new-`));
  chmodSync(fresh, 0o755); // mkdtemp's 0700 would be the folder's mode for good
  return fresh;
}

/** Put `fresh` (from freshFolderFor) where `target` is: old one renamed aside, new one in, old one removed. */
export function swapIn(fresh: string, target: string): void {
  const old = existsSync(target) ? fresh.replace(/\.new-([^/]*)$/, '.old-$1') : undefined;
  if (old !== undefined) renameSync(target, old);
  renameSync(fresh, target);
  if (old !== undefined) rmSync(old, { recursive: true, force: true });
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

/** Path for messages: relative to the cwd when that is shorter. */
export function shown(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') && rel.length > path.length ? path : rel;
}

/**
 * `whippet build`: the named functions' folders (all when none); returns what to print. Dependencies
 * are left to the image build (the template's Dockerfile installs them), so nothing is installed here.
 */
export function buildStack(file: string | undefined, names: readonly string[], env: Variables): string {
  const stack = loadStack(findStackFile(file), env);
  const lines: string[] = [];
  for (const fn of selectFunctions(stack, names)) {
    const built = assemble(stack, fn, env);
    lines.push(`${fn.name}: ${shown(built.folder)}/ (${templateLabel(built.template)})`, `  docker build -t ${fn.image ?? `${fn.name}:latest`} ${shown(built.folder)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** How `up` and `build` name a function's template: the lang, and the folder when it is the project's own. */
export function templateLabel(template: TemplateChoice): string {
  return template.source === 'project' ? `${template.lang} from ${shown(template.dir)}` : template.lang;
}
