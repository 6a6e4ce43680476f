// How long to wait before the next try: exponential with full jitter inside [initial, cap], and a
// function's own Retry-After when it sends one. Pure; the random source and the clock are injected.

import type { WorkerConfig } from './options.js';

type BackoffConfig = Pick<WorkerConfig, 'initialRetryWaitMs' | 'maxRetryWaitMs'>;

// A Retry-After beyond a day is a misconfigured function, not a plan; max_event_age is 6 h by default.
export const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * Delay before retry number `retry` (1 = the first retry): a uniform draw from
 * [initial, min(max, initial * 2^retry)], so waits spread out (no thundering herd after an outage)
 * yet never drop below initial_retry_wait or exceed max_retry_wait.
 */
export function backoffMs(retry: number, config: BackoffConfig, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(retry));
  // 2^n overflows to Infinity for large n; min() keeps that harmless.
  const cap = Math.min(config.maxRetryWaitMs, config.initialRetryWaitMs * 2 ** n);
  const low = Math.min(config.initialRetryWaitMs, cap);
  return Math.round(low + random() * (cap - low));
}

/** Retry-After as delta-seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Math.min(Number(raw) * 1000, MAX_RETRY_AFTER_MS);
  // RFC 9110 HTTP-date (IMF-fixdate, and the obsolete forms Date.parse also reads). Require a weekday
  // or month name so that "1.5" or "2s" are not read as dates.
  if (!/[A-Za-z]{3}/.test(raw)) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/** The delay before the next try: Retry-After wins; otherwise the jittered backoff. */
export function nextDelayMs(retry: number, retryAfter: string | string[] | undefined, config: BackoffConfig, now: number, random?: () => number): number {
  return parseRetryAfter(retryAfter, now) ?? backoffMs(retry, config, random);
}
