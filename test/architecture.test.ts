// Guards the dependency direction of docs/architecture.md: cli -> stack -> router -> watchdog -> common; the
// watchdog ships in every image and may use only node builtins, yargs, prom-client, itself and common/;
// common/ is the shared kernel and imports nothing of the project; nothing imports cli/ or test/.

import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, dirname } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir))) {
    const path = join(dir, entry);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path));
    else if ((entry.endsWith('.ts') || entry.endsWith('.cts')) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  // createRequire'd loads of a package's own files (the watchdog's prom-client and undici parts).
  for (const m of text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  return specs;
}

/** The package a bare specifier names: `undici/lib/x` → `undici`, `@nats-io/kv/y` → `@nats-io/kv`. */
function packageOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

// undici: http mode's upstream pool (loaded only in that mode).
const WATCHDOG_PACKAGES = new Set(['yargs', 'prom-client', 'undici']);

t.test('the watchdog depends on node builtins, yargs, prom-client, undici and itself only', async (t) => {
  for (const file of sources('watchdog')) {
    for (const spec of imports(file)) {
      if (spec.startsWith('node:') || WATCHDOG_PACKAGES.has(packageOf(spec))) continue;
      if (spec.startsWith('.')) {
        const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
        t.ok(target.startsWith('watchdog/') || target.startsWith('common/'), `${file} imports ${spec}, outside watchdog/ and common/`);
        continue;
      }
      t.fail(`${file} imports the package ${spec}; the watchdog may use only node:*, yargs, prom-client and undici`);
    }
  }
});

t.test('common/ is a leaf: node builtins and itself only', async (t) => {
  for (const file of sources('common')) {
    for (const spec of imports(file)) {
      if (spec.startsWith('node:')) continue;
      const target = spec.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), spec)) : spec;
      t.ok(target.startsWith('common/'), `${file} imports ${spec}; common/ may import node:* and common/ only`);
    }
  }
});

t.test('nothing but cli/ imports cli/, and nothing imports test/', async (t) => {
  for (const dir of ['common', 'watchdog', 'router', 'stack', 'bench']) {
    for (const file of sources(dir)) {
      for (const spec of imports(file).filter((s) => s.startsWith('.'))) {
        const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
        t.notOk(target.startsWith('cli/') || target.startsWith('test/'), `${file} must not import ${spec}`);
      }
    }
  }
});

// The local stack (`whippet up`) composes the other parts: it may use them all, and only the CLI uses it.
const STACK_MAY_IMPORT = ['common/', 'watchdog/', 'router/', 'stack/'];

/** Why `file` may not import `spec` under the stack rules, or undefined when it may. */
function stackRuleViolation(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
  if (file.startsWith('stack/') && !STACK_MAY_IMPORT.some((dir) => target.startsWith(dir))) return `${file} imports ${spec}; stack/ may import ${STACK_MAY_IMPORT.join(', ')} only`;
  if (!file.startsWith('stack/') && !file.startsWith('cli/') && target.startsWith('stack/')) return `${file} imports ${spec}; only cli/ may import stack/`;
  return undefined;
}

