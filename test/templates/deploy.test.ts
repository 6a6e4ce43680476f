// deploy/: the compose file validates with docker-compose (v1, as Debian ships it) against real build
// folders, and the Kubernetes manifests hang together (selectors, services, DNS template, NATS cluster).

import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { compileAllowList } from '../../router/async/callback-url.js';
import { parseHostList } from '../../router/config.js';
import { REPO } from '../helpers/templates.js';

interface StackFunction { lang: string; handler: string; environment?: Record<string, string | number> }
const stack = parse(readFileSync(join(REPO, 'examples', 'stack.yml'), 'utf8')) as { functions: Record<string, StackFunction> };
const hasCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
const composeSkip = hasCompose ? false : 'docker-compose is not installed (apt-get install -y docker-compose; .ci/run does it)';

/** A copy of the repo layout compose expects: deploy/compose.yaml, ../Dockerfile, ../examples/.whippet/build/<name>/ (where `whippet build -f examples/stack.yml` puts them), ../.whippet/secrets/. */
function composeTree(dir: string, compose = readFileSync(join(REPO, 'deploy', 'compose.yaml'), 'utf8')): string {
  mkdirSync(join(dir, 'deploy'));
  writeFileSync(join(dir, 'deploy', 'compose.yaml'), compose);
  copyFileSync(join(REPO, 'Dockerfile'), join(dir, 'Dockerfile'));
  // The generated basic-auth files the compose file's header tells the user to make.
  mkdirSync(join(dir, '.whippet', 'secrets'), { recursive: true });
  writeFileSync(join(dir, '.whippet', 'secrets', 'basic-auth-user'), 'admin');
  writeFileSync(join(dir, '.whippet', 'secrets', 'basic-auth-password'), 'generated');
  // The build folders as the compose file's header makes them: `whippet build -f examples/stack.yml`.
  cpSync(join(REPO, 'examples'), join(dir, 'examples'), { recursive: true, filter: (src) => !src.includes('/.whippet') });
  const built = spawnSync(process.execPath, [join(REPO, 'dist', 'cli', 'main.js'), 'build', '-f', 'examples/stack.yml'], { cwd: dir, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`whippet build failed: ${built.stderr}`);
  return dir;
}
function composeConfig(dir: string) {
  return spawnSync('docker-compose', ['-f', 'deploy/compose.yaml', 'config'], {
    cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, WHIPPET_IMAGE: '', WATCHDOG_IMAGE: '', NATS_IMAGE: '', WHIPPET_PORT: '' },
  });
}

