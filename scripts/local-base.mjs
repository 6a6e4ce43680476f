#!/usr/bin/env node
// Local stand-ins for node:20-bookworm and node:20-bookworm-slim, for machines that reach Debian's
// package mirrors and the npm registry but no container registry. Prints the --build-arg flags that
// point the root Dockerfile at them:
//
//   node scripts/local-base.mjs        # → --build-arg NODE_BUILD_IMAGE=… --build-arg NODE_RUNTIME_IMAGE=…
//
// The recipe: debootstrap --variant=minbase of Debian bookworm, plus this machine's own Node 20 and npm
// under /usr/local as the official images have them (node, npm, npx; headers only in the build image),
// plus this machine's CA bundle (an egress proxy that re-signs TLS is trusted inside the image as it is
// outside), plus the apt settings the official Debian images have (no package cache in layers). The build image adds the toolchain node:20-bookworm has for node-gyp (gcc, g++, make,
// python3). Images and the debootstrap tarball are cached under WHIPPET_IMAGE_CACHE
// (/var/cache/whippet-image), keyed by a hash of this file, the Node and npm versions and the CA bundle:
// a second run with nothing changed takes a second.
//
// Needs root, debootstrap and buildah (apt-get install -y debootstrap buildah).

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, cpSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUITE = 'bookworm';
const MIRROR = process.env.WHIPPET_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const CACHE = process.env.WHIPPET_IMAGE_CACHE ?? '/var/cache/whippet-image';
const BUILDAH = ['--isolation', 'chroot'];

const say = (line) => process.stderr.write(`local-base: ${line}\n`);

function run(cmd, args, options = {}) {
  const res = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (res.error) throw new Error(`${cmd}: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${res.status ?? res.signal}:\n${(res.stderr || res.stdout).slice(-4000)}`);
  return res.stdout;
}

const imageExists = (name) => spawnSync('buildah', ['inspect', '--type', 'image', name], { stdio: 'ignore' }).status === 0;

/** The host's node, npm and headers: where the running node came from (nodesource: /usr, official tarball: /usr/local). */
function hostNode() {
  const prefix = join(dirname(process.execPath), '..');
  const npmDir = join(prefix, 'lib', 'node_modules', 'npm');
  const include = join(prefix, 'include', 'node');
  for (const p of [npmDir, join(include, 'node_api.h')]) if (!existsSync(p)) throw new Error(`${p} not found next to ${process.execPath}`);
  const npmVersion = JSON.parse(readFileSync(join(npmDir, 'package.json'), 'utf8')).version;
  return { node: process.execPath, npmDir, include, npmVersion };
}

function recipeKey(host) {
  const hash = createHash('sha256');
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  hash.update(`${SUITE} ${MIRROR} ${process.version} ${host.npmVersion} ${process.arch}\n`);
  if (existsSync(CA_BUNDLE)) hash.update(readFileSync(CA_BUNDLE));
  return hash.digest('hex').slice(0, 12);
}

