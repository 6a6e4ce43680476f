// The images, built and run for real: the local Node base (scripts/local-base.mjs: no container registry
// is reachable here), the watchdog and whippet images from the root Dockerfile with the lines
// docs/images.md gives, one function image per template from a `whippet build` folder with the
// `docker build` line it prints, each run with podman and checked from the outside; a Dockerfile
// missing one COPY gives an image that fails a check (the test can fail); deploy/compose.yaml started
// with podman-compose. docs/images.md says how and why (chroot isolation, runc, a local NATS image).
// Needs root, buildah, podman, runc and debootstrap (podman-compose for the compose part); skips with the
// reason when they are missing, except in CI (CI or REQUIRE_IMAGES set), where it fails.
// `npm run image:test` runs this file alone.

import { holdsWithin } from '../helpers/wait.js';
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../common/free-port.js';
import { REPO, TEMPLATES } from '../helpers/templates.js';
import { childrenOf } from '../helpers/processes.js';
import { buildahArgs, call, hostPid1, imageSize, mb, must, podmanEnvironment, processes, sh, waitForLog } from './support.js';

t.setTimeout(20 * 60_000);
const execFileAsync = promisify(execFile);

const required = Boolean(process.env.CI || process.env.REQUIRE_IMAGES);
const onPath = (cmd: string) => sh('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missingTools = ['buildah', 'podman', 'debootstrap'].filter((cmd) => !onPath(cmd) && !onPath(`/usr/sbin/${cmd}`));
const skip = process.getuid?.() !== 0 ? 'not root (buildah --isolation chroot, podman and debootstrap need root here)'
  : missingTools.length > 0 ? `${missingTools.join(', ')} not installed (apt-get install -y buildah podman debootstrap; .ci/run does it)`
  : false;
if (skip && required) t.fail(`the image test is required here (CI or REQUIRE_IMAGES is set) but cannot run: ${skip}`);

/** The lines docs/images.md shows for the two base images, run here with buildah (BUILDAH_BUD flags). */
const BASE_LINES = [
  'docker build --target watchdog -t ghcr.io/whippet/watchdog:latest .',
  'docker build -t ghcr.io/whippet/whippet:latest .',
];
const WATCHDOG_IMAGE = 'ghcr.io/whippet/watchdog:latest';
const WHIPPET_IMAGE = 'ghcr.io/whippet/whippet:latest';

/** What each template's function image is checked with: its handler from examples/ and a call. */
interface FunctionSpec {
  lang: (typeof TEMPLATES)[number];
  handler: string;
  call: { path: string; init?: RequestInit; status?: number; want: RegExp };
  /** A call that outlasts the exec_timeout this test bakes into the image's Dockerfile (bash only). */
  slow?: { path: string; execTimeoutMs: number };
  /** A call still in flight when SIGTERM arrives: the drain lets it finish. */
  inFlight?: { path: string; want: RegExp };
}
const FUNCTIONS: readonly FunctionSpec[] = [
  { lang: 'bash', handler: 'slow', call: { path: '/?seconds=0', want: /^slept 0s\n$/ },
    slow: { path: '/?seconds=6', execTimeoutMs: 2000 }, inFlight: { path: '/?seconds=1', want: /^slept 1s\n$/ } },
  { lang: 'node', handler: 'wordcount', call: { path: '/', init: { method: 'POST', body: 'one two\nthree\n' }, want: /^\{"lines":2,"words":3,"bytes":14\}\n$/ } },
  { lang: 'python3', handler: 'hello', call: { path: '/', init: { method: 'POST', body: '{"name":"Ada"}' }, want: /"message": ?"Hello, Ada!"/ } },
  { lang: 'node-http', handler: 'receiver', call: { path: '/', init: { method: 'POST', body: 'callback body' }, status: 202, want: /"stored":1/ } },
];
const imageOf = (lang: string) => `localhost/whippet-image-test/${lang}:latest`;

interface Check { name: string; ok: boolean; detail: string }

/** Polls `ready` every 250 ms until it is true or the time is up (the containers' state sends no events here); a failing probe counts as not ready. */
const until = (timeoutMs: number, ready: () => Promise<boolean>): Promise<boolean> => holdsWithin(() => ready().catch(() => false), timeoutMs, 250);

/**
 * Resolves once a handler process (a child of fwatchdog, which is tini's child) runs in the container. Read from
 * this host's /proc every 20 ms: a `podman exec` per look took about a second on a slow host, as long as the
 * in-flight call's handler lives, and its synchronous run held back the call it was waiting for (CI of 6 Dec 2026
 * failed "no handler process started within 10 s" on the bash image).
 */
async function handlerRunning(name: string, env: NodeJS.ProcessEnv): Promise<void> {
  const tini = hostPid1(name, env);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    // By parent pid: the native spawn path forks from a thread of its own, whose /proc task lists the child.
    if (childrenOf(tini).living.some((watchdog) => childrenOf(watchdog).living.length > 0)) return;
    await sleep(20); // a process appearing in another PID namespace sends no event we can await
  }
  throw new Error('no handler process started within 10 s');
}

