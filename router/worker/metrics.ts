// The queue_worker_* counters, in the registry the worker's host already exposes (the router's, or the
// standalone worker's own /metrics).

import type { Counter, Registry } from 'prom-client';
import { prom } from '../metrics.js';

export interface WorkerMetrics {
  /** One per invocation attempt: status = the function's code, or `unreachable` / `timeout`. */
  readonly invocations: Counter<'function_name' | 'status'>;
  /** Attempts that were scheduled again (nak with a backoff). */
  readonly retries: Counter<'function_name'>;
  /** Calls that became final: status = succeeded, failed or expired. */
  readonly finished: Counter<'function_name' | 'status'>;
  /** Calls that passed max_event_age before they started (never invoked). */
  readonly expired: Counter<'function_name'>;
  readonly callbacksDelivered: Counter<'function_name'>;
  /** Callbacks given up on (after their retries, or a status that is not retried). */
  readonly callbacksFailed: Counter<'function_name'>;
  /** Callback delivery attempts that will be tried again. */
  readonly callbackRetries: Counter<'function_name'>;
}

/** Register the queue_worker_* counters in `registry`. */
export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
    new prom.Counter({ name, help, labelNames, registers: [registry] });
  return {
    invocations: counter('queue_worker_invocations_total', 'Async invocation attempts, by function and status (code, unreachable, timeout)', ['function_name', 'status']),
    retries: counter('queue_worker_retries_total', 'Async attempts scheduled again after a retryable status or a connection error', ['function_name']),
    finished: counter('queue_worker_calls_finished_total', 'Async calls that became final, by status (succeeded, failed, expired)', ['function_name', 'status']),
    expired: counter('queue_worker_expired_total', 'Async calls that passed max_event_age before they started', ['function_name']),
    callbacksDelivered: counter('queue_worker_callbacks_delivered_total', 'Callbacks delivered (2xx from the callback URL)', ['function_name']),
    callbacksFailed: counter('queue_worker_callbacks_failed_total', 'Callbacks given up on', ['function_name']),
    callbackRetries: counter('queue_worker_callback_retries_total', 'Callback attempts that failed and will be tried again', ['function_name']),
  };
}
