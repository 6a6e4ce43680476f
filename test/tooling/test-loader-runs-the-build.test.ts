// test/loader/compiled-sources.mjs, the loader every test process runs under: a source file of a built folder
// resolves to its dist/ file when that is at least as new, and a missing or older build fails the import with
// what to run, rather than the test running other code than the source it reads. Checked on a copy of the
// loader in a scratch tree (a router/ source and its dist/ file written here), in a node process without tap.
import t from 'tap';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const LOADER = fileURLToPath(new URL('../loader/', import.meta.url));

async function importThrough(root: string, file: string): Promise<{ out: string; err: string; code: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  try {
    // As package.json's tap settings load them: tsx, then the loader.
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [
      `--import=${import.meta.resolve('tsx')}`, `--import=${pathToFileURL(join(root, 'test/loader/compiled-sources.mjs')).href}`,
      '--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(join(root, file)).href)});`,
    ], { env });
    return { out: stdout, err: stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { out: e.stdout, err: e.stderr, code: e.code };
  }
}

t.test('a built source runs from dist/, a stale or missing build fails with what to run', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'whippet-loader-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  cpSync(LOADER, join(root, 'test/loader'), { recursive: true });
  mkdirSync(join(root, 'router'), { recursive: true });
  mkdirSync(join(root, 'dist/router'), { recursive: true });
  mkdirSync(join(root, 'bench'), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(root, 'router/x.ts'), 'console.log("source");\n');
  writeFileSync(join(root, 'dist/router/x.js'), 'console.log("dist");\n');
  writeFileSync(join(root, 'bench/y.ts'), 'console.log("bench source");\n');

  const past = new Date(Date.now() - 60_000);
  utimesSync(join(root, 'router/x.ts'), past, past);
  const fresh = await importThrough(root, 'router/x.ts');
  t.equal(fresh.out, 'dist\n', 'the build ran, not the source');

  utimesSync(join(root, 'dist/router/x.js'), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
  const stale = await importThrough(root, 'router/x.ts');
  t.not(stale.code, 0, 'an older build fails the import');
  t.match(stale.err, /router\/x\.ts: dist\/ has an older build of it; run `npm run build`/);

  rmSync(join(root, 'dist/router/x.js'));
  const missing = await importThrough(root, 'router/x.ts');
  t.not(missing.code, 0, 'no build fails the import');
  t.match(missing.err, /router\/x\.ts: dist\/ has no build of it; run `npm run build`/);

  const other = await importThrough(root, 'bench/y.ts');
  t.equal(other.out, 'bench source\n', 'a folder the build does not compile file by file is left to the next loader');
});

// tap takes each test process's loaders from the plugin set its Test class was built with; a fresh install
// ships one with the TypeScript plugin, which package.json drops. `npm test` rebuilds it first
// (test/loader/tap-plugins.mjs); without that, this process would load ts-node beside tsx.
t.test('this test process runs with the configured loaders and not tap\'s TypeScript plugin', async (t) => {
  const imports = process.execArgv.filter((arg) => arg.startsWith('--import=') || arg.startsWith('--loader='));
  t.notOk(imports.some((arg) => arg.includes('@tapjs/typescript')),
    `no @tapjs/typescript loader (got ${imports.join(' ')}); run \`npm test\` once after an install, or \`npx tap build\``);
  t.ok(imports.includes('--import=tsx'), 'tsx is loaded');
  t.ok(imports.some((arg) => arg.endsWith('test/loader/compiled-sources.mjs')), 'the compiled-sources loader is loaded');
});
