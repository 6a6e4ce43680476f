// Compiles the native spawn addon (native/build/Release/whippet_spawn.node) with node-gyp.
// Runs as the package's install script, so it must never fail `npm install` / `npm ci`: on any problem it
// prints a warning and exits 0, and the watchdog falls back to child_process (loadNativeBackend() says why).
// WHIPPET_SKIP_NATIVE=1 skips the compile; `npm run build:native` runs it on demand.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function warn(reason) {
  console.warn(`whippet: native addon not built (${reason}); the watchdog will use child_process.`);
  process.exit(0);
}

if (process.env.WHIPPET_SKIP_NATIVE === '1') warn('WHIPPET_SKIP_NATIVE=1');
if (process.platform !== 'linux') warn(`platform ${process.platform} is not supported`);

// npm exports its bundled node-gyp to install scripts; outside npm, look next to the node binary.
const prefix = join(dirname(process.execPath), '..');
const nodeGyp = [
  process.env.npm_config_node_gyp,
  join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].find((p) => p !== undefined && p !== '' && existsSync(p));
if (nodeGyp === undefined) warn('node-gyp not found');

// Use the headers installed with this node (Debian/nodesource: /usr/include/node, official image:
// /usr/local/include/node) instead of downloading them; build stages often have no network.
const args = [nodeGyp, 'rebuild', '--release'];
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}

const result = spawnSync(process.execPath, args, { cwd: here, stdio: 'inherit', timeout: 300_000 });
if (result.error) warn(result.error.message);
if (result.status !== 0) warn(`node-gyp exited with ${result.status ?? result.signal}`);
console.log('whippet: native addon built: native/build/Release/whippet_spawn.node');
