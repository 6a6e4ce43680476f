// whippet's own version, from package.json (read once). Works from the sources (tests) and from dist/.

import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The `version` of whippet's package.json. */
export function whippetVersion(): string {
  if (cached !== undefined) return cached;
  // common/version.ts → ../package.json; dist/common/version.js → ../../package.json.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'whippet' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // not there: try the next level up
    }
  }
  return (cached = '0.0.0');
}
