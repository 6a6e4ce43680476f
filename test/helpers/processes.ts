// Reading /proc: which processes live, in which group, descending from whom, and which were never reaped.

import { appendFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pids = (): number[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]; undefined when gone. */
export function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command may hold spaces and parentheses: the fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Pids of live (not zombie, not dead) processes whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  return pids().filter((pid) => {
    const fields = procStat(pid);
    return fields !== undefined && fields[0] !== 'Z' && fields[0] !== 'X' && fields[2] === String(pgid);
  });
}

/** Children of `parent` by state: zombies were spawned and never reaped, the others live. */
export function childrenOf(parent: number): { zombies: number[]; living: number[] } {
  const out = { zombies: [] as number[], living: [] as number[] };
  for (const pid of pids()) {
    const fields = procStat(pid);
    if (fields !== undefined && fields[0] !== 'X' && fields[1] === String(parent)) (fields[0] === 'Z' ? out.zombies : out.living).push(pid);
  }
  return out;
}

/** Live processes whose command line has `arg` among its arguments. */
export function withArgument(arg: string): number[] {
  return pids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(arg) && alive(pid);
    } catch {
      return false;
    }
  });
}

/** A `kB` field of /proc/<pid>/status (VmRSS, VmHWM…); NaN when the process or the field is gone. */
export function statusKb(pid: number, field: string): number {
  try {
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Whether `pid` runs: a zombie is dead already (its reaper collects it when it gets round to it). */
export function alive(pid: number): boolean {
  const fields = procStat(pid);
  return fields !== undefined && fields[0] !== 'Z' && fields[0] !== 'X';
}

/** Live processes descending from `root` (by parent pid). */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const pid of pids()) {
    const fields = procStat(pid);
    if (fields !== undefined && fields[0] !== 'Z' && fields[0] !== 'X') parent.set(pid, Number(fields[1]));
  }
  const out: number[] = [];
  const walk = (ancestor: number): void => { for (const [child, ppid] of parent) if (ppid === ancestor) { out.push(child); walk(child); } };
  walk(root);
  return out;
}

/**
 * SIGKILL `pid` unless it is gone already: the teardown for a process the test expects to have ended.
 * Never 0 or a negative pid, which would signal this process's own group.
 */
export function killIfAlive(pid: number): void {
  if (!(pid > 0)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

/** Where teardowns note the processes they had to SIGKILL; `.ci/run` prints it after the tests. */
export const TEARDOWN_KILLS = fileURLToPath(new URL('../../.tap/teardown-kills.log', import.meta.url));

/**
 * Note that a teardown SIGKILLed `what` (pid) because it was still running `afterMs` after being asked to
 * stop. Such a process writes no V8 coverage (tap collects it at exit), so files only it ran drop out of
 * the coverage report: this line says which process it was when the totals fall.
 */
export function noteTeardownKill(what: string, pid: number | undefined, afterMs: number, detail?: string): void {
  try {
    mkdirSync(fileURLToPath(new URL('../../.tap/', import.meta.url)), { recursive: true });
    appendFileSync(TEARDOWN_KILLS, `${new Date().toISOString()} ${process.argv[1] ?? '?'}: ${what} (pid ${pid ?? '?'}) still running ${afterMs} ms after the stop signal: SIGKILLed\n${detail === undefined ? '' : `${detail}\n`}`);
  } catch { /* a note only */ }
}

/**
 * Node's arguments to run the TypeScript fixture `fixture` with `args`: this test process's own flags
 * (under tap, tsx and test/loader/compiled-sources.mjs), so that a module the fixture and the test both load
 * is the same compiled file under the same URL. Loaded another way it was compiled differently, tap merged
 * the two forms' coverage by URL, and the report then depended on the order of its coverage files: one CI
 * run's files gave 91.8, 93.3 or 93.1 % of functions depending only on that order. A relative `--import`
 * (package.json gives the loader as ./test/…) is made absolute, so a fixture started in another folder finds it.
 */
export function fixtureArgv(fixture: string, ...args: string[]): string[] {
  const flags = process.execArgv.map((arg) => {
    const relative = /^--import=(\.{1,2}\/.*)$/.exec(arg)?.[1];
    return relative === undefined ? arg : `--import=${pathToFileURL(resolve(relative)).href}`;
  });
  return [...flags, fixture, ...args];
}
