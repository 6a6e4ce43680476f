// The benchmark's C programs (bench/c/): compiled by the run that uses them, with $CC or cc, into a temp folder
// removed at exit. Without a compiler a run still works and says what it left out.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

let dir: string | undefined;
type Compiled = { bin: string } | { error: string };
const compiled = new Map<string, Compiled>();

/** Compiles bench/c/<name>.c once per process; returns the binary's path, or why it could not. */
export function compileC(name: string): Compiled {
  let r = compiled.get(name);
  if (r === undefined) compiled.set(name, (r = compile(name)));
  return r;
}

function compile(name: string): Compiled {
  if (dir === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'whippet-bench-c-'));
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
    dir = made;
  }
  const bin = join(dir, name);
  // bench/c/ beside this file when run from source (tsx, tests), two levels up from dist/bench/ when compiled.
  const source = [`./c/${name}.c`, `../../bench/c/${name}.c`]
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find((p) => existsSync(p));
  if (source === undefined) return { error: `bench/c/${name}.c not found` };
  try {
    execFileSync(process.env.CC ?? 'cc', ['-O2', '-pthread', '-o', bin, source], { stdio: 'pipe' });
    return { bin };
  } catch (err) {
    return { error: `bench/c/${name}.c did not compile (${(err as Error).message.split('\n')[0]})` };
  }
}

/** Whether a C compiler ($CC or cc) answers here. */
export const hasCompiler = (): boolean => spawnSync(process.env.CC ?? 'cc', ['--version']).status === 0;

/** Runs a compiled program that prints one JSON line. */
export function runJson<T>(bin: string, args: readonly string[], env?: NodeJS.ProcessEnv): T {
  const r = spawnSync(bin, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${bin} failed: ${r.stderr || String(r.error)}`);
  return JSON.parse(r.stdout) as T;
}

/** What bench/c/cat-loop.c prints: spawns done and failed, over how long, and the CPU of the loop and its children. */
export interface CatLoopResult { spawns: number; errors: number; seconds: number; selfCpuMs: number; childCpuMs: number }

/** What bench/c/host-probe.c prints, in µs (cpuidUs is -1 off x86). */
export interface HostCosts { syscallUs: number; pageFaultUs: number; cpuidUs: number }

/** A line for the machine section: what a syscall, a page fault and CPUID cost here (bench/c/host-probe.c). */
export function hostCostsLine(): string {
  const probe = compileC('host-probe');
  if ('error' in probe) return `- kernel costs: not measured: ${probe.error}`;
  const c = runJson<HostCosts>(probe.bin, []);
  const cpuid = c.cpuidUs < 0 ? '' : `, CPUID ${c.cpuidUs.toFixed(2)} µs (glibc runs it at every program start; under a hypervisor it traps)`;
  return `- kernel costs (bench/c/host-probe.c): a syscall ${c.syscallUs.toFixed(2)} µs, a page fault on fresh memory ` +
    `${c.pageFaultUs.toFixed(2)} µs${cpuid}. Spawning \`cat\` is mostly these, so they set what every fork-per-request ` +
    'server can do on this machine';
}
