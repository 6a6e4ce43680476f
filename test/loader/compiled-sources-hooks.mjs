// The resolve hook of compiled-sources.mjs. A project source file (`<root>/<folder>/….ts` or `.cts`, in a
// folder tsconfig.build.json compiles) resolves to its dist/ counterpart (`dist/<folder>/….js`, `.cjs`).
// A dist/ file missing or older than its source fails the import: the test would run code other than the
// source it reads (`npm test` builds first; a file run alone with `npx tap` after an edit needs `npm run build`).
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../../', import.meta.url).href;
const BUILT = ['common/', 'watchdog/', 'router/', 'stack/', 'cli/'];
const COMPILED = new Map([['.ts', ['.js', 'module']], ['.cts', ['.cjs', 'commonjs']]]);

function mtimeMs(url) {
  try {
    return statSync(fileURLToPath(url)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The dist/ URL and format for a built source's URL; undefined for any other URL. */
function compiled(url) {
  if (!url.startsWith(ROOT)) return undefined;
  const [path, rest = ''] = url.slice(ROOT.length).split(/(?=[?#])/);
  if (!BUILT.some((folder) => path.startsWith(folder))) return undefined;
  const ext = [...COMPILED.keys()].find((e) => path.endsWith(e) && !path.endsWith(`.d${e}`));
  if (ext === undefined) return undefined;
  const [jsExt, format] = COMPILED.get(ext);
  const dist = `${ROOT}dist/${path.slice(0, -ext.length)}${jsExt}`;
  const built = mtimeMs(dist);
  if (built === undefined || built < (mtimeMs(`${ROOT}${path}`) ?? 0)) {
    throw new Error(`${path}: dist/ has ${built === undefined ? 'no build of it' : 'an older build of it'}; run \`npm run build\` (npm test does)`);
  }
  return { url: dist + rest, format };
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const dist = compiled(resolved.url);
  return dist === undefined ? resolved : { ...resolved, url: dist.url, format: dist.format };
}
