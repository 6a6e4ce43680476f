// Picks the spawn path once at start-up: posix_spawn (native addon, vfork cost) when asked or available,
// child_process otherwise. The addon module is imported only here, and only when it may be used.

import type { Logger } from '../../common/log.js';
import { createChildProcessBackend } from './child-process.js';
import { withRun } from './run-streams.js';
import type { RunBackend, SpawnBackend } from './types.js';

import type { SpawnBackendChoice } from '../config.js';

/** Raised when spawn_backend=posix_spawn was asked for but cannot be loaded. */
export class SpawnBackendError extends Error {
  readonly code = 'WD_ERR_SPAWN_BACKEND';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SpawnBackendError';
  }
}

// A variable specifier: the module is built by another part of the tree and may be absent in a build.
const POSIX_SPAWN_MODULE = './posix-spawn.js';

async function loadPosixSpawn(): Promise<SpawnBackend> {
  const mod = (await import(POSIX_SPAWN_MODULE)) as { loadPosixSpawn?: () => Promise<SpawnBackend> };
  if (typeof mod.loadPosixSpawn !== 'function') throw new Error(`${POSIX_SPAWN_MODULE} does not export loadPosixSpawn`);
  return mod.loadPosixSpawn();
}

/** Resolve `choice` to a backend; `auto` falls back to child_process (logging why), `posix_spawn` throws. */
export async function selectSpawnBackend(
  choice: SpawnBackendChoice,
  log: Logger,
  load: () => Promise<SpawnBackend> = loadPosixSpawn,
): Promise<RunBackend> {
  if (choice === 'child_process') return withRun(createChildProcessBackend());
  try {
    return withRun(await load());
  } catch (err) {
    const reason = (err as Error).message;
    if (choice === 'posix_spawn') {
      throw new SpawnBackendError(`spawn_backend=posix_spawn is unavailable: ${reason}`, { cause: err });
    }
    log.info('posix_spawn unavailable, using child_process', { reason });
    return withRun(createChildProcessBackend());
  }
}
