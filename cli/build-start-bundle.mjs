// Build step (the last of `npm run build`, after tsc): the watchdog's and the router's commands as one CommonJS
// script each, dist/cli/start/{watchdog,router}.cjs, and a V8 code cache for each, {watchdog,router}.cache,
// made by a training run of the script (start, the first requests, drain). cli/start-bundle.cts loads a script
// through node:vm with its cache: V8 then neither parses nor compiles the modules of the start path, and
// Node's ES module loader does not resolve, read and link them one by one. On Node 20 (no
// module.enableCompileCache) this took ~40-50 CPU ms and ~4.5 MB of RSS off the watchdog's ~170 ms start
// (docs/performance.md).
//
// The cache is checked by V8 when it is used (V8 version, flags, source length) and by the loader (a build id
// both files carry); when either check fails the script is compiled as usual. Without a cache (training
// failed: printed, not fatal) the script still loads; without the script the CLI imports the modules.

import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
// tsc has built dist/ before this step runs.
import { freePort } from '../dist/common/free-port.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const out = join(dist, 'cli', 'start');
// Each bundle: its entry, the V8 flags its command sets before anything runs (a cache is taken only under the
// flags it was made with, so the loader sets them before compiling), and what its training run asks of it.
const BUNDLES = [
  {
    name: 'watchdog', entry: join(dist, 'cli', 'watchdog-bundle.js'), flags: [], packages: ['prom-client'],
    // As a function image starts it: metrics on, the lock file written.
    env: async () => ({ fprocess: 'cat', metrics_port: String(await freePort()) }),
    requests: [['GET', '/_/health'], ['POST', '/', 'hello'], ['GET', '/_/health']],
  },
  {
    name: 'router', entry: join(dist, 'cli', 'router-bundle.js'), flags: ['--liftoff-only'], packages: [], // flags: common/wasm-tier.ts
    // One function (an echo in this process), the SQLite queue, the worker and the dashboard on, as by default.
    env: async (tmp, echo) => ({ functions: `echo=http://127.0.0.1:${echo}`, queue: `sqlite:${join(tmp, 'queue.db')}` }),
    requests: [['POST', '/function/echo', 'hello'], ['GET', '/healthz'], ['POST', '/async-function/echo', 'hello'], ['GET', '/system/functions']],
  },
];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// Modules whose `const require = createRequire(import.meta.url);` loads packages the bundle carries (a
// bundle's `packages`; every other package is loaded from node_modules as before): without that line their
// require() calls are the script's own, which esbuild follows (prom-client's registry, counter, gauge and
// histogram in the watchdog's: ~10 CPU ms through Node's CommonJS loader at every start).
const BUNDLED_REQUIRES = new Set(['watchdog/metrics.js']);
const REQUIRE_LINE = 'const require = createRequire(import.meta.url);';

