// The last resort of `whippet up`'s stop (a second Ctrl-C, or a watchdog still running after its grace). A
// watchdog runs each function process in a process group of its own, so a SIGKILL to the watchdog's group
// left them running, no longer watched (exec_timeout did not apply any more), and whatever they had started
// with them. Before the watchdog dies its descendants are looked up, and every group among them dies with it.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** One row of the process table. */
export interface ProcessRow {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
}

/** The table from /proc (Linux); undefined where there is none. */
function fromProc(): ProcessRow[] | undefined {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const rows: ProcessRow[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      rows.push({ pid: Number(name), ppid: Number(ppid), pgid: Number(pgid) });
    } catch {
      // ended meanwhile
    }
  }
  return rows;
}

/** The table from ps (macOS, BSD); empty when ps cannot run. */
function fromPs(): ProcessRow[] {
  const out = spawnSync('ps', ['-A', '-o', 'pid=,ppid=,pgid='], { encoding: 'utf8' });
  if (out.status !== 0) return [];
  return out.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/).map(Number))
    .filter((f) => f.length === 3 && f.every(Number.isInteger))
    .map(([pid, ppid, pgid]) => ({ pid: pid!, ppid: ppid!, pgid: pgid! }));
}

/**
 * The process groups of `root` and of every process descended from it, leaving out this process's own group
 * and the groups 0 and 1 (a kill(-0) or kill(-1) would reach far more than the tree).
 */
export function treeGroups(root: number, table: readonly ProcessRow[], self = process.pid): Set<number> {
  const children = new Map<number, ProcessRow[]>();
  for (const row of table) {
    const siblings = children.get(row.ppid);
    if (siblings === undefined) children.set(row.ppid, [row]); else siblings.push(row);
  }
  const own = table.find((row) => row.pid === self)?.pgid;
  const groups = new Set<number>();
  const rootRow = table.find((row) => row.pid === root);
  const stack = rootRow === undefined ? [] : [rootRow];
  for (let row = stack.pop(); row !== undefined; row = stack.pop()) {
    if (row.pgid > 1 && row.pgid !== own) groups.add(row.pgid);
    for (const child of children.get(row.pid) ?? []) if (child.pid !== root) stack.push(child);
  }
  return groups;
}

/** Look-ups after the first: a descendant that made a group of its own between a look-up and the kills is found by the next. */
const PASSES = 3;

/**
 * SIGKILL `root` and every process group its descendants are in. `root` is stopped first, so that it starts
 * nothing more; its descendants are looked up again until a look-up finds no group not yet killed (at most
 * PASSES times). A process that left the tree (daemonized: its parent is init) is not found.
 */
export function killProcessTree(root: number): void {
  try {
    process.kill(root, 'SIGSTOP');
  } catch {
    return; // ended already
  }
  const killed = new Set<number>();
  for (let pass = 0; pass < PASSES; pass++) {
    const groups = [...treeGroups(root, fromProc() ?? fromPs())].filter((group) => !killed.has(group));
    if (groups.length === 0) break;
    for (const group of groups) {
      killed.add(group);
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // ended meanwhile
      }
    }
  }
  try {
    process.kill(root, 'SIGKILL');
  } catch {
    // ended with its group
  }
}
