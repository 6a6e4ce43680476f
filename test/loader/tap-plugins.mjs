// Makes tap's built Test class match the plugin list in package.json before the suite starts.
//
// tap compiles its Test class with a set of plugins and takes the node arguments of every test process
// (the `--import` loaders) from that compiled set. A fresh `npm ci` ships the default set, which
// includes the TypeScript plugin (ts-node) that package.json drops. tap notices the difference and
// rebuilds, but only after the runner has read the old loaders: the first run after an install would
// start every test file with ts-node loaded as well. `npm test` runs this first (pretest), so every run,
// the first included, starts its test processes with the configured loaders only.
//
// Rebuilding takes ~6 s, so it happens only when the signatures differ.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TapConfig } from '@tapjs/config';

const require = createRequire(import.meta.url);

/** The plugin signature the installed Test class was compiled with (one plugin name per line). */
function builtSignature() {
  const built = require.resolve('@tapjs/test/test-built').replace(/commonjs([/\\]index\.js)$/, 'esm$1');
  const match = /export const signature = `([^`]*)`/.exec(readFileSync(built, 'utf8'));
  return match ? match[1].trim() : undefined;
}

const wanted = (await TapConfig.load()).pluginSignature;
const built = builtSignature();
if (built === wanted) process.exit(0);

console.log(`tap-plugins: tap's Test class was built with another plugin set; rebuilding it (tap build)`);
const tapBin = require.resolve('tap/package.json').replace(/package\.json$/, 'dist/esm/run.mjs');
const run = spawnSync(process.execPath, [tapBin, 'build'], { stdio: 'inherit' });
if (run.status !== 0) {
  console.error(`tap-plugins: \`tap build\` failed (exit ${run.status ?? run.signal})`);
  process.exit(1);
}
