// The rules of a call's life as pure functions of (record, input, now): every backend stores records
// however it likes but changes them only through these, so sqlite and jetstream cannot drift apart.
// Each returns a new record or throws a QueueError; none of them touches storage or the clock.

import { CallExpiredError, CallStateError } from './errors.js';
import {
  freshCallback, isFinal, REDRIVABLE_STATUSES,
  type Attempt, type CallbackState, type CallHeaders, type CallRecord, type CallResult,
} from './record.js';

/** How one attempt ended. */
export interface AttemptOutcome {
  /** The function's status; omit or null after a connection error. */
  readonly statusCode?: number | null;
  readonly error?: string | null;
}

/** The function's answer as the worker got it. */
export interface ResultInput {
  readonly statusCode: number;
  readonly headers: CallHeaders;
  readonly body: Uint8Array;
}

/** The end of a call, recorded before its callback is sent. */
export interface FinalOutcome {
  readonly status: 'succeeded' | 'failed' | 'expired';
  /** The function's last answer; null when there is none (expired, connection errors). */
  readonly result: ResultInput | null;
  readonly error?: string | null;
}

/** One callback delivery attempt and the state it leaves. */
export interface CallbackOutcome {
  /** `pending` = will be retried, `delivered`, or `failed` = given up. */
  readonly state: Exclude<CallbackState, 'none'>;
  readonly statusCode?: number | null;
  readonly error?: string | null;
}

/** True when an unstarted call is past max_event_age (0 = no limit) and must not be invoked. */
export function isExpired(record: CallRecord, now: number, maxEventAgeMs: number): boolean {
  if (maxEventAgeMs <= 0 || record.status !== 'queued') return false;
  if (record.attempts.some((a) => a.round === record.round)) return false;
  return now - record.queuedAt >= maxEventAgeMs;
}

/** Start attempt n+1 (status → running); closes an attempt a dead worker left open. */
export function beginAttempt(record: CallRecord, now: number, maxEventAgeMs: number): CallRecord {
  if (isFinal(record.status)) throw new CallStateError(record.id, record.status, 'begin an attempt');
  if (isExpired(record, now, maxEventAgeMs)) throw new CallExpiredError(record.id);
  const attempts = closeOpen(record.attempts, now, 'lease expired before the attempt ended');
  const attempt: Attempt = {
    number: attempts.length + 1, round: record.round, startedAt: now, finishedAt: null, statusCode: null, error: null,
  };
  return {
    ...record, status: 'running', startedAt: record.startedAt ?? now, nextAttemptAt: null,
    attempts: [...attempts, attempt],
  };
}

/** Close the open attempt with the function's status or the error. */
export function endAttempt(record: CallRecord, outcome: AttemptOutcome, now: number): CallRecord {
  const last = record.attempts.at(-1);
  if (record.status !== 'running' || last === undefined || last.finishedAt !== null) {
    throw new CallStateError(record.id, record.status, 'end an attempt that is not running');
  }
  const statusCode = outcome.statusCode ?? null;
  const error = outcome.error ?? null;
  const closed: Attempt = { ...last, finishedAt: now, statusCode, error };
  return {
    ...record, attempts: [...record.attempts.slice(0, -1), closed],
    lastStatusCode: statusCode ?? record.lastStatusCode, error,
  };
}

/** Record the final outcome (and result, its body kept up to maxResultBytes); the callback becomes due. */
export function finish(record: CallRecord, outcome: FinalOutcome, now: number, maxResultBytes: number): CallRecord {
  if (isFinal(record.status)) throw new CallStateError(record.id, record.status, 'finish again');
  const input = outcome.result;
  const result: CallResult | null = input === null ? null : {
    statusCode: input.statusCode,
    headers: input.headers,
    bodySize: input.body.byteLength,
    body: input.body.byteLength <= maxResultBytes ? input.body : null,
  };
  return {
    ...record,
    status: outcome.status,
    error: outcome.error ?? null,
    finishedAt: now,
    nextAttemptAt: null,
    attempts: closeOpen(record.attempts, now, 'attempt not closed before the call finished'),
    lastStatusCode: result?.statusCode ?? record.lastStatusCode,
    result,
    callback: freshCallback(record.callbackUrl),
  };
}