t.test('compose.yaml validates with docker-compose config', { skip: composeSkip }, async (t) => {
  const dir = composeTree(t.testdir());
  const res = composeConfig(dir);
  t.equal(res.status, 0, res.stderr);
  const cfg = parse(res.stdout) as { services: Record<string, Record<string, any>>; volumes: Record<string, unknown>; secrets?: Record<string, { file: string }> };
  const services = cfg.services;
  t.same(Object.keys(services).sort(),
    ['nats', 'router1', 'router2', 'worker1', 'worker2', ...Object.keys(stack.functions)].sort());

  t.match(services.nats!.image, /^nats:2\.(9|\d\d)/, 'NATS 2.9 or later');
  t.same(services.nats!.command.slice(0, 3), ['-js', '-sd', '/data']);
  t.same(services.nats!.volumes, ['nats-data:/data:rw']);
  t.ok('nats-data' in cfg.volumes, 'the JetStream store is a named volume');

  for (const [name, command] of [['router1', 'router'], ['router2', 'router'], ['worker1', 'worker'], ['worker2', 'worker']] as const) {
    const s = services[name]!;
    t.same(s.command, ['whippet', command], `${name} runs whippet ${command}`);
    t.equal(s.image, 'ghcr.io/whippet/whippet:latest', `${name}: the base image (WHIPPET_IMAGE unset)`);
    t.match(s.environment, { queue: 'nats://nats:4222', function_url_template: 'http://{name}:8080' });
    t.same(s.depends_on, { nats: { condition: 'service_healthy' } });
  }
  t.equal(services.router1!.build.context, dir, 'the base image builds from the repo root');
  for (const name of ['router1', 'router2']) {
    const s = services[name]!;
    t.match(s.environment, { async_worker: 'false', basic_auth: 'true', secret_mount_path: '/run/secrets' }, `${name}: basic auth on`);
    t.same(s.secrets.map((x: { source: string }) => x.source).sort(), ['basic-auth-password', 'basic-auth-user'], `${name}: gets the basic-auth files`);
    refusesMetadata(t, s.environment.callback_allow, name);
  }
  t.same(Object.keys(cfg.secrets ?? {}).sort(), ['basic-auth-password', 'basic-auth-user']);
  for (const [name, secret] of Object.entries(cfg.secrets ?? {})) {
    t.equal(secret.file, join(dir, '.whippet', 'secrets', name), `${name}: a generated file under .whippet/ (git-ignored)`);
  }
  for (const name of ['worker1', 'worker2']) t.notOk('basic_auth' in services[name]!.environment, `${name}: serves no /system routes`);
  t.same(services.router1!.ports.map((p: { published: number; target: number }) => [p.published, p.target]), [[8080, 8080]]);

  for (const [name, fn] of Object.entries(stack.functions)) {
    const s = services[name]!;
    t.equal(s.build.context, join(dir, 'examples', '.whippet', 'build', name), `${name}: built from the folder whippet build -f examples/stack.yml makes`);
    t.same(s.build.args, { WHIPPET_IMAGE: 'ghcr.io/whippet/watchdog:latest' }, `${name}: FROM the watchdog image`);
    const want = Object.fromEntries(Object.entries(fn.environment ?? {}).map(([k, v]) => [k, String(v)]));
    t.same(s.environment ?? {}, want, `${name}: the stack's environment`);
  }
});

/** callback_allow (as the router parses it) refuses link-local and cloud-metadata hosts and allows the example receiver. */
function refusesMetadata(t: Test, value: string | undefined, where: string, allowed = 'receiver'): void {
  t.type(value, 'string', `${where}: callback_allow is set`);
  const allow = compileAllowList(parseHostList(value ?? ''));
  for (const host of ['169.254.169.254', '169.254.170.2', '[fd00:ec2::254]', '[fe80::1]', '100.100.100.200', 'metadata.google.internal', '127.0.0.1', '10.0.0.1']) {
    t.notOk(allow.allows(host), `${where}: callback_allow refuses ${host}`);
  }
  t.ok(allow.allows(allowed), `${where}: callback_allow allows ${allowed}`);
}

