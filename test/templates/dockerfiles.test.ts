// Every Dockerfile parses, references files that exist in its build context, and follows the
// conventions: FROM the ARG-named base image, ENV fprocess and timeouts, non-root USER, HEALTHCHECK.

import t, { type Test } from 'tap';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseDuration } from '../../common/duration.js';
import { copySources, dockerfileEnv, parseDockerfile, parseEnvArgs, type Instruction } from '../../stack/dockerfile.js';
import { splitCommand } from '../../watchdog/command.js';
import { REPO, TEMPLATES } from '../helpers/templates.js';

const BASE = 'ghcr.io/whippet/watchdog:latest';

t.test('parser: continuations, comments, ENV forms, COPY flags', async (t) => {
  const ins = parseDockerfile('# c\nFROM x AS b\nRUN a \\\n  # inner comment\n  && b\n\nenv k=v\n');
  t.same(ins, [
    { keyword: 'FROM', args: 'x AS b', line: 2 },
    { keyword: 'RUN', args: 'a && b', line: 3 },
    { keyword: 'ENV', args: 'k=v', line: 7 },
  ]);
  t.throws(() => parseDockerfile('RUN a \\\n'), /ends inside a continued line/);
  t.same(parseEnvArgs('a=1 b="two words" c=\'$lit\' d="q\\"x" e='), [['a', '1'], ['b', 'two words'], ['c', '$lit'], ['d', 'q"x'], ['e', '']]);
  t.same(parseEnvArgs('fprocess node index.js'), [['fprocess', 'node index.js']], 'the legacy form: the value is the rest of the line');
  t.same(parseEnvArgs('NAME  "John  Doe" jr'), [['NAME', 'John  Doe jr']], 'legacy: quotes removed, blanks kept');
  t.same(parseEnvArgs('PATH=$PATH:/home/app/.local/bin', { PATH: '/usr/bin:/bin' }), [['PATH', '/usr/bin:/bin:/home/app/.local/bin']]);
  t.same(parseEnvArgs('a=${X} b=${U:-dflt} c=${X:+set} d=${U:+set} e="$X y" f=\'$X\' g=\\$X h=$ i=${E-unset} j=${E:-empty}', { X: 'x', E: '' }),
    [['a', 'x'], ['b', 'dflt'], ['c', 'set'], ['d', ''], ['e', 'x y'], ['f', '$X'], ['g', '$X'], ['h', '$'], ['i', ''], ['j', 'empty']]);
  t.throws(() => parseEnvArgs('a="open'), /^ENV a="open: an unterminated double quote at column 8$/);
  t.throws(() => parseEnvArgs("a='open"), /an unterminated single quote/);
  t.throws(() => parseEnvArgs('a=${X'), /an unterminated \$\{X/);
  t.throws(() => parseEnvArgs('a=${X?}'), /only \$\{VAR:-word\} and \$\{VAR:\+word\} are read/);
  t.throws(() => parseEnvArgs('a=1 b c'), /expected key=value \(the legacy "ENV key value" form holds one variable\)/);
  t.throws(() => parseEnvArgs('lonely'), /ENV lonely has no value/);
  t.throws(() => parseEnvArgs('1a=2'), /expected a variable name/);
  // Only the final stage counts; each ENV expands with what came before it (within one instruction too),
  // ARG defaults and the base environment; ENV wins over an ARG of the same name.
  t.same(dockerfileEnv(parseDockerfile([
    'FROM watchdog AS wd', 'ENV x=1', 'FROM python:3-alpine', 'ARG ADDON=pkg', 'ARG y=from-arg',
    'ENV y=2 z=3', 'ENV y=4 w=$y', 'ENV PATH=$PATH:/home/app/.local/bin', 'ENV from_arg=$ADDON', 'ENV legacy_y $y and more',
  ].join('\n')), { PATH: '/bin' }), { y: '4', z: '3', w: '2', PATH: '/bin:/home/app/.local/bin', from_arg: 'pkg', legacy_y: '4 and more' });
  t.same(copySources('--from=build --chown=app /src/dist ./dist/'), { flags: { from: 'build', chown: 'app' }, sources: ['/src/dist'], dest: './dist/' });
  t.same(copySources('["a b", "c"]'), { flags: {}, sources: ['a b'], dest: 'c' });
});

const byKeyword = (ins: readonly Instruction[], k: string) => ins.filter((x) => x.keyword === k);
const lastUser = (ins: readonly Instruction[]) => byKeyword(ins, 'USER').at(-1)?.args.trim();

/** Every COPY/ADD source without --from must exist in the context (globs are not used here). */
function checkCopySources(t: Test, ins: readonly Instruction[], context: string): void {
  for (const x of [...byKeyword(ins, 'COPY'), ...byKeyword(ins, 'ADD')]) {
    const { flags, sources } = copySources(x.args);
    if (flags.from !== undefined) continue;
    for (const src of sources) {
      t.notMatch(src, /[*?[]/, `line ${x.line}: no globs (a glob that matches nothing fails some builders)`);
      t.ok(existsSync(join(context, src)), `line ${x.line}: COPY source ${src} exists in the context`);
    }
  }
}

for (const lang of TEMPLATES) {
  t.test(`templates/${lang}/Dockerfile`, async (t) => {
    const dir = join(REPO, 'templates', lang);
    const ins = parseDockerfile(readFileSync(join(dir, 'Dockerfile'), 'utf8'));
    t.same(ins.slice(0, 2).map((x) => [x.keyword, x.args]), [['ARG', `WHIPPET_IMAGE=${BASE}`], ['FROM', '${WHIPPET_IMAGE}']],
      'starts with ARG WHIPPET_IMAGE and FROM it');
    t.equal(byKeyword(ins, 'FROM').length, 1, 'one stage');
    checkCopySources(t, ins, dir);
    t.ok(byKeyword(ins, 'COPY').some((x) => copySources(x.args).sources.includes('function/')), 'copies the handler folder');

    const env = dockerfileEnv(ins);
    for (const k of ['read_timeout', 'write_timeout', 'exec_timeout']) {
      t.ok(env[k] !== undefined && parseDuration(env[k]!) > 0, `${k}=${env[k]} is set and parses`);
    }
    t.ok(['serializing', 'streaming', 'http'].includes(env.mode ?? ''), `mode=${env.mode}`);
    const argv = splitCommand(env.fprocess ?? '');
    t.ok(argv.length >= 2, `fprocess=${env.fprocess}`);
    t.ok(existsSync(join(dir, argv.at(-1)!)), `the entry ${argv.at(-1)} exists`);
    if (env.mode === 'http') t.match(env.upstream_url, /^http:\/\/127\.0\.0\.1:\d+$/);

    const user = lastUser(ins);
    t.ok(user !== undefined && !/^(root|0)(:|$)/.test(user), `runs as a non-root user (${user})`);
    const health = byKeyword(ins, 'HEALTHCHECK');
    t.equal(health.length, 1);
    t.match(health[0]?.args, /^--interval=\d+s CMD \["fwatchdog", "--run-healthcheck"\]$/);
    t.same(byKeyword(ins, 'CMD').map((x) => JSON.parse(x.args)), [['fwatchdog']]);

    const yml = parse(readFileSync(join(dir, 'template.yml'), 'utf8')) as Record<string, string>;
    t.equal(yml.language, lang);
    t.equal(yml.fprocess, env.fprocess, 'template.yml and the Dockerfile agree on fprocess');
    t.ok((yml.welcome_message ?? '').length > 20, 'has a welcome message');
    t.ok(statSync(join(dir, 'function')).isDirectory(), 'has a function/ skeleton');
  });
}

/** The instructions of each stage of a multi-stage Dockerfile, by stage name (global ARGs under ''). */
function stages(ins: readonly Instruction[]): Map<string, Instruction[]> {
  const out = new Map<string, Instruction[]>([['', []]]);
  let current = out.get('')!;
  for (const x of ins) {
    if (x.keyword === 'FROM') {
      const name = /\bAS\s+(\S+)$/i.exec(x.args)?.[1] ?? `#${out.size}`;
      current = [];
      out.set(name, current);
    }
    current.push(x);
  }
  return out;
}

t.test('root Dockerfile: build stage, a watchdog-only image, the whippet image', async (t) => {
  const ins = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
  const byStage = stages(ins);
  t.same([...byStage.keys()], ['', 'build', 'watchdog-deps', 'runtime', 'watchdog', 'whippet'], 'stages in order; whippet is the default target');
  t.same(byKeyword(byStage.get('')!, 'ARG').map((x) => x.args), ['NODE_BUILD_IMAGE=node:20-bookworm', 'NODE_RUNTIME_IMAGE=node:20-bookworm-slim'],
    'the public Node images by default, replaceable with --build-arg');
  t.same(byKeyword(ins, 'FROM').map((x) => x.args),
    ['${NODE_BUILD_IMAGE} AS build', 'build AS watchdog-deps', '${NODE_RUNTIME_IMAGE} AS runtime', 'runtime AS watchdog', 'runtime AS whippet']);
  checkCopySources(t, ins, REPO);

  const build = byStage.get('build')!;
  const buildRun = byKeyword(build, 'RUN').map((x) => x.args).join(' && ');
  for (const step of ['npm ci', 'npm run build', 'mkdir -p native/build', 'npm prune --omit=dev']) t.match(buildRun, step);
  const tsconfig = JSON.parse(readFileSync(join(REPO, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
  const copiedDirs = byKeyword(build, 'COPY').flatMap((x) => copySources(x.args).sources).filter((src) => src.endsWith('/')).map((src) => src.slice(0, -1));
  for (const dir of tsconfig.include) t.ok(copiedDirs.includes(dir), `the build stage copies ${dir}/, which tsconfig.build.json compiles`);
  t.notOk(tsconfig.include.includes('bench'), 'bench/ is not in the build output');

  const deps = byKeyword(byStage.get('watchdog-deps')!, 'RUN').map((x) => x.args).join(' ');
  t.match(deps, /pkg\.dependencies = \{ yargs: pkg\.dependencies\.yargs, "prom-client": pkg\.dependencies\["prom-client"\], undici: pkg\.dependencies\.undici \}/,
    'the watchdog image gets only yargs, prom-client and undici');

  const runtime = byStage.get('runtime')!;
  const runtimeRun = byKeyword(runtime, 'RUN').map((x) => x.args).join(' && ');
  t.match(runtimeRun, /apt-get install -y --no-install-recommends tini/);
  t.match(runtimeRun, /useradd --uid 10001 --gid app .*--home-dir \/home\/app .* app/);
  t.same(byKeyword(runtime, 'ENTRYPOINT').map((x) => JSON.parse(x.args)), [['/usr/bin/tini', '--']]);
  t.same(byKeyword(runtime, 'EXPOSE').map((x) => x.args), ['8080']);

  const copied = (stage: string) => byKeyword(byStage.get(stage)!, 'COPY').map((x) => copySources(x.args))
    .flatMap((c) => c.sources.map((src) => `${c.flags.from ?? 'context'}:${src}`)).sort();
  t.same(copied('watchdog'), [
    'build:/src/dist/cli/commands/watchdog.js', 'build:/src/dist/cli/errors.js', 'build:/src/dist/cli/fast-path.js',
    'build:/src/dist/cli/fwatchdog.cjs', 'build:/src/dist/cli/fwatchdog.js', 'build:/src/dist/cli/run.js', 'build:/src/dist/cli/serve.js',
    'build:/src/dist/cli/start', 'build:/src/dist/cli/start-bundle.cjs',
    'build:/src/dist/common', 'build:/src/dist/watchdog', 'build:/src/native/build',
    'watchdog-deps:/watchdog/node_modules', 'watchdog-deps:/watchdog/package.json',
  ], 'the watchdog image: common, watchdog, the fwatchdog entry and its start bundle, its dependencies, the addon');
  t.same(copied('whippet'), [
    'build:/src/dist', 'build:/src/native/build', 'build:/src/node_modules', 'build:/src/package.json', 'context:templates/',
  ]);

  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const whippetRun = byKeyword(byStage.get('whippet')!, 'RUN').map((x) => x.args).join(' && ');
  for (const [bin, target] of Object.entries(pkg.bin)) {
    t.match(whippetRun, `ln -s /opt/whippet/${target} /usr/local/bin/${bin}`, `${bin} -> ${target}`);
    t.ok(existsSync(join(REPO, target.replace(/^dist\//, '').replace(/\.js$/, '.ts').replace(/\.cjs$/, '.cts'))), `${target} is compiled from a source that exists`);
  }
  t.match(byKeyword(byStage.get('watchdog')!, 'RUN').map((x) => x.args).join(' && '), `ln -s /opt/whippet/${pkg.bin.fwatchdog} /usr/local/bin/fwatchdog`);
  for (const [stage, cmd] of [['watchdog', ['fwatchdog']], ['whippet', ['whippet', 'router']]] as const) {
    const stageIns = byStage.get(stage)!;
    t.equal(lastUser(stageIns), 'app', `${stage}: runs as app`);
    t.equal(byKeyword(stageIns, 'WORKDIR').at(-1)?.args, '/home/app');
    t.same(JSON.parse(byKeyword(stageIns, 'CMD').at(-1)!.args), cmd);
  }
});

t.test('.dockerignore keeps host builds out and the sources in', async (t) => {
  const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const p of ['node_modules', 'dist', 'native/build', '.git', '.whippet']) t.ok(ignored.includes(p), `ignores ${p}`);
  for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'common', 'cli', 'watchdog', 'router', 'templates', 'native']) {
    t.notOk(ignored.some((i) => i === p || p.startsWith(`${i}/`)), `keeps ${p}`);
  }
});
