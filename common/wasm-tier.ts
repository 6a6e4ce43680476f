// undici parses HTTP responses with llhttp, compiled to WebAssembly at the first connection. V8 compiles it
// with its baseline tier (Liftoff), then recompiles the hot functions with TurboFan about a second into a
// load; that second compile stays resident (~9-10 MB of RSS for good, 29 MB of compiler memory while it
// runs). Parsing a response head is a sliver of a request's work: CPU per request through undici was the
// same within noise either way (router: 8 alternating pairs, 135.5 vs 136.5 µs; watchdog's Pool: 30,000
// requests x 5 alternating runs). Idle RSS after the first answer: router 74.9 -> 65.8 MB, watchdog 57-66
// -> 55-56 MB (docs/performance.md).
//
// The flag is read when a module compiles, so it must be set before undici's first connection; it is
// process-wide, so only the entry points of processes that proxy with undici set it (the router, `whippet
// up`, the worker, the watchdog's http mode). llhttp is the only WebAssembly these processes run.
// (--no-wasm-tier-up set at run time did not hold: 67.8 and 77.1 MB in two runs.)

// node:v8 is loaded by the call, not by the import: the watchdog's http runner imports this file in every mode,
// and node:v8 brings ~30 modules of its own (with static.ts's fs.promises, 0.5 MB of an idle fork-mode
// watchdog's RSS: 46.2 -> 45.7 MB).

import type * as V8 from 'node:v8';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Keeps this process's WebAssembly (undici's llhttp) on V8's baseline tier; call before the first connection. */
export function keepLlhttpOnLiftoff(): void {
  (require('node:v8') as typeof V8).setFlagsFromString('--liftoff-only');
}