/**
 * Starts the image, checks it from the outside, stops it with SIGTERM; every check is a result, not an
 * assertion, so the broken-Dockerfile test can expect one to fail.
 */
async function checkFunctionImage(image: string, spec: FunctionSpec, env: NodeJS.ProcessEnv, name: string): Promise<Check[]> {
  const checks: Check[] = [];
  const check = (checkName: string, ok: boolean, detail: string) => { checks.push({ name: checkName, ok, detail }); };
  sh('podman', ['rm', '-f', name], { env });
  must('podman', ['run', '-d', '--name', name, '--pull=never', '-p', '127.0.0.1::8080', image], { env });
  try {
    let log: string[];
    try {
      log = await waitForLog(name, env, /\blistening\b/, 30_000);
    } catch (err) {
      check('starts and listens', false, (err as Error).message);
      return checks;
    }
    check('starts and listens', true, 'listening logged');
    const port = /:(\d+)\s*$/.exec(must('podman', ['port', name, '8080/tcp'], { env }).trim())?.[1];
    const url = `http://127.0.0.1:${port}`;

    const starting = log.find((l) => /\bstarting\b/.test(l)) ?? '';
    if (/\bmode=http\b/.test(starting)) {
      // http mode starts one process and spawns nothing per request: the path the image offers is in --help.
      const help = sh('podman', ['exec', name, 'fwatchdog', '--help'], { env }).stdout;
      const path = /Spawn path here with spawn_backend=auto: (.*)\./.exec(help)?.[1] ?? 'not in --help';
      check('native spawn path', path.startsWith('native'), `fwatchdog --help: ${path}`);
    } else {
      check('native spawn path', /\bspawnBackend=native\b/.test(starting), `start-up log: ${starting.replace(/^\S+ /, '')}`);
    }

    const procs = processes(name, env);
    const pid1 = procs.find((p) => p.pid === 1);
    const watchdog = procs.find((p) => p.args.some((a) => /fwatchdog(\.js)?$/.test(a)) && p.pid !== 1);
    check('PID 1 is tini', /\/tini$/.test(pid1?.args[0] ?? ''), `PID 1: ${pid1?.args.join(' ')}`);
    check('fwatchdog is a child of PID 1', watchdog?.ppid === 1, `fwatchdog pid ${watchdog?.pid}, ppid ${watchdog?.ppid}`);
    const rootProcs = procs.filter((p) => p.uid === 0);
    check('runs as non-root', watchdog !== undefined && watchdog.uid !== 0 && rootProcs.length === 0,
      `fwatchdog uid ${watchdog?.uid}; processes as root: ${rootProcs.map((p) => p.args.join(' ')).join(', ') || 'none'}`);

    const health = sh('podman', ['healthcheck', 'run', name], { env, timeoutMs: 30_000 });
    check('HEALTHCHECK command answers', health.status === 0, `podman healthcheck run: exit ${health.status} ${health.stdout.trim()} ${health.stderr.trim()}`);

    const answer = await call(url + spec.call.path, spec.call.init);
    check('a call returns the handler output', answer.status === (spec.call.status ?? 200) && spec.call.want.test(answer.body), `${answer.status} ${JSON.stringify(answer.body.slice(0, 200))}`);

    if (spec.slow !== undefined) {
      const cut = await call(url + spec.slow.path);
      const { execTimeoutMs } = spec.slow;
      check('ENV exec_timeout cuts a slow call with 504', cut.status === 504 && cut.ms >= execTimeoutMs - 100 && cut.ms < execTimeoutMs + 2500,
        `${cut.status} after ${cut.ms} ms (exec_timeout ${execTimeoutMs} ms)`);
    }

    // SIGTERM to the container is SIGTERM to tini, which forwards it to fwatchdog: health goes 503,
    // calls in flight finish, the container exits 0.
    const inFlight = spec.inFlight === undefined ? undefined : call(url + spec.inFlight.path);
    if (inFlight !== undefined) await handlerRunning(name, env);
    must('podman', ['kill', '--signal', 'TERM', name], { env });
    await waitForLog(name, env, /\bdraining\b/, 10_000);
    const draining = await call(`${url}/_/health`).catch((err: Error) => ({ status: 0, body: err.message, ms: 0 }));
    const exit = sh('podman', ['wait', name], { env, timeoutMs: 60_000 }).stdout.trim();
    const stopLog = sh('podman', ['logs', name], { env });
    const drained = inFlight === undefined ? undefined : await inFlight.catch((err: Error) => ({ status: 0, body: err.message, ms: 0 }));
    const inFlightOk = drained === undefined || (drained.status === 200 && spec.inFlight!.want.test(drained.body));
    check('SIGTERM drains', draining.status === 503 && exit === '0' && /\bstopped\b/.test(stopLog.stdout + stopLog.stderr) && inFlightOk,
      `health while draining ${draining.status}, exit ${exit}${drained ? `, call in flight ${drained.status} ${JSON.stringify(drained.body)}` : ''}`);
    return checks;
  } finally {
    sh('podman', ['rm', '-f', name], { env });
  }
}

