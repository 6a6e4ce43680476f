// The queue-worker's settings: a declared subset of the router's table (same env names, same parsers,
// so `whippet worker` and the router's in-process worker read a setting the same way) plus the port of
// its own /healthz and /metrics.

import { loadOptions, parsePort, type OptionSpec, type Options } from '../../common/options.js';
import { ROUTER_OPTIONS, type RouterConfig } from '../config.js';

const FROM_ROUTER = {
  functions: ROUTER_OPTIONS.functions,
  functionUrlTemplate: ROUTER_OPTIONS.functionUrlTemplate,
  functionNamespace: { ...ROUTER_OPTIONS.functionNamespace, describe: 'the namespace the functions live in: {namespace} in function_url_template' },
  queue: ROUTER_OPTIONS.queue,
  ackWaitMs: ROUTER_OPTIONS.ackWaitMs,
  maxInflight: ROUTER_OPTIONS.maxInflight,
  retryHttpCodes: ROUTER_OPTIONS.retryHttpCodes,
  initialRetryWaitMs: ROUTER_OPTIONS.initialRetryWaitMs,
  maxRetryWaitMs: ROUTER_OPTIONS.maxRetryWaitMs,
  maxRetryAttempts: ROUTER_OPTIONS.maxRetryAttempts,
  maxEventAgeMs: ROUTER_OPTIONS.maxEventAgeMs,
  callRetentionMs: ROUTER_OPTIONS.callRetentionMs,
  upstreamTimeoutMs: { ...ROUTER_OPTIONS.upstreamTimeoutMs, describe: 'limit of one invocation (and of one callback delivery); past it the attempt fails as a timeout and is retried, as a connection error is' },
  callbackSecret: ROUTER_OPTIONS.callbackSecret,
  callbackAllowLinkLocal: ROUTER_OPTIONS.callbackAllowLinkLocal,
  logFormat: ROUTER_OPTIONS.logFormat,
} as const satisfies Record<string, OptionSpec<unknown>>;

/** Every `whippet worker` setting. */
export const WORKER_OPTIONS = {
  port: { env: ['port'], describe: 'port of the worker\'s /healthz and /metrics (0 = ephemeral)', default: '8082', parse: parsePort },
  ...FROM_ROUTER,
  writeTimeoutMs: { ...ROUTER_OPTIONS.writeTimeoutMs, describe: 'on SIGTERM, how long in-flight calls may take to finish before their leases are left to lapse' },
} as const satisfies Record<string, OptionSpec<unknown>>;

/** The worker's one settings type, parsed once and frozen. */
export type WorkerConfig = Options<typeof WORKER_OPTIONS>;

function checkWorkerConfig(config: WorkerConfig): string[] {
  const problems: string[] = [];
  if (config.maxRetryWaitMs < config.initialRetryWaitMs) {
    problems.push(`max_retry_wait (${config.maxRetryWaitMs}ms) must not be below initial_retry_wait (${config.initialRetryWaitMs}ms)`);
  }
  // Without either, every call would end as a dead letter ("function not found"): refuse to start instead.
  if (config.functions === undefined && config.functionUrlTemplate === undefined) {
    problems.push('no way to find the functions: set functions (name=url,...) or function_url_template, as the router has them');
  }
  return problems;
}

/** Resolve flags > env > defaults; throws ConfigError naming every bad variable. */
export function loadWorkerConfig(
  flags: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
): WorkerConfig {
  return loadOptions(WORKER_OPTIONS, flags, env, checkWorkerConfig);
}

/**
 * The settings of a router's in-process worker: the router's own values of the shared rows. `port` is
 * 0 because an in-process worker serves nothing itself (the router's /healthz and /metrics cover it).
 */
export function workerConfigOf(router: RouterConfig): WorkerConfig {
  const picked: Record<string, unknown> = { port: 0, writeTimeoutMs: router.writeTimeoutMs };
  for (const key of Object.keys(FROM_ROUTER)) picked[key] = router[key as keyof typeof FROM_ROUTER];
  return Object.freeze(picked) as WorkerConfig;
}
