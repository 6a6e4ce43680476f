// V8 grows a process's young generation (two semi-spaces) by doubling each semi-space from 1 MB up to 16 MB
// as allocation goes on. A watchdog in http mode allocates a little per request and keeps almost none of
// it; the last doubling, 8 -> 16 MB, came between 100,000 and 200,000 requests (RSS 71 -> 84 MB, levelling
// near 93) and bought nothing: the garbage collector's share of the CPU profile was the same with 8 MB as
// with 16 MB (1.3-1.4 % of samples), against ~2 % with 4 MB and ~4 % with 1 MB (docs/performance.md).
//
// `--max-semi-space-size` cannot be changed once V8 runs, but `--semi-space-growth-factor` is read at each
// growth: the growth is stopped (factor 1) once a semi-space has reached SEMI_SPACE_CAP_MB, looked at once a
// second (a doubling between two looks goes through, as it would have without this). A process started with
// a semi-space flag of its own (NODE_OPTIONS or node's arguments) keeps what it was given.

import type * as V8 from 'node:v8';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The size at which a semi-space stops growing. */
export const SEMI_SPACE_CAP_MB = 8;
const CHECK_EVERY_MS = 1_000;
const SET_BY_USER = /--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor)\b/;

/**
 * Stop V8 growing this process's young generation once a semi-space reaches SEMI_SPACE_CAP_MB; does nothing when
 * the process was started with its own semi-space flags. Returns a function that stops the looking (tests).
 */
export function capYoungGeneration(options: { nodeOptions?: string; execArgv?: readonly string[]; everyMs?: number } = {}): () => void {
  const { nodeOptions = process.env.NODE_OPTIONS ?? '', execArgv = process.execArgv, everyMs = CHECK_EVERY_MS } = options;
  if (SET_BY_USER.test(nodeOptions) || execArgv.some((a) => SET_BY_USER.test(a))) return () => {};
  // node:v8 at the call: see common/wasm-tier.ts (the http runner's module is loaded in every mode).
  const v8 = require('node:v8') as typeof V8;
  const timer = setInterval(() => {
    // The new space's size is both semi-spaces.
    const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (newSpace !== undefined && newSpace.space_size < 2 * SEMI_SPACE_CAP_MB * 1024 * 1024) return;
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    clearInterval(timer);
  }, everyMs).unref();
  return () => clearInterval(timer);
}
