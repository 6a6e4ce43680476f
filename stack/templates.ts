// Where the templates live: a project's own `template/<lang>/` beside its stack file (faas-cli's layout:
// template.yml, Dockerfile, function/) comes first, so an OpenFaaS project runs its own templates; then
// the templates/ folder of the installed whippet package, found from this module's own location (dist/stack/ when compiled, stack/ under tap's TypeScript loader), never from the cwd.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this module holding whippet's package.json. */
function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'whippet') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the whippet package above ${from}`);
  }
}

/** The folder holding one sub-folder per template. */
function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

/** Names of the installed templates (folders with a Dockerfile), sorted. */
export function listTemplates(dir: string = templatesDir()): string[] {
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'Dockerfile')) && statSync(join(dir, name)).isDirectory())
    .sort();
}

/** The folder of built-in template `lang`, or undefined when there is no such template. */
export function templateDir(lang: string, dir: string = templatesDir()): string | undefined {
  if (!TEMPLATE_NAME.test(lang)) return undefined;
  return listTemplates(dir).includes(lang) ? join(dir, lang) : undefined;
}

// Names that are one folder: no `..`, no slashes.
const TEMPLATE_NAME = /^[A-Za-z0-9][-A-Za-z0-9_.]*$/;

/** A template a function runs with, and where it was found. */
export interface TemplateChoice {
  readonly lang: string;
  readonly dir: string;
  /** `project`: the stack's own template/<lang>/; `built-in`: whippet's. */
  readonly source: 'project' | 'built-in';
}

/** The project's own templates: `template/<lang>/` folders with a Dockerfile beside the stack file. */
function projectTemplates(stackDir: string): string[] {
  const dir = join(stackDir, 'template');
  return existsSync(dir) && statSync(dir).isDirectory() ? listTemplates(dir) : [];
}

/** Every `lang` a stack in `stackDir` may use: its own templates and the built-in ones, sorted. */
export function knownTemplates(stackDir: string): string[] {
  return [...new Set([...projectTemplates(stackDir), ...listTemplates()])].sort();
}

/** The template `lang` runs with: the project's own first, then the built-in one. */
export function findTemplate(lang: string, stackDir: string): TemplateChoice | undefined {
  if (!TEMPLATE_NAME.test(lang)) return undefined;
  if (projectTemplates(stackDir).includes(lang)) return { lang, dir: join(stackDir, 'template', lang), source: 'project' };
  const builtIn = templateDir(lang);
  return builtIn === undefined ? undefined : { lang, dir: builtIn, source: 'built-in' };
}