/** The function build folders, from a stack of one function per template, with the lines `whippet build` prints. */
function buildFolders(dir: string): Map<string, string> {
  const stack = ['version: 1.0', 'provider:', '  name: whippet', 'functions:'];
  for (const spec of FUNCTIONS) {
    cpSync(join(REPO, 'examples', spec.handler), join(dir, spec.handler), { recursive: true });
    stack.push(`  fn-${spec.lang}:`, `    lang: ${spec.lang}`, `    handler: ./${spec.handler}`, `    image: ${imageOf(spec.lang)}`);
  }
  writeFileSync(join(dir, 'stack.yml'), `${stack.join('\n')}\n`);
  const out = must(process.execPath, [join(REPO, 'dist', 'cli', 'main.js'), 'build', '-f', 'stack.yml'], { cwd: dir });
  const lines = new Map<string, string>();
  for (const spec of FUNCTIONS) {
    const line = out.split('\n').map((l) => l.trim()).find((l) => l.startsWith(`docker build -t ${imageOf(spec.lang)} `));
    if (line === undefined) throw new Error(`whippet build printed no docker build line for fn-${spec.lang}:\n${out}`);
    lines.set(spec.lang, line);
  }
  // The README's way to bake a timeout into an image: an ENV line after the template's.
  for (const spec of FUNCTIONS) {
    if (spec.slow !== undefined) appendFileSync(join(dir, '.whippet', 'build', `fn-${spec.lang}`, 'Dockerfile'), `ENV exec_timeout=${spec.slow.execTimeoutMs / 1000}s\n`);
  }
  return lines;
}

function assertChecks(t: Test, checks: readonly Check[]): void {
  for (const c of checks) t.ok(c.ok, `${c.name} (${c.detail})`);
}

/** `node scripts/local-base.mjs`: the --build-arg flags naming the (cached) local Node images. */
function localBaseArgs(t: Test): string[] {
  const t0 = Date.now();
  const args = must(process.execPath, [join(REPO, 'scripts', 'local-base.mjs')], { timeoutMs: 15 * 60_000 }).trim().split(/\s+/);
  t.comment(`local Node base (${((Date.now() - t0) / 1000).toFixed(1)} s): ${args.join(' ')}`);
  return args;
}

/** The watchdog and whippet images, with the lines docs/images.md shows (buildah's layer cache makes a rebuild quick). */
function buildBaseImages(t: Test, baseArgs: readonly string[]): void {
  for (const line of BASE_LINES) {
    const t1 = Date.now();
    must('buildah', buildahArgs(line, baseArgs), { cwd: REPO, timeoutMs: 15 * 60_000 });
    t.comment(`built (${((Date.now() - t1) / 1000).toFixed(1)} s): ${line}`);
  }
}

