// What the queue keeps about one async call: the request as accepted (minus the body) and everything
// that happened to it since. Shared by every backend, so `/system/calls/{id}` reads the same anywhere.
// Times are Unix epoch milliseconds; `null` means "not yet" (never "unknown").

/**
 * Life of a call:
 * - `queued`: waiting for a worker, also between retries (`nextAttemptAt` says when) and after a
 *   redrive. A call leased but not yet started is still `queued`.
 * - `running`: an attempt has started (the function is being invoked, or is between the invocation
 *   and the worker's next step).
 * - `succeeded`: final; the function gave an answer the worker accepts (the worker decides, e.g. < 400).
 * - `failed`: final dead letter; a status that is not retried, retries exhausted, or `term`.
 * - `expired`: final dead letter; not started within `max_event_age`, never invoked.
 * - `cancelled`: final; cancelled while queued, never invoked (again).
 * `failed` and `expired` can be redriven; every final record is removed after `call_retention`.
 */
export type CallStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'expired' | 'cancelled';

/** Every status, in life order. */
export const CALL_STATUSES: readonly CallStatus[] = ['queued', 'running', 'succeeded', 'failed', 'expired', 'cancelled'];

/** Statuses after which the call does nothing more unless redriven. */
export const FINAL_STATUSES: readonly CallStatus[] = ['succeeded', 'failed', 'expired', 'cancelled'];

/** Statuses `redrive` accepts (dead letters). */
export const REDRIVABLE_STATUSES: readonly CallStatus[] = ['failed', 'expired'];

/** True for succeeded, failed, expired and cancelled. */
export function isFinal(status: CallStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/** HTTP headers as Node gives them: lower-case names, repeated headers as arrays. */
export type CallHeaders = Record<string, string | string[]>;

/** The request as the router accepted it; `enqueue` takes it and a lease gives it back whole. */
export interface NewCall {
  /** X-Call-Id: the client's (an idempotency key) or a generated UUID. */
  readonly id: string;
  readonly functionName: string;
  readonly method: string;
  /** Path suffix after `/async-function/{name}`: `''` or `'/a/b'`. */
  readonly path: string;
  /** Raw query string without `?`; `''` when there is none. */
  readonly query: string;
  readonly headers: CallHeaders;
  readonly body: Uint8Array;
  /** Hex SHA-256 of the body, so a reused X-Call-Id can be told from a retry; absent: not known. */
  readonly bodySha256?: string;
  /** Absolute http(s) URL, already validated by the router; null for none. */
  readonly callbackUrl: string | null;
}

/** One invocation of the function. */
export interface Attempt {
  /** 1-based over the call's whole life (redrives continue the count). */
  readonly number: number;
  /** 0 for the first round, n after n redrives: retry limits count attempts of the current round. */
  readonly round: number;
  readonly startedAt: number;
  /** Null while it runs, or when the worker died during it (then closed at the next attempt). */
  readonly finishedAt: number | null;
  /** The function's status; null when there was none (connection error, lease lost). */
  readonly statusCode: number | null;
  readonly error: string | null;
}

/** The function's final answer. */
export interface CallResult {
  readonly statusCode: number;
  readonly headers: CallHeaders;
  readonly bodySize: number;
  /** The body; null when bodySize is over the queue's `maxResultBytes`, and always null in `list`. */
  readonly body: Uint8Array | null;
}

/** `none`: no callback URL. `pending`: to be delivered (or being retried). Then `delivered` or `failed`. */
export type CallbackState = 'none' | 'pending' | 'delivered' | 'failed';

/** Where callback delivery stands. */
export interface CallbackStatus {
  readonly state: CallbackState;
  readonly attempts: number;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly lastAttemptAt: number | null;
}

/** One call's record: GET /system/calls/{id}. */
export interface CallRecord {
  readonly id: string;
  readonly functionName: string;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: CallHeaders;
  readonly bodySize: number;
  /** Hex SHA-256 of the request body; absent in records stored before it was kept (then unknown). */
  readonly bodySha256?: string;
  readonly callbackUrl: string | null;
  readonly status: CallStatus;
  /** Why the call failed, expired or was cancelled (the last attempt's error while retrying). */
  readonly error: string | null;
  readonly acceptedAt: number;
  /** Acceptance or the last redrive: `max_event_age` counts from here. */
  readonly queuedAt: number;
  /** First attempt of the current round. */
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** When a nak'ed call (a retry or a callback retry) becomes visible again. */
  readonly nextAttemptAt: number | null;
  /** Number of redrives so far. */
  readonly round: number;
  readonly attempts: readonly Attempt[];
  readonly lastStatusCode: number | null;
  readonly result: CallResult | null;
  readonly callback: CallbackStatus;
}

/** The record a fresh call starts with. */
export function newRecord(call: NewCall, now: number): CallRecord {
  return {
    id: call.id,
    functionName: call.functionName,
    method: call.method,
    path: call.path,
    query: call.query,
    headers: call.headers,
    bodySize: call.body.byteLength,
    ...(call.bodySha256 === undefined ? {} : { bodySha256: call.bodySha256 }),
    callbackUrl: call.callbackUrl,
    status: 'queued',
    error: null,
    acceptedAt: now,
    queuedAt: now,
    startedAt: null,
    finishedAt: null,
    nextAttemptAt: null,
    round: 0,
    attempts: [],
    lastStatusCode: null,
    result: null,
    callback: freshCallback(call.callbackUrl),
  };
}

/** What may differ between two requests under one call id. */
export type RequestPart = 'function' | 'method' | 'path' | 'body';

/**
 * Where `call` is not the request `record` was stored for: function, method, path (with the query) and
 * body (by size, and by hash when both sides have one: a record stored before hashes were kept has
 * none). Empty: the same request.
 */
export function requestDifferences(record: CallRecord, call: NewCall): RequestPart[] {
  const parts: RequestPart[] = [];
  if (record.functionName !== call.functionName) parts.push('function');
  if (record.method !== call.method) parts.push('method');
  if (record.path !== call.path || record.query !== call.query) parts.push('path');
  const hashes = record.bodySha256 !== undefined && call.bodySha256 !== undefined;
  if (record.bodySize !== call.body.byteLength || (hashes && record.bodySha256 !== call.bodySha256)) parts.push('body');
  return parts;
}

/** Callback state before any delivery. */
export function freshCallback(url: string | null): CallbackStatus {
  return { state: url === null ? 'none' : 'pending', attempts: 0, lastStatusCode: null, lastError: null, lastAttemptAt: null };
}
