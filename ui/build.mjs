// Build the dashboard page into dist/ui/ (part of `npm run build`): one minified script and one
// stylesheet bundled by esbuild from ui/src (Preact + htm for views, uPlot for charts), plus the
// HTML shell. No CDN: everything the browser loads comes from the router. Prints the sizes.

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist', 'ui');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(root, 'ui', 'src', 'main.ts'), style: join(root, 'ui', 'src', 'app.css') },
  outdir: out, bundle: true, minify: true, format: 'esm', target: ['es2020'], legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(join(root, 'ui', 'index.html'), join(out, 'index.html'));
let raw = 0;
let gz = 0;
for (const name of readdirSync(out)) {
  const bytes = readFileSync(join(out, name));
  raw += bytes.byteLength;
  gz += gzipSync(bytes, { level: 9 }).byteLength;
}
process.stdout.write(`dashboard: dist/ui/ ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped (what the browser downloads)\n`);