t.test('docker-compose config rejects a broken file (the check can fail)', { skip: composeSkip }, async (t) => {
  const broken = readFileSync(join(REPO, 'deploy', 'compose.yaml'), 'utf8').replace('  router2:\n', '  router2:\n    bogus_key: 1\n');
  const res = composeConfig(composeTree(t.testdir(), broken));
  t.not(res.status, 0);
  t.match(res.stderr, /bogus_key/);
});

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: any; data?: Record<string, string> };
const k8sDir = join(REPO, 'deploy', 'kubernetes');
const k8sFiles = readdirSync(k8sDir).filter((f) => f.endsWith('.yaml')).sort();
const docs: Doc[] = k8sFiles.filter((f) => f !== 'kustomization.yaml').flatMap((f) =>
  parseAllDocuments(readFileSync(join(k8sDir, f), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${f}: ${d.errors[0]!.message}`);
    return d.toJS() as Doc;
  }));
const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
const envOf = (d: Doc | undefined) => Object.fromEntries((d?.spec.template.spec.containers[0].env ?? []).map((e: { name: string; value: string }) => [e.name, e.value]));

t.test('kubernetes: every object is well-formed and listed in the kustomization', async (t) => {
  const kustomization = parse(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  t.same([...kustomization.resources].sort(), k8sFiles.filter((f) => f !== 'kustomization.yaml'));
  for (const d of docs) {
    t.ok(d.apiVersion && d.kind && d.metadata?.name, `${d.kind}/${d.metadata?.name} has apiVersion, kind, name`);
    if (d.kind !== 'Namespace') t.ok(['whippet', 'whippet-fn'].includes(d.metadata.namespace ?? ''), `${d.kind}/${d.metadata.name} is namespaced`);
    if (d.kind === 'Deployment' || d.kind === 'StatefulSet') {
      t.match(d.spec.template.metadata.labels, d.spec.selector.matchLabels, `${d.metadata.name}: selector matches the pod labels`);
    }
    if (d.kind === 'Service') {
      const backs = docs.some((w) => (w.kind === 'Deployment' || w.kind === 'StatefulSet') && w.metadata.namespace === d.metadata.namespace
        && Object.entries(d.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v));
      t.ok(backs, `Service ${d.metadata.name} selects a workload in its namespace`);
    }
  }
});

t.test('kubernetes: routers and workers reach NATS and find functions by DNS', async (t) => {
  const router = find('Deployment', 'router');
  const worker = find('Deployment', 'worker');
  for (const d of [router, worker]) {
    t.same(d?.spec.template.spec.containers[0].args, ['whippet', d?.metadata.name], 'args, not command: the image ENTRYPOINT (tini) stays PID 1');
    t.equal(d?.spec.template.spec.securityContext.runAsNonRoot, true);
    const env = envOf(d);
    t.equal(env.queue, 'nats://nats.whippet.svc.cluster.local:4222?replicas=3');
    t.equal(env.function_url_template, 'http://{name}.{namespace}.svc.cluster.local:8080');
    t.equal(env.function_namespace, 'whippet-fn');
  }
  t.ok(find('Service', 'nats') && find('Service', 'router'), 'services for NATS clients and the router');

  const routerEnv = envOf(router);
  t.equal(routerEnv.basic_auth, 'true', 'the router ships with basic auth on');
  const pod = router?.spec.template.spec;
  const secretVolume = pod.volumes.find((v: { secret?: { secretName: string } }) => v.secret?.secretName === 'basic-auth');
  t.ok(secretVolume, 'the router mounts the Secret basic-auth (created by the user, see router.yaml)');
  t.same(pod.containers[0].volumeMounts.filter((m: { name: string }) => m.name === secretVolume?.name).map((m: { mountPath: string }) => m.mountPath),
    [routerEnv.secret_mount_path], 'at secret_mount_path');
  t.notOk(docs.some((d) => d.kind === 'Secret'), 'no password ships in the manifests');
  refusesMetadata(t, routerEnv.callback_allow, 'router', 'receiver.whippet-fn.svc.cluster.local');

  const fnDeployment = find('Deployment', 'echo');
  const fnService = find('Service', 'echo');
  t.equal(fnDeployment?.metadata.namespace, 'whippet-fn');
  t.equal(fnService?.metadata.namespace, 'whippet-fn', 'the Service is named after the function in function_namespace');
  t.same(fnService?.spec.ports.map((p: { port: number }) => p.port), [8080]);
  t.equal(fnDeployment?.spec.template.spec.containers[0].readinessProbe.httpGet.path, '/_/ready');
});

t.test('kubernetes: NATS is a JetStream cluster whose routes name every replica', async (t) => {
  const sts = find('StatefulSet', 'nats');
  const conf = find('ConfigMap', 'nats-config')?.data?.['nats.conf'] ?? '';
  t.equal(sts?.spec.replicas, 3);
  t.equal(sts?.spec.serviceName, 'nats-headless');
  t.match(conf, /jetstream \{\s+store_dir: \/data/);
  t.match(conf, /server_name: \$POD_NAME/);
  const routes = [...conf.matchAll(/nats:\/\/(nats-\d)\.nats-headless\.whippet\.svc\.cluster\.local:6222/g)].map((m) => m[1]);
  t.same(routes, ['nats-0', 'nats-1', 'nats-2']);
  t.ok(sts?.spec.volumeClaimTemplates?.[0]?.metadata.name === 'data', 'the store is on a persistent volume');
});
