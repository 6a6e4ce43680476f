// Loads every spawn backend the behaviour tests run against, plus small helpers for reading /proc.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadPosixSpawn } from '../../watchdog/spawn/posix-spawn.js';
import type { SpawnBackend } from '../../watchdog/spawn/types.js';

export interface LoadedBackend {
  readonly name: string;
  /** name plus the variant, for test titles. */
  readonly label: string;
  readonly backend?: SpawnBackend;
  /** Why the backend could not be loaded (the test then fails with this message). */
  readonly error?: string;
}

const isBackend = (v: unknown): v is SpawnBackend =>
  typeof v === 'object' && v !== null && typeof (v as SpawnBackend).spawn === 'function' &&
  (v as SpawnBackend).name === 'child_process';

/** The child_process backend is written separately; find whatever it exports that is a SpawnBackend. */
async function loadChildProcess(): Promise<LoadedBackend> {
  const file = fileURLToPath(new URL('../../watchdog/spawn/child-process.ts', import.meta.url));
  const none = (error: string): LoadedBackend => ({ name: 'child_process', label: 'child_process', error });
  if (!existsSync(file)) return none('watchdog/spawn/child-process.ts does not exist yet');
  const mod = (await import('../../watchdog/spawn/child-process.js' as string)) as Record<string, unknown>;
  for (const value of Object.values(mod)) {
    if (isBackend(value)) return { name: 'child_process', label: 'child_process', backend: value };
    if (typeof value === 'function' && value.length === 0) {
      const made: unknown = await (value as () => unknown)();
      if (isBackend(made)) return { name: 'child_process', label: 'child_process', backend: made };
    }
  }
  return none('child-process.ts exports no SpawnBackend');
}

/** The posix_spawn backend (spawning on a pool thread, the default), optionally its loop-thread variant too. */
export async function loadBackends(variants = false): Promise<LoadedBackend[]> {
  const posix = (offLoop: boolean, label: string): Promise<LoadedBackend> =>
    loadPosixSpawn({ offLoop }).then(
      (backend): LoadedBackend => ({ name: 'posix_spawn', label, backend }),
      (err: Error): LoadedBackend => ({ name: 'posix_spawn', label, error: err.message }),
    );
  return [
    await posix(true, 'posix_spawn'),
    ...(variants ? [await posix(false, 'posix_spawn on the loop thread')] : []),
    await loadChildProcess(),
  ];
}

/** How the addon should make children under `cap` (WHIPPET_CLONE): x86_64 gets clone3, other machines clone. */
export function expectedSpawnMethod(cap: string | undefined): string {
  if (cap === 'off') return 'posix_spawn';
  return cap === 'clone' || process.arch !== 'x64' ? 'clone' : 'clone3';
}

/** A minimal environment: the child sees exactly this. */
export const baseEnv = { PATH: '/usr/local/bin:/usr/bin:/bin' } as const;

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]; undefined when gone. */
export function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Live (non-zombie) processes whose process group is pgid. */
export function groupMembers(pgid: number): number[] {
  return pids().filter((pid) => {
    const s = procStat(pid);
    return s !== undefined && s[0] !== 'Z' && s[2] === String(pgid);
  });
}

/** Zombie children of this process: spawned but never reaped. */
export function zombieChildren(): number[] {
  return pids().filter((pid) => {
    const s = procStat(pid);
    return s !== undefined && s[0] === 'Z' && s[1] === String(process.pid);
  });
}

export const openFds = (): number => readdirSync('/proc/self/fd').length;

export const rssBytes = (): number => process.memoryUsage.rss();

const pids = (): number[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);

/** Polls a condition that no event announces (a grandchild's death); bounded. */
export async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
