// Settings of the async half that are not in the router's table: whether the router runs a worker
// itself, and the table `whippet worker` reads (the router's worker settings plus its own port).

import { parseBoolean, parsePort, type OptionSpec, type Options } from '../../common/options.js';
import { ROUTER_OPTIONS } from '../config.js';

/** Extra `whippet router` settings. */
export const ASYNC_ROUTER_OPTIONS = {
  asyncWorker: {
    env: ['async_worker'], boolean: true, default: 'true', parse: parseBoolean,
    describe: 'run the queue-worker inside the router; false: only accept async calls (run `whippet worker` beside it)',
  },
} as const satisfies Record<string, OptionSpec<unknown>>;

export type AsyncRouterOptions = Options<typeof ASYNC_ROUTER_OPTIONS>;

const R = ROUTER_OPTIONS;

/** `whippet worker`: the router's queue, resolution and retry settings; `port` serves /healthz and /metrics. */
export const WORKER_OPTIONS = {
  port: { env: ['port'], describe: 'port of the worker\'s /healthz and /metrics (0 = ephemeral)', default: '8082', parse: parsePort },
  functions: R.functions,
  functionUrlTemplate: R.functionUrlTemplate,
  functionNamespace: R.functionNamespace,
  queue: R.queue,
  ackWaitMs: R.ackWaitMs,
  maxInflight: R.maxInflight,
  retryHttpCodes: R.retryHttpCodes,
  initialRetryWaitMs: R.initialRetryWaitMs,
  maxRetryWaitMs: R.maxRetryWaitMs,
  maxRetryAttempts: R.maxRetryAttempts,
  maxEventAgeMs: R.maxEventAgeMs,
  callRetentionMs: R.callRetentionMs,
  upstreamTimeoutMs: R.upstreamTimeoutMs,
  callbackSecret: R.callbackSecret,
  writeTimeoutMs: { ...R.writeTimeoutMs, describe: 'on SIGTERM, how long in-flight calls may take to finish before their leases are left to lapse' },
  logFormat: R.logFormat,
} as const satisfies Record<string, OptionSpec<unknown>>;

export type WorkerCommandConfig = Options<typeof WORKER_OPTIONS>;

/** Cross-field rules of the worker table. */
export function checkWorkerConfig(c: WorkerCommandConfig): string[] {
  return c.maxRetryWaitMs < c.initialRetryWaitMs
    ? [`max_retry_wait (${c.maxRetryWaitMs}ms) must not be below initial_retry_wait (${c.initialRetryWaitMs}ms)`]
    : [];
}
