// Start a server process for a benchmark and learn its port; stop it afterwards. Output goes to a temp file,
// as in the OpenFaaS measurements: through a pipe, this process would read a log line per request on the
// same cores it is measuring.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The compiled CLI, seen from dist/bench/. */
export const CLI = fileURLToPath(new URL('../cli/main.cjs', import.meta.url));

export interface Started {
  readonly proc: ChildProcess;
  readonly port: number;
  /** performance.now() when its port was seen. */
  readonly listeningAt: number;
}

// `listening port=8080`, `"msg":"listening",…,"port":8080` or `listening 8080`: a port field on the line wins.
const LISTENING = /listening(?:[^\n]*?\bport[=":]+|\D*?)(\d{2,5})/;
const POLL_MS = 5;

/** This process's environment minus what only slows Node's start here (NODE_EXTRA_CA_CERTS: ~125 ms). */
export function benchEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

/**
 * Spawn `node <args>` with exactly `env`; resolves once its output names the port it listens on. With `cores`
 * (a taskset list, "1" or "0-2") the process and every process it starts run on those cores only (taskset
 * execs node, so the pid is node's).
 */
export async function startServer(args: readonly string[], env: Record<string, string>, timeoutMs = 20_000, cores?: string): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-'));
  const file = join(dir, 'output.log');
  const fd = openSync(file, 'w');
  const startedAt = performance.now();
  let proc: ChildProcess;
  try {
    proc = cores === undefined
      ? spawn(process.execPath, args, { env, stdio: ['ignore', fd, fd] })
      : spawn('taskset', ['-c', cores, process.execPath, ...args], { env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let last = '';
  const output = (): string => {
    try { last = readFileSync(file, 'utf8'); } catch { /* removed at exit: keep what was read */ }
    return last;
  };
  proc.once('exit', () => { output(); rmSync(dir, { recursive: true, force: true }); });
  while (performance.now() - startedAt < timeoutMs && proc.exitCode === null && proc.signalCode === null) {
    const m = LISTENING.exec(output());
    if (m) return { proc, port: Number(m[1]), listeningAt: performance.now() };
    await delay(POLL_MS);
  }
  const text = output();
  await stopServer(proc);
  throw new Error(`node ${args.join(' ')}: no port announced within ${timeoutMs} ms:\n${text.slice(-4000)}`);
}

/** Stop a server: `signal` (SIGKILL by default: a drain would only add time), SIGKILL after 5 s regardless. */
export async function stopServer(proc: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Start `whippet <args>` with PATH only (plus `env`), JSON logs on port 0, and wait for its `listening` line; on `cores` only when given. */
export function startWhippet(args: string[], env: Record<string, string>, cores?: string): Promise<Started> {
  return startServer([CLI, ...args], { PATH: process.env['PATH'] ?? '', log_format: 'json', port: '0', ...env }, undefined, cores);
}

/**
 * Run process `pid` (every thread) on `cores` only, a taskset list; the returned function gives it back the
 * cores it had. Null where taskset cannot (not Linux, no util-linux, a container that forbids those cores).
 */
export function pinProcess(pid: number, cores: string): (() => void) | null {
  // "pid 123's current affinity list: 0,1"
  const was = /:\s*(\S+)\s*$/.exec(spawnSync('taskset', ['-c', '-p', String(pid)], { encoding: 'utf8' }).stdout ?? '')?.[1];
  const set = (list: string): boolean => spawnSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' }).status === 0;
  if (was === undefined || !set(cores)) return null;
  return () => { set(was); };
}

/** The benchmark's cores split for a function on a core of its own: the last core for it, the others for the rest. */
export interface CoreSplit {
  readonly fn: string;
  readonly rest: string;
}

/** The split on this machine; null on one core. */
export function functionCoreSplit(): CoreSplit | null {
  const n = cpus().length;
  if (n < 2) return null;
  return { fn: String(n - 1), rest: n === 2 ? '0' : `0-${n - 2}` };
}

/**
 * Run `measure` (a drain with the function started on `split.fn`) while this process and the processes `alsoPinned`
 * run on `split.rest`; each gets back the cores it had afterwards. Its Markdown lines, or one line saying why the
 * drain with the function on a core of its own did not run.
 */
export async function onSeparateCores(alsoPinned: readonly number[], measure: (split: CoreSplit) => Promise<string[]>): Promise<string[]> {
  const notRun = (why: string): string[] => [`The drain with the function on a core of its own did not run: ${why}.`];
  const split = functionCoreSplit();
  if (split === null) return notRun('this machine has one core');
  const unpinSelf = pinProcess(process.pid, split.rest);
  if (unpinSelf === null) return notRun('`taskset` could not pin this process');
  const unpinOthers = alsoPinned.map((pid) => pinProcess(pid, split.rest));
  try {
    return await measure(split);
  } finally {
    for (const unpin of unpinOthers) unpin?.();
    unpinSelf();
  }
}

/**
 * CPU time of `pid` so far, in ms: its own (utime + stime) and that of the children it reaped (cutime +
 * cstime), from /proc/<pid>/stat (Linux; fields after the parenthesised command name, 100 ticks a second).
 */
export function processCpuMs(pid: number): { readonly own: number; readonly children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { own: (f[11]! + f[12]!) * 10, children: (f[13]! + f[14]!) * 10 };
}

/** The living children of `pid` (a multi-process router's workers), from /proc; none where it cannot be read. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((x) => x !== '').map(Number);
  } catch {
    return []; // gone, or no /proc
  }
}

/** The machine's CPU time so far (every core), busy and in all, in clock ticks, from /proc/stat (Linux). */
interface MachineTicks {
  readonly busy: number;
  readonly all: number;
}

/** Read /proc/stat's first line: user nice system idle iowait irq softirq steal …; idle, iowait and steal (time the hypervisor gave to others) are not busy. */
function machineTicks(): MachineTicks {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const all = f.reduce((sum, n) => sum + n, 0);
    return { busy: all - f[3]! - f[4]! - f[7]!, all };
  } catch {
    return { busy: Number.NaN, all: Number.NaN };
  }
}

/** Cores kept busy between two readings (2.0 = both of two cores all the time). */
function busyCores(before: MachineTicks, after: MachineTicks, cores: number): number {
  return ((after.busy - before.busy) / (after.all - before.all)) * cores;
}

/** CPU time (user + system) a process used so far, in ms; NaN where /proc is not there. */
export function cpuMs(pid: number | undefined): number {
  try {
    return processCpuMs(pid!).own;
  } catch {
    return Number.NaN;
  }
}

/** CPU time of a process and of its living children (a multi-process router's workers, a watchdog's function), in ms. */
export function treeCpuMs(pid: number | undefined): number {
  return (pid === undefined ? [] : childPids(pid)).reduce((sum, child) => sum + cpuMs(child), cpuMs(pid));
}

/** This process's CPU time so far, in ms (the load generator, while it runs a load). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU spent in one phase, per call: by the function's side (its watchdog and the process it runs), by the caller; and the machine's busy cores. */
export interface PhaseCpu {
  readonly fnUs: number;
  readonly callerUs: number;
  readonly cores: number;
}

/** Start measuring a phase; the function returned ends it, given the calls the phase made. */
export function phaseCpu(fnPid: number | undefined, callerMs: () => number): (calls: number) => PhaseCpu {
  const fn = treeCpuMs(fnPid);
  const caller = callerMs();
  const machine = machineTicks();
  return (calls) => ({
    fnUs: ((treeCpuMs(fnPid) - fn) * 1000) / calls,
    callerUs: ((callerMs() - caller) * 1000) / calls,
    cores: busyCores(machine, machineTicks(), cpus().length),
  });
}