// Each module keeps the import.meta.url it has in dist/ (the native addon and package.json are found from
// it): the script gets the dist folder's URL from its own location when it runs.
const distModules = {
  name: 'dist-modules',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      let source = readFileSync(args.path, 'utf8');
      if (!args.path.startsWith(dist)) return { contents: source, loader: 'js' };
      const rel = relative(dist, args.path).split('\\').join('/');
      if (BUNDLED_REQUIRES.has(rel)) {
        if (!source.includes(REQUIRE_LINE)) throw new Error(`${rel}: no \`${REQUIRE_LINE}\` to take out`);
        source = source.replace(REQUIRE_LINE, '');
      }
      return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, __whippetDist).href`), loader: 'js' };
    });
  },
};
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = (bundled) => Object.keys(pkg.dependencies).filter((p) => !bundled.includes(p)).flatMap((p) => [p, `${p}/*`]);

for (const bundle of BUNDLES) {
  const { name, entry, flags, packages } = bundle;
  const file = join(out, `${name}.cjs`);
  const id = randomBytes(8).toString('hex');
  const { metafile } = await build({
    metafile: true, entryPoints: [entry], outfile: file, bundle: true, platform: 'node', format: 'cjs', target: 'node20',
    external: [...external(packages), '*.node'], plugins: [distModules], logLevel: 'warning',
    // import() of a builtin or a package becomes require(): node:vm gives the script no loader for import().
    supported: { 'dynamic-import': false },
    banner: { js: `// whippet start bundle ${[id, ...flags].join(' ')}\nconst __whippetDist = require('node:url').pathToFileURL(require('node:path').join(__dirname, '..', '..', '/')).href;\nconst __whippetNextTurn = () => new Promise((resolve) => setImmediate(resolve));` },
  });
  // node:vm compiles it without a loader for import(): every module the start path needs is in the script.
  const left = Object.values(metafile.outputs).flatMap((o) => o.imports).filter((i) => i.kind === 'dynamic-import');
  if (left.length > 0) throw new Error(`${relative(root, file)}: import() left in the bundle: ${left.map((i) => i.path).join(', ')}`);
  // esbuild turns each import() into Promise.resolve().then(() => <init the module>): a microtask, where the
  // module's import() read files and let the event loop turn. The router loads its queue, async side and worker
  // that way right after listening; as microtasks they would all run before the first request is read. Each
  // one waits for the next turn of the loop (setImmediate) instead, as the import() it replaces did.
  const calls = Object.values(metafile.inputs).flatMap((i) => i.imports).filter((i) => i.kind === 'dynamic-import').length;
  const text = readFileSync(file, 'utf8');
  const lowered = text.split('Promise.resolve().then(() =>').length - 1;
  if (lowered !== calls) throw new Error(`${relative(root, file)}: ${lowered} lowered import() calls, ${calls} in the sources`);
  writeFileSync(file, text.replaceAll('Promise.resolve().then(() =>', '__whippetNextTurn().then(() =>'));
  await train(bundle, file, id);
}

/** Run the bundle once as the CLI does, with WHIPPET_WRITE_CODE_CACHE: the loader writes the cache at exit. */
async function train({ name, env: settings, requests }, file, id) {
  const cache = file.replace(/\.cjs$/, '.cache');
  const tmp = mkdtempSync(join(tmpdir(), 'whippet-start-bundle-'));
  // The function a router calls: an echo of the body.
  const echo = createHttpServer((req, res) => req.pipe(res));
  await new Promise((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: tmp, port: '0', ...await settings(tmp, echo.address().port) };
  const child = spawn(process.execPath, [join(dist, 'cli', 'main.cjs'), name], {
    env: { ...env, WHIPPET_WRITE_CODE_CACHE: cache },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s) => { stderr += s; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    const port = await new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        const m = /listening\b[^\n]*\bport=(\d+)/.exec(stderr);
        if (m) { clearInterval(poll); resolve(Number(m[1])); }
      }, 5);
      void exited.then(() => { clearInterval(poll); reject(new Error(`exited before listening:\n${stderr}`)); });
    });
    for (const [method, path, body] of requests) {
      const status = await new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, method }, (res) => res.resume().once('end', () => resolve(res.statusCode)));
        req.once('error', reject).end(body);
      });
      if (status >= 300) throw new Error(`${method} ${path}: ${status}`);
    }
    child.kill('SIGINT');
    await exited;
    const data = existsSync(cache) ? readFileSync(cache) : undefined;
    if (data === undefined || data.subarray(0, id.length).toString() !== id) throw new Error(`no cache written:\n${stderr}`);
    process.stdout.write(`start bundle: ${relative(root, file)} ${(readFileSync(file).byteLength / 1024).toFixed(0)} KiB, code cache ${(data.byteLength / 1024).toFixed(0)} KiB\n`);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(cache, { force: true });
    process.stdout.write(`start bundle: ${relative(root, file)} without a code cache (${err.message.split('\n')[0]})\n`);
  } finally {
    clearTimeout(timer);
    echo.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
