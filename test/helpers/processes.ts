// Reading /proc: which processes live, in which group, descending from whom, and which were never reaped.

import { readFileSync, readdirSync } from 'node:fs';

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

/** Zombie children of this process: spawned but never reaped. */
export function zombieChildren(): number[] {
  return pids().filter((pid) => {
    const fields = procStat(pid);
    return fields !== undefined && fields[0] === 'Z' && fields[1] === String(process.pid);
  });
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

/** SIGKILL `pid` unless it is gone already: the teardown for a process the test expects to have ended. */
export function killIfAlive(pid: number): void {
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}