/** endAttempt, finish and, when `andAck`, ack as one change (Lease.conclude on every backend). */
export function conclude(record: CallRecord, attempt: AttemptOutcome, final: FinalOutcome, andAck: boolean, now: number, maxResultBytes: number): CallRecord {
  const done = finish(endAttempt(record, attempt, now), final, now, maxResultBytes);
  return andAck ? ack(done) : done;
}

/** Count one callback delivery attempt. */
export function callbackAttempt(record: CallRecord, outcome: CallbackOutcome, now: number): CallRecord {
  if (!isFinal(record.status) || record.callbackUrl === null) {
    throw new CallStateError(record.id, record.status, 'record a callback before the call is final or without a callback URL');
  }
  return {
    ...record,
    callback: {
      state: outcome.state,
      attempts: record.callback.attempts + 1,
      lastStatusCode: outcome.statusCode ?? null,
      lastError: outcome.error ?? null,
      lastAttemptAt: now,
    },
  };
}

/** Give the message back for later: a retry (status → queued) or, once final, a callback retry. */
export function nak(record: CallRecord, delayMs: number, now: number): CallRecord {
  const nextAttemptAt = now + Math.max(0, delayMs);
  if (isFinal(record.status)) return { ...record, nextAttemptAt };
  return { ...record, status: 'queued', nextAttemptAt, attempts: closeOpen(record.attempts, now, 'released without a result') };
}

/** Dead-letter without a result (status → failed); a call already final keeps its record. */
export function term(record: CallRecord, reason: string, now: number): CallRecord {
  if (isFinal(record.status)) return { ...record, nextAttemptAt: null };
  return {
    ...record, status: 'failed', error: reason, finishedAt: now, nextAttemptAt: null,
    attempts: closeOpen(record.attempts, now, reason), callback: notSent(record, reason),
  };
}

/** Check that the call may be acknowledged: only a final call leaves the queue by ack. */
export function ack(record: CallRecord): CallRecord {
  if (!isFinal(record.status)) throw new CallStateError(record.id, record.status, 'ack before finish');
  return { ...record, nextAttemptAt: null };
}

/** Cancel a queued call (also one waiting for a retry); it is never invoked again. */
export function cancel(record: CallRecord, now: number): CallRecord {
  if (record.status !== 'queued') throw new CallStateError(record.id, record.status, 'cancel (only queued calls can be)');
  return {
    ...record, status: 'cancelled', error: 'cancelled', finishedAt: now, nextAttemptAt: null,
    callback: notSent(record, 'cancelled'),
  };
}

/** Send a dead letter round again: a new round, with its attempt history kept. */
export function redrive(record: CallRecord, now: number): CallRecord {
  if (!REDRIVABLE_STATUSES.includes(record.status)) {
    throw new CallStateError(record.id, record.status, 'redrive (only failed or expired calls can be)');
  }
  return {
    ...record, status: 'queued', error: null, queuedAt: now, startedAt: null, finishedAt: null,
    nextAttemptAt: null, round: record.round + 1, result: null, callback: freshCallback(record.callbackUrl),
  };
}

function closeOpen(attempts: readonly Attempt[], now: number, error: string): Attempt[] {
  return attempts.map((a) => (a.finishedAt === null ? { ...a, finishedAt: now, error: a.error ?? error } : a));
}

function notSent(record: CallRecord, reason: string): CallRecord['callback'] {
  if (record.callbackUrl === null) return record.callback;
  return { ...record.callback, state: 'failed', lastError: `not sent: ${reason}` };
}