t.test('images: base, watchdog, whippet and one function image per template, run with podman', { skip }, async (t) => {
  const base = localBaseArgs(t);
  t.ok(readFileSync(join(REPO, 'docs', 'images.md'), 'utf8').includes(BASE_LINES.join('\n')), 'docs/images.md shows the base image lines this test runs');
  buildBaseImages(t, base);

  const podman = podmanEnvironment(WATCHDOG_IMAGE);
  if ('error' in podman) {
    t.fail(podman.error);
    return;
  }
  t.comment(`containers run with ${podman.how}`);
  const { env } = podman;

  const whippetHelp = sh('podman', ['run', '--rm', '--pull=never', WHIPPET_IMAGE, 'whippet', '--help'], { env });
  t.equal(whippetHelp.status, 0, 'the whippet image runs `whippet --help`');
  t.match(whippetHelp.stdout + whippetHelp.stderr, /router/);
  const noRouter = sh('podman', ['run', '--rm', '--pull=never', WATCHDOG_IMAGE, 'sh', '-c', 'ls /opt/whippet/dist; ls /opt/whippet/node_modules'], { env });
  t.same(noRouter.stdout.split('\n').filter((l) => ['router', 'bench', 'better-sqlite3', '@nats-io', 'yaml'].includes(l)), [],
    'the watchdog image has no router, bench, better-sqlite3, NATS clients or yaml');

  const dir = t.testdir();
  const lines = buildFolders(dir);
  for (const spec of FUNCTIONS) {
    await t.test(`${spec.lang} function image`, async (t) => {
      const line = lines.get(spec.lang)!;
      const t1 = Date.now();
      must('buildah', buildahArgs(line), { cwd: dir, timeoutMs: 10 * 60_000 });
      t.comment(`built (${((Date.now() - t1) / 1000).toFixed(1)} s): ${line}`);
      assertChecks(t, await checkFunctionImage(imageOf(spec.lang), spec, env, `whippet-image-test-${spec.lang}`));
    });
  }

  for (const image of [WATCHDOG_IMAGE, WHIPPET_IMAGE, ...FUNCTIONS.map((s) => imageOf(s.lang))]) t.comment(`size ${image}: ${mb(imageSize(image))}`);
  t.ok(imageSize(WATCHDOG_IMAGE) < imageSize(WHIPPET_IMAGE), 'the watchdog image is smaller than the whippet image');
});

t.test('a Dockerfile without the addon COPY gives a function image that fails the native spawn check', { skip }, async (t) => {
  const base = localBaseArgs(t);
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  const watchdogStage = dockerfile.indexOf('AS watchdog\n');
  const addonCopy = 'COPY --from=build /src/native/build ./native/build/\n';
  const at = dockerfile.indexOf(addonCopy, watchdogStage);
  t.ok(watchdogStage > 0 && at > watchdogStage, 'the watchdog stage copies the addon');
  const dir = t.testdir({ 'Dockerfile.broken': dockerfile.slice(0, at) + dockerfile.slice(at + addonCopy.length) });
  const broken = 'localhost/whippet-image-test/watchdog-broken:latest';
  must('buildah', buildahArgs(`docker build --target watchdog -f ${join(dir, 'Dockerfile.broken')} -t ${broken} .`, base), { cwd: REPO, timeoutMs: 15 * 60_000 });

  const spec = FUNCTIONS[0]!;
  const podman = podmanEnvironment(broken);
  if ('error' in podman) {
    t.fail(podman.error);
    return;
  }
  const folders = buildFolders(dir);
  const image = 'localhost/whippet-image-test/broken-bash:latest';
  must('buildah', buildahArgs(folders.get(spec.lang)!.replace(imageOf(spec.lang), image), ['--build-arg', `WHIPPET_IMAGE=${broken}`]), { cwd: dir, timeoutMs: 10 * 60_000 });
  const checks = await checkFunctionImage(image, spec, podman.env, 'whippet-image-test-broken');
  const failed = checks.filter((c) => !c.ok);
  t.same(failed.map((c) => c.name), ['native spawn path'], 'exactly the native spawn check fails');
  t.match(failed[0]?.detail, /spawnBackend=child_process/);
  for (const image of [broken, 'localhost/whippet-image-test/broken-bash:latest']) sh('buildah', ['rmi', image]);
});

const composeSkip = skip || (onPath('podman-compose') ? false : 'podman-compose is not installed (apt-get install -y podman-compose; .ci/run does it)');
if (composeSkip && !skip && required) t.fail(`the compose test is required here (CI or REQUIRE_IMAGES is set) but cannot run: ${composeSkip}`);