/** debootstrap once per suite and mirror: the slow part (a few minutes), kept in the cache. */
function debianTarball() {
  const dir = CACHE;
  mkdirSync(dir, { recursive: true });
  const tag = createHash('sha256').update(`${SUITE} ${MIRROR}`).digest('hex').slice(0, 12);
  const tar = join(dir, `debian-${SUITE}-minbase-${tag}.tar`);
  if (existsSync(tar)) return tar;
  const root = mkdtempSync(join(dir, 'rootfs-'));
  say(`debootstrap --variant=minbase ${SUITE} (${MIRROR}); takes a few minutes once`);
  run('debootstrap', ['--variant=minbase', SUITE, root, MIRROR]);
  // As the official images: no apt lists or package cache in the layer.
  rmSync(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
  mkdirSync(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
  rmSync(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
  run('tar', ['--numeric-owner', '-C', root, '-cf', `${tar}.tmp`, '.']);
  renameSync(`${tar}.tmp`, tar);
  rmSync(root, { recursive: true, force: true });
  return tar;
}

/** Node, npm (and for the build image the headers) laid out under usr/local, plus the CA bundle and npmrc. */
function nodeTree(dir, host, withHeaders) {
  const root = join(dir, withHeaders ? 'node-build' : 'node-runtime');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  cpSync(host.node, join(root, 'usr/local/bin/node'));
  cpSync(host.npmDir, join(root, 'usr/local/lib/node_modules/npm'), { recursive: true, dereference: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
  if (withHeaders) cpSync(host.include, join(root, 'usr/local/include/node'), { recursive: true, dereference: true });
  const npmrc = [];
  if (existsSync(CA_BUNDLE)) {
    mkdirSync(join(root, 'etc/ssl/certs'), { recursive: true });
    cpSync(CA_BUNDLE, join(root, 'etc/ssl/certs/ca-certificates.crt'));
    npmrc.push(`cafile=${CA_BUNDLE}`);
  }
  // node-gyp takes the headers next to node instead of downloading them (nodejs.org is not reachable).
  if (withHeaders) npmrc.push('nodedir=/usr/local');
  // As the official Debian images: apt keeps no package cache or .deb files in a layer (77 MB otherwise).
  mkdirSync(join(root, 'etc/apt/apt.conf.d'), { recursive: true });
  writeFileSync(join(root, 'etc/apt/apt.conf.d/90whippet-image'), [
    'Dir::Cache::pkgcache "";',
    'Dir::Cache::srcpkgcache "";',
    'Acquire::Languages "none";',
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };',
    '',
  ].join('\n'));
  mkdirSync(join(root, 'usr/local/etc'), { recursive: true });
  writeFileSync(join(root, 'usr/local/etc/npmrc'), npmrc.map((l) => `${l}\n`).join(''));
  const tar = `${root}.tar`;
  run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tar, '.']);
  rmSync(root, { recursive: true, force: true });
  return tar;
}

function buildImage(context, containerfile, tag) {
  writeFileSync(join(context, 'Containerfile'), containerfile);
  say(`buildah bud -t ${tag}`);
  run('buildah', ['bud', ...BUILDAH, '--pull-never', '--layers=false', '-f', join(context, 'Containerfile'), '-t', tag, context]);
}

export function localBase() {
  const host = hostNode();
  const key = recipeKey(host);
  const runtime = `localhost/whippet-node:20-${SUITE}-slim-${key}`;
  const build = `localhost/whippet-node:20-${SUITE}-${key}`;
  if (imageExists(runtime) && imageExists(build)) return { runtime, build, key, cached: true };

  const dir = join(CACHE, key);
  mkdirSync(dir, { recursive: true });
  const debian = debianTarball();
  const work = mkdtempSync(join(tmpdir(), 'whippet-base-'));
  try {
    const env = `ENV NODE_VERSION=${process.version.slice(1)} PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n`;
    cpSync(debian, join(work, 'debian.tar'));
    renameSync(nodeTree(dir, host, false), join(work, 'node-runtime.tar'));
    buildImage(work, `FROM scratch\nADD debian.tar /\nADD node-runtime.tar /\n${env}CMD ["node"]\n`, runtime);

    renameSync(nodeTree(dir, host, true), join(work, 'node-build.tar'));
    buildImage(work, `FROM ${runtime}\nADD node-build.tar /\n`
      + 'RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends '
      + 'g++ gcc make python3 libc6-dev && rm -rf /var/lib/apt/lists/*\n'
      // better-sqlite3: skip the prebuilt-binary download from GitHub, which is not reachable here.
      + 'ENV npm_config_build_from_source=true\n', build);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { runtime, build, key, cached: false };
}

export const buildArgs = (base) => ['--build-arg', `NODE_BUILD_IMAGE=${base.build}`, '--build-arg', `NODE_RUNTIME_IMAGE=${base.runtime}`];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const t0 = Date.now();
    const base = localBase();
    say(`${base.cached ? 'cached' : 'built'} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${base.build}, ${base.runtime}`);
    process.stdout.write(`${buildArgs(base).join(' ')}\n`);
  } catch (err) {
    say(err.message);
    process.exitCode = 1;
  }
}
