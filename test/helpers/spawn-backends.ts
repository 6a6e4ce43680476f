// Loads every spawn backend the behaviour tests run against; /proc readers live in test/helpers/processes.ts.

import { readdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { SpawnMethodChoice } from '../../watchdog/config.js';
import { createChildProcessBackend } from '../../watchdog/spawn/child-process.js';
import { loadNativeBackend } from '../../watchdog/spawn/native.js';
import type { SpawnBackend } from '../../watchdog/spawn/types.js';

export interface LoadedBackend {
  readonly name: string;
  /** name plus the variant, for test titles. */
  readonly label: string;
  readonly backend?: SpawnBackend;
  /** Why the backend could not be loaded (the test then fails with this message). */
  readonly error?: string;
}

/** The native backend's method cap under test: WHIPPET_SPAWN_METHOD (set by the twins in method-clone/ and method-posix-spawn/). */
export const methodUnderTest = (process.env.WHIPPET_SPAWN_METHOD ?? 'auto') as SpawnMethodChoice;

/** The native backend (spawning on a pool thread, the default), optionally its loop-thread variant too, and child_process. */
export async function loadBackends(variants = false): Promise<LoadedBackend[]> {
  const native = (offLoop: boolean, label: string): Promise<LoadedBackend> =>
    loadNativeBackend({ offLoop, method: methodUnderTest }).then(
      (backend): LoadedBackend => ({ name: 'native', label, backend }),
      (err: Error): LoadedBackend => ({ name: 'native', label, error: err.message }),
    );
  return [
    await native(true, 'native'),
    ...(variants ? [await native(false, 'native on the loop thread')] : []),
    { name: 'child_process', label: 'child_process', backend: createChildProcessBackend() },
  ];
}

/** How the addon should make children under `cap` (spawn_method): x86_64 gets clone3, other machines clone. */
export function expectedSpawnMethod(cap: string | undefined): string {
  if (cap === 'posix_spawn') return 'posix_spawn';
  return cap === 'clone' || process.arch !== 'x64' ? 'clone' : 'clone3';
}

/** A minimal environment: the child sees exactly this. */
export const baseEnv = { PATH: '/usr/local/bin:/usr/bin:/bin' } as const;

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const openFds = (): number => readdirSync('/proc/self/fd').length;

export const rssBytes = (): number => process.memoryUsage.rss();
