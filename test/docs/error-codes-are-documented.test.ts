// Every error code in the sources is in the catalogue, docs/errors.md, and the catalogue names no code
// the sources lack (fastify checks its error docs the same way). A code is a string literal of the form
// PART_ERR_NAME in a source file of a part (tests, the benchmark and node_modules aside).

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';

const ROOT = new URL('../../', import.meta.url).pathname;
const NOT_SOURCES = new Set(['node_modules', 'dist', 'test', 'bench', 'docs', 'examples', 'templates', 'deploy']);
const CODE = /[A-Z]+_ERR_[A-Z_]+/g;
const LITERAL = /(['"`])([A-Z]+_ERR_[A-Z_]+)\1/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name.startsWith('.') || NOT_SOURCES.has(entry.name) ? [] : sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Each code with the first file that uses it. */
function codesInSources(): Map<string, string> {
  const codes = new Map<string, string>();
  for (const file of sourceFiles(ROOT)) {
    for (const [, , code] of readFileSync(file, 'utf8').matchAll(LITERAL)) {
      if (!codes.has(code!)) codes.set(code!, relative(ROOT, file));
    }
  }
  return codes;
}

t.test('docs/errors.md lists exactly the error codes of the sources', async (t) => {
  const inSources = codesInSources();
  const inDocs = new Set(readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8').match(CODE) ?? []);
  // Today's watchdog and router codes alone are 27; far fewer means the scan missed the sources.
  t.ok(inSources.size >= 20, `the scan finds the codes of the sources (${inSources.size})`);
  const undocumented = [...inSources].filter(([code]) => !inDocs.has(code)).map(([code, file]) => `${code} (${file})`);
  t.same(undocumented, [], 'every code in the sources has a row in docs/errors.md');
  const stale = [...inDocs].filter((code) => !inSources.has(code));
  t.same(stale, [], 'docs/errors.md names no code the sources lack');
});