t.test('compose: NATS, two routers, two workers and the examples under podman-compose; a killed router loses no accepted call', { skip: composeSkip }, async (t) => {
  const base = localBaseArgs(t);
  buildBaseImages(t, base);
  const podman = podmanEnvironment(WATCHDOG_IMAGE);
  if ('error' in podman) {
    t.fail(podman.error);
    return;
  }

  // nats:2.10-alpine cannot be pulled here: the same server from Debian (nats-server 2.9) with wget for
  // the compose healthcheck, on the local Node base.
  const natsVersion = /v(\d+\.\d+\.\d+)/.exec(must('nats-server', ['--version']))?.[1] ?? 'local';
  const natsImage = `localhost/whippet-image-test/nats:${natsVersion}`;
  const runtimeBase = base.find((a) => a.startsWith('NODE_RUNTIME_IMAGE='))!.split('=')[1]!;
  const natsDir = t.testdir({ 'nats-server': readFileSync(must('sh', ['-c', 'command -v nats-server']).trim()) });
  writeFileSync(join(natsDir, 'Containerfile'), `FROM ${runtimeBase}\n`
    + 'RUN apt-get update && apt-get install -y --no-install-recommends wget && rm -rf /var/lib/apt/lists/*\n'
    + 'COPY --chmod=0755 nats-server /usr/local/bin/nats-server\nENTRYPOINT ["nats-server"]\n');
  must('buildah', buildahArgs(`docker build -f Containerfile -t ${natsImage} .`), { cwd: natsDir });

  // The layout compose.yaml expects, made as its header says: deploy/compose.yaml, the build folders of
  // `whippet build -f examples/stack.yml` and .whippet/secrets/.
  // Not t.testdir(): that is gone before the teardown that needs the compose file for `down`.
  const dir = mkdtempSync(join(tmpdir(), 'whippet-compose-'));
  cpSync(join(REPO, 'examples'), join(dir, 'examples'), { recursive: true, filter: (src) => !src.includes('/.whippet') });
  cpSync(join(REPO, 'deploy', 'compose.yaml'), join(dir, 'deploy', 'compose.yaml'));
  must(process.execPath, [join(REPO, 'dist', 'cli', 'main.js'), 'build', '-f', 'examples/stack.yml'], { cwd: dir });
  const password = randomBytes(18).toString('base64url');
  mkdirSync(join(dir, '.whippet', 'secrets'), { recursive: true });
  writeFileSync(join(dir, '.whippet', 'secrets', 'basic-auth-user'), 'admin');
  writeFileSync(join(dir, '.whippet', 'secrets', 'basic-auth-password'), password);

  const project = 'whippet-image-test';
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...podman.env, NATS_IMAGE: natsImage, WHIPPET_PORT: String(port),
    // podman build (which podman-compose calls) as buildah runs here: chroot isolation, Docker format.
    BUILDAH_ISOLATION: 'chroot', BUILDAH_FORMAT: 'docker',
  };
  delete env.WHIPPET_IMAGE;
  delete env.WATCHDOG_IMAGE;
  const compose = (...args: string[]) => sh('podman-compose', ['-p', project, '-f', 'deploy/compose.yaml', ...args], { cwd: dir, env, timeoutMs: 10 * 60_000 });
  compose('down', '-v');
  t.teardown(() => {
    compose('down', '-v');
    sh('podman', ['network', 'rm', `${project}_default`], { env }); // podman-compose 1.0.3 leaves it
    rmSync(dir, { recursive: true, force: true });
  });

  const functions = ['echo', 'wordcount', 'hello', 'slow', 'fail', 'receiver'];
  const built = compose('build', ...functions);
  t.equal(built.status, 0, `podman-compose build ${functions.join(' ')}${built.status === 0 ? '' : `: ${(built.stderr + built.stdout).slice(-2000)}`}`);
  const up = compose('up', '-d');
  t.equal(up.status, 0, `podman-compose up -d${up.status === 0 ? '' : `: ${(up.stderr + up.stdout).slice(-2000)}`}`);
  const router = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };

  // Up: the routers wait for NATS (restart until it answers), the functions for nothing.
  const ready = await until(60_000, async () => (await call(`${router}/function/echo`, { method: 'POST', body: 'hi' }).catch(() => undefined))?.status === 200);
  t.ok(ready, 'router1 answers /function/echo within 60 s');
  if (!ready) {
    t.comment(sh('podman', ['ps', '-a', '--format', '{{.Names}} {{.Status}}'], { env }).stdout);
    return;
  }
  const echo = await call(`${router}/function/echo`, { method: 'POST', body: 'hi' });
  t.same([echo.status, echo.body], [200, 'hi'], 'a sync call through router1 reaches the echo container');
  t.equal((await call(`${router}/system/functions`)).status, 401, '/system/* without credentials: 401 (basic_auth on)');
  t.equal((await call(`${router}/system/functions`, { headers: auth })).status, 200, 'with the generated credentials: 200');
  const metadata = await call(`${router}/async-function/echo`, { method: 'POST', body: 'x', headers: { 'x-callback-url': 'http://169.254.169.254/latest/meta-data/' } });
  t.equal(metadata.status, 400, `a callback to the metadata address is refused: ${metadata.body.trim()}`);

  // An async call through router1 is run by a worker and its callback reaches the receiver container.
  await call(`${router}/function/receiver`, { method: 'DELETE' });
  const accepted = await fetch(`${router}/async-function/echo`, { method: 'POST', body: 'later', headers: { 'x-callback-url': 'http://receiver:8080/' } });
  const callId = accepted.headers.get('x-call-id') ?? '';
  t.equal(accepted.status, 202, `async call accepted (${callId})`);
  const callbacks = async () => JSON.parse((await call(`${router}/function/receiver`)).body) as Array<{ callId: string; body: string; functionStatus: number }>;
  const delivered = await until(60_000, async () => (await callbacks()).some((c) => c.callId === callId));
  const callback = (await callbacks()).find((c) => c.callId === callId);
  t.ok(delivered, 'its callback arrives');
  t.same([callback?.functionStatus, callback?.body], [200, 'later'], 'with the function status and output');
  const ipOf = (service: string) => must('podman', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', `${project}_${service}_1`], { env }).trim();
  let workerRuns = 0;
  for (const worker of ['worker1', 'worker2']) {
    const metrics = (await call(`http://${ipOf(worker)}:8082/metrics`)).body;
    for (const m of metrics.matchAll(/^gateway_function_invocation_total\{[^}]*function_name="echo[^"]*"[^}]*\} (\d+)/gm)) workerRuns += Number(m[1]);
  }
  t.ok(workerRuns >= 1, `a worker ran it: the workers' /metrics count ${workerRuns} echo invocation(s); the routers run async_worker=false`);

  // Load through router1 with 4 clients; once 12 calls are accepted router1 is SIGKILLed mid-load, and the
  // clients fail over to router2 (as a load balancer would). Every call answered 202 gets its callback.
  await call(`${router}/function/receiver`, { method: 'DELETE' });
  const router2 = `http://${ipOf('router2')}:8080`;
  const ids: string[] = [];
  let target = router, killed: Promise<unknown> | undefined, refused = 0, next = 0, acceptedBeforeKill = 0;
  const client = async () => {
    while (next < 40) {
      const i = next++;
      const res = await fetch(`${target}/async-function/echo`, { method: 'POST', body: `load ${i}`, headers: { 'x-callback-url': 'http://receiver:8080/' }, signal: AbortSignal.timeout(10_000) })
        .catch(() => undefined);
      if (res?.status === 202) ids.push(res.headers.get('x-call-id') ?? '');
      else refused++;
      if (killed === undefined && ids.length >= 12) {
        acceptedBeforeKill = ids.length;
        killed = execFileAsync('podman', ['kill', '--signal', 'KILL', `${project}_router1_1`], { env }).then(() => { target = router2; });
      }
    }
  };
  await Promise.all([client(), client(), client(), client()]);
  await killed;
  t.ok(acceptedBeforeKill >= 12 && ids.length > acceptedBeforeKill, `router1 accepted ${acceptedBeforeKill} before it was killed, ${ids.length} accepted in all, ${refused} refused or cut`);
  const all = await until(90_000, async () => {
    const seen = new Set((await fetch(`${router2}/function/receiver`).then((r) => r.json()) as Array<{ callId: string }>).map((c) => c.callId));
    return ids.every((id) => seen.has(id));
  });
  t.ok(all, `every accepted call's callback arrived (${ids.length})`);
});
