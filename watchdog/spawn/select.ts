// Picks the spawn path once at start-up: native (the addon, vfork cost) when asked or available,
// child_process otherwise. The addon's module is imported only here, and only when it may be used.

import type { Logger } from '../../common/log.js';
import { createChildProcessBackend } from './child-process.js';
import { withRun } from './run-streams.js';
import type { RunBackend, SpawnBackend } from './types.js';

import type { SpawnBackendChoice, SpawnMethodChoice } from '../config.js';

/** Raised when spawn_backend=native was asked for but cannot be loaded. */
export class SpawnBackendError extends Error {
  readonly code = 'WD_ERR_SPAWN_BACKEND';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SpawnBackendError';
  }
}

/** Loads the native backend capped at `method`, importing its module only when called. */
export function nativeLoader(method: SpawnMethodChoice): () => Promise<SpawnBackend> {
  return async () => {
    const { loadNativeBackend } = await import('./native.js');
    return loadNativeBackend({ method });
  };
}

/** Resolve `choice` to a backend; `auto` falls back to child_process (logging why), `native` throws. */
export async function selectSpawnBackend(
  choice: SpawnBackendChoice,
  log: Logger,
  load: () => Promise<SpawnBackend> = nativeLoader('auto'),
): Promise<RunBackend> {
  if (choice === 'child_process') return withRun(createChildProcessBackend());
  try {
    return withRun(await load());
  } catch (err) {
    const reason = (err as Error).message;
    if (choice === 'native') {
      throw new SpawnBackendError(`spawn_backend=native is unavailable: ${reason}`, { cause: err });
    }
    log.info('native spawn unavailable, using child_process', { reason });
    return withRun(createChildProcessBackend());
  }
}
