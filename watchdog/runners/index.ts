// The one place a mode becomes a runner.

import type { Mode } from '../config.js';
import { HttpRunner } from './http.js';
import { serializingRunner } from './serializing.js';
import { StaticRunner } from './static.js';
import { streamingRunner } from './streaming.js';
import type { Runner, RunnerDeps } from './types.js';

/** The runner for `mode`. */
export function createRunner(mode: Mode, deps: RunnerDeps): Runner {
  switch (mode) {
    case 'serializing': return serializingRunner(deps);
    case 'streaming': return streamingRunner(deps);
    case 'http': return new HttpRunner(deps);
    case 'static': return new StaticRunner(deps);
  }
}

/** Modes that start processes and so need a spawn backend. */
export function needsSpawn(mode: Mode): boolean {
  return mode !== 'static';
}
