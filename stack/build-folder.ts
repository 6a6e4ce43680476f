// `whippet build`: .whippet/build/<name>/ = the template's files + the handler copied into function/.
// The same folder is the `docker build` context and what `whippet up` runs, so both run the same thing.

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { dockerfileEnv, parseDockerfile } from './dockerfile.js';
import { DockerfileError } from './errors.js';
import { loadStack, selectFunctions, type Stack, type StackFunction } from './stack-file.js';
import { listTemplates, templateDir } from './templates.js';

/** `.whippet/` of a stack: build folders, the queue, nothing the user edits. */
export function stateDir(stack: Stack): string {
  return join(stack.dir, '.whippet');
}

/** The build folder of one function. */
export function buildFolder(stack: Stack, fn: StackFunction): string {
  return join(stateDir(stack), 'build', fn.name);
}

export interface BuiltFunction {
  readonly fn: StackFunction;
  readonly folder: string;
  /** The ENV of the folder's Dockerfile (final stage, later lines winning). */
  readonly dockerEnv: Readonly<Record<string, string>>;
  /** Things that work in the image but may not locally (dependencies not installed). */
  readonly warnings: readonly string[];
}

/** Assemble one function's build folder from a clean slate; `templateDir` is templates/<lang>. */
export function assemble(stack: Stack, fn: StackFunction, templateDir: string): BuiltFunction {
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
  return { fn, folder, dockerEnv: readDockerfileEnv(folder), warnings: dependencyWarnings(fn, join(folder, 'function')) };
}

/** The ENV a folder's Dockerfile sets, as `docker run` would see it. */
export function readDockerfileEnv(folder: string): Record<string, string> {
  const file = join(folder, 'Dockerfile');
  try {
    return dockerfileEnv(parseDockerfile(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new DockerfileError(file, (err as Error).message, { cause: err });
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
  if (existsSync(requirements) && statSync(requirements).size > 0 && readFileSync(requirements, 'utf8').split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('#'))) {
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
export function buildStack(file: string, names: readonly string[]): { out: string; warnings: string[] } {
  const stack = loadStack(file, listTemplates());
  const lines: string[] = [];
  const warnings: string[] = [];
  for (const fn of selectFunctions(stack, names)) {
    const built = assemble(stack, fn, templateDir(fn.lang)!);
    warnings.push(...built.warnings);
    lines.push(`${fn.name}: ${shown(built.folder)}/ (${fn.lang})`, `  docker build -t ${fn.image ?? `${fn.name}:latest`} ${shown(built.folder)}`);
  }
  return { out: `${lines.join('\n')}\n`, warnings };
}
