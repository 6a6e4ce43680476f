// `whippet worker`: a queue-worker as its own process. Same queue, resolution and retry settings as the
// router's worker; /healthz and /metrics on `port`. SIGTERM/SIGINT: stop leasing, let in-flight calls
// finish within write_timeout, leave the rest to lapse back into the queue. Wiring only.

import type { Argv } from 'yargs';
import { keepLlhttpOnLiftoff } from '../../common/wasm-tier.js';
import { createLogger } from '../../common/log.js';
import { yargsOptions } from '../../common/options.js';
import { startWorker } from '../../router/worker/main.js';
import { WORKER_OPTIONS, loadWorkerConfig } from '../../router/worker/options.js';
import { fastOptions, foldAliases, type FastPath } from '../fast-path.js';
import { serve } from '../serve.js';

export const command = {
  command: 'worker',
  describe: 'run a queue-worker as its own process (invokes queued async calls, delivers callbacks)',
  builder: (parser: Argv) => parser.options(yargsOptions(WORKER_OPTIONS)).strict(),
};

/** The yargs-free start (yargs costs ~200 ms and ~13 MB); a boolean flag without a value falls back to yargs. */
export const fast: FastPath = {
  options: fastOptions(WORKER_OPTIONS),
  flags: (values) => foldAliases(WORKER_OPTIONS, values),
};

export async function run(flags: Readonly<Record<string, unknown>>): Promise<number> {
  keepLlhttpOnLiftoff(); // before undici's first connection (common/wasm-tier.ts)
  const config = loadWorkerConfig(flags, process.env);
  const log = createLogger({ format: config.logFormat }, { component: 'worker' });
  return serve(startWorker(config, { log }), { log });
}
