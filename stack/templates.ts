// Where the templates live: the templates/ folder of the installed whippet package, found from this
// module's own location (dist/stack/ when compiled, stack/ under tap's TypeScript loader), never from the cwd.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this module holding whippet's package.json. */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'whippet') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the whippet package above ${from}`);
  }
}

/** The folder holding one sub-folder per template. */
export function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

/** Names of the installed templates (folders with a Dockerfile), sorted. */
export function listTemplates(dir: string = templatesDir()): string[] {
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'Dockerfile')) && statSync(join(dir, name)).isDirectory())
    .sort();
}

/** The folder of template `lang`, or undefined when there is no such template. */
export function templateDir(lang: string, dir: string = templatesDir()): string | undefined {
  if (!/^[A-Za-z0-9][-A-Za-z0-9_.]*$/.test(lang)) return undefined;
  return listTemplates(dir).includes(lang) ? join(dir, lang) : undefined;
}