t.test('stack/ imports common/, watchdog/ and router/; only cli/ imports stack/', async (t) => {
  for (const dir of ['common', 'watchdog', 'router', 'stack', 'bench']) {
    for (const file of sources(dir)) {
      for (const spec of imports(file)) t.equal(stackRuleViolation(file, spec), undefined, `${file} → ${spec}`);
    }
  }
  t.ok(sources('stack').length > 0, 'stack/ holds the local stack');
  // The rule must be able to fail: two imports it has to refuse.
  t.match(stackRuleViolation('stack/local-stack.ts', '../cli/run.js'), /stack\/ may import/);
  t.match(stackRuleViolation('router/server.ts', '../stack/supervisor.js'), /only cli\/ may import stack\//);
});

t.test('the worker never imports the accept path, and the accept path never imports the worker', async (t) => {
  const rules: Array<[string, string[]]> = [
    ['router/worker', ['router/async/', 'router/server.ts', 'router/main.ts', 'router/proxy.ts', 'router/sync-invoker.ts']],
    ['router/async', ['router/worker/', 'router/main.ts']],
  ];
  for (const [dir, forbidden] of rules) {
    for (const file of sources(dir)) {
      for (const spec of imports(file).filter((s) => s.startsWith('.'))) {
        const target = relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts');
        t.notOk(forbidden.some((f) => target.startsWith(f)), `${file} must not import ${spec}`);
      }
    }
  }
});

// The queue is a part of its own: a backend can be added, tested and benchmarked without the router.
const QUEUE_PACKAGES = ['better-sqlite3', '@nats-io/'];

/** Why `file` (under router/queue/) may not import `spec`, or undefined when it may. */
function queueRuleViolation(file: string, spec: string): string | undefined {
  if (spec.startsWith('node:') || QUEUE_PACKAGES.some((pkg) => spec === pkg || (pkg.endsWith('/') && spec.startsWith(pkg)))) return undefined;
  if (!spec.startsWith('.')) return `${file} imports the package ${spec}; router/queue/ may use node:*, ${QUEUE_PACKAGES.join(', ')} only`;
  const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
  if (target.startsWith('router/queue/') || target.startsWith('common/')) return undefined;
  return `${file} imports ${spec}; router/queue/ may import common/ and router/queue/ only`;
}

t.test('the queue never imports the rest of the router', async (t) => {
  const files = sources('router/queue');
  t.ok(files.some((file) => file.startsWith('router/queue/sqlite/')) && files.some((file) => file.startsWith('router/queue/jetstream/')), 'the scan reaches the backends\' folders');
  for (const file of files) {
    for (const spec of imports(file)) t.equal(queueRuleViolation(file, spec), undefined, `${file} → ${spec}`);
  }
  // The rule must be able to fail: imports it has to refuse, found by the same scan in a file's text.
  const dir = mkdtempSync(join(tmpdir(), 'whippet-arch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fixture = join(dir, 'wrong.ts');
  writeFileSync(fixture, "import { sendError } from '../errors.js';\nimport { request } from 'undici';\nconst late = await import('../../cli/run.js');\n");
  const found = imports(relative(ROOT, fixture)).map((spec) => queueRuleViolation('router/queue/sqlite.ts', spec));
  t.match(found, [/may import common\/ and router\/queue\/ only/, /the package undici/, /may import common\/ and router\/queue\/ only/]);
  t.equal(queueRuleViolation('router/queue/sqlite/sqlite.ts', '../../../common/errors.js'), undefined, 'common/ is allowed');
  t.equal(queueRuleViolation('router/queue/jetstream/backend.ts', './jetstream.js'), undefined, 'its own folder is allowed');
});

t.test('every watchdog behaviour file also runs on the child_process spawn path', async (t) => {
  const e2e = join(ROOT, 'test/e2e');
  const wrappers = new Set(readdirSync(join(e2e, 'on-child-process')));
  for (const file of readdirSync(e2e).filter((f) => f.startsWith('watchdog-') && f.endsWith('.test.ts'))) {
    if (!readFileSync(join(e2e, file), 'utf8').includes('startWatchdog')) continue; // starts no watchdog to fork with
    t.ok(wrappers.has(file), `test/e2e/on-child-process/${file} runs ${file} with WHIPPET_SPAWN_BACKEND=child_process`);
  }
  for (const wrapper of wrappers) {
    const text = readFileSync(join(e2e, 'on-child-process', wrapper), 'utf8');
    t.match(text, /WHIPPET_SPAWN_BACKEND = 'child_process'/, `${wrapper} selects child_process`);
    t.match(text, `import('../${wrapper.replace(/\.ts$/, '.js')}')`, `${wrapper} runs ../${wrapper}`);
  }
});
