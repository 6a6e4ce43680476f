// Helpers for the image test: build with buildah from `docker build` lines, run with podman, and check a
// running function container from the outside (HTTP, podman exec, podman healthcheck, podman logs).

import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface Ran { status: number | null; stdout: string; stderr: string }

export function sh(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Ran {
  const res: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', timeout: options.timeoutMs ?? 600_000, maxBuffer: 256 << 20,
  });
  return { status: res.error ? null : res.status, stdout: res.stdout ?? '', stderr: res.error ? res.error.message : res.stderr ?? '' };
}

/** Runs and throws with the tail of the output when the command fails. */
export function must(cmd: string, args: readonly string[], options: Parameters<typeof sh>[2] = {}): string {
  const res = sh(cmd, args, options);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}:\n${(res.stderr + res.stdout).slice(-3000)}`);
  return res.stdout;
}

/**
 * `docker build …` as buildah runs it here: chroot isolation (the OCI runtime cannot make cgroups in
 * this sandbox), Docker image format (OCI drops HEALTHCHECK), layer cache on, never pull.
 */
export const BUILDAH_BUD = ['bud', '--isolation', 'chroot', '--format', 'docker', '--layers', '--pull-never'];

export function buildahArgs(dockerLine: string, extra: readonly string[] = []): string[] {
  const words = dockerLine.trim().split(/\s+/);
  if (words[0] !== 'docker' || words[1] !== 'build') throw new Error(`not a docker build line: ${dockerLine}`);
  return [...BUILDAH_BUD, ...extra, ...words.slice(2)];
}

/** Bytes of a local image. */
export const imageSize = (image: string): number => Number(must('podman', ['image', 'inspect', '--format', '{{.Size}}', image]).trim());
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * How podman can run containers here: with its defaults, or else with runc and lowered rlimits. In this
 * sandbox crun fails ("cgroups in hybrid mode not supported"), and both runtimes fail to raise
 * RLIMIT_NOFILE/RLIMIT_NPROC to podman's defaults (no CAP_SYS_RESOURCE), so the fallback is a
 * containers.conf (CONTAINERS_CONF) with runtime=runc and nofile/nproc at 8192.
 */
export function podmanEnvironment(image: string): { env: NodeJS.ProcessEnv; how: string } | { error: string } {
  const probe = (env: NodeJS.ProcessEnv) => sh('podman', ['run', '--rm', '--pull=never', image, 'true'], { env, timeoutMs: 60_000 });
  const plain = probe(process.env);
  if (plain.status === 0) return { env: process.env, how: 'podman with its defaults' };
  const dir = mkdtempSync(join(tmpdir(), 'whippet-podman-'));
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=8192:8192", "nproc=8192:8192"]\n[engine]\nruntime = "runc"\n');
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const fallback = probe(env);
  const reason = plain.stderr.trim().split('\n').at(-1);
  if (fallback.status === 0) return { env, how: `podman with runc and nofile/nproc 8192 (CONTAINERS_CONF=${conf}): the defaults fail with: ${reason}` };
  return { error: `podman cannot run a container: ${reason}; with runc and lowered rlimits: ${fallback.stderr.trim().split('\n').at(-1)}` };
}

export interface Proc { pid: number; ppid: number; uid: number; args: string[] }

/** The processes in a container, read from /proc with the image's own node. */
export function processes(container: string, env: NodeJS.ProcessEnv): Proc[] {
  const script = `const fs = require('fs'); const out = [];
for (const d of fs.readdirSync('/proc')) { if (!/^\\d+$/.test(d)) continue;
  try { const st = fs.readFileSync('/proc/' + d + '/status', 'utf8');
    out.push({ pid: +d, ppid: +/PPid:\\s+(\\d+)/.exec(st)[1], uid: +/Uid:\\s+(\\d+)/.exec(st)[1],
      args: fs.readFileSync('/proc/' + d + '/cmdline', 'utf8').split('\\0').filter(Boolean) }); } catch {} }
console.log(JSON.stringify(out));`;
  return JSON.parse(must('podman', ['exec', container, 'node', '-e', script], { env })) as Proc[];
}

/** The container's PID 1 as a process of this host (podman's processes are the host's, rootful or rootless). */
export function hostPid1(container: string, env: NodeJS.ProcessEnv): number {
  return Number(must('podman', ['inspect', '--format', '{{.State.Pid}}', container], { env }).trim());
}

/** Resolves with the log lines up to and including the first that matches, or rejects at the deadline or exit. */
export async function waitForLog(container: string, env: NodeJS.ProcessEnv, pattern: RegExp, timeoutMs: number): Promise<string[]> {
  const child = spawn('podman', ['logs', '-f', container], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill(); }, timeoutMs);
  try {
    let ended = false;
    const found = await new Promise<boolean>((resolve) => {
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (line) => {
          lines.push(line);
          if (pattern.test(line)) resolve(true);
        });
      }
      child.on('exit', () => { ended = !timedOut; resolve(false); });
    });
    if (!found) {
      const why = ended ? 'the container stopped first' : `not within ${timeoutMs} ms`;
      throw new Error(`no log line matching ${pattern} (${why}):\n${lines.join('\n')}`);
    }
    return lines;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) { child.kill(); await once(child, 'exit'); }
  }
}

export async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  return { status: res.status, body, ms: Date.now() - t0 };
}
