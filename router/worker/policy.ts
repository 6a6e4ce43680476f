// What one attempt's outcome means for the call: done (succeeded / failed) or try again. Pure.

import type { CallRecord } from '../queue/index.js';
import type { WorkerConfig } from './options.js';

/** max_retry_attempts counts attempts per round; a call past it is dead-lettered. */
export type RetryPolicy = Pick<WorkerConfig, 'retryHttpCodes' | 'maxRetryAttempts'>;

/** One attempt's outcome: the function's status, or a transport failure (status null). */
export interface AttemptResult {
  readonly statusCode: number | null;
}

export type Decision =
  | { readonly kind: 'retry' }
  | { readonly kind: 'final'; readonly status: 'succeeded' | 'failed'; readonly reason: string | null };

/** Statuses below 400 are success; retry_http_codes and connection errors are retried while attempts remain. */
export function decide(result: AttemptResult, attemptsThisRound: number, policy: RetryPolicy): Decision {
  const code = result.statusCode;
  const retryable = code === null || policy.retryHttpCodes.includes(code);
  if (code !== null && code < 400) return { kind: 'final', status: 'succeeded', reason: null };
  if (retryable && attemptsThisRound < policy.maxRetryAttempts) return { kind: 'retry' };
  const what = code === null ? 'the function could not be reached' : `the function answered ${code}`;
  return {
    kind: 'final', status: 'failed',
    reason: retryable ? `${what}; gave up after ${attemptsThisRound} attempts (max_retry_attempts)` : `${what} (not retried)`,
  };
}

/** Attempts made in the call's current round (a redrive starts a new round). */
export function attemptsThisRound(record: CallRecord): number {
  return record.attempts.filter((attempt) => attempt.round === record.round).length;
}
