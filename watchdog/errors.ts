// The watchdog's own failures: one class per case with a stable code and an HTTP status, and the one
// function that turns any of them into a response marked `X-OpenFaaS-Internal: watchdog`.

import type { ServerResponse } from 'node:http';
import { monotonicMs } from '../common/clock.js';
import { WhippetError } from '../common/errors.js';

export type WatchdogErrorCode =
  | 'WD_ERR_SPAWN'
  | 'WD_ERR_EXEC_TIMEOUT'
  | 'WD_ERR_OVERLOADED'
  | 'WD_ERR_UPSTREAM'
  | 'WD_ERR_BAD_REQUEST'
  | 'WD_ERR_BODY_TOO_LARGE'
  | 'WD_ERR_NOT_FOUND'
  | 'WD_ERR_METHOD'
  | 'WD_ERR_INTERNAL';

/** Base of the watchdog's errors: `code` is stable and documented, `status` is what the client gets. */
export class WatchdogError extends WhippetError {
  declare readonly code: WatchdogErrorCode;
  constructor(code: WatchdogErrorCode, message: string, status: number, options?: ErrorOptions) {
    super(code, message, status, options);
  }
}

/** The handler could not be started (missing program, no permission, too many processes). */
export class SpawnError extends WatchdogError {
  constructor(readonly file: string, cause: unknown) {
    super('WD_ERR_SPAWN', `cannot start ${file}: ${(cause as Error).message}`, 500, { cause });
  }
}

/** The handler (or the http-mode upstream) ran past exec_timeout; its process group was killed. */
export class ExecTimeoutError extends WatchdogError {
  constructor(readonly timeoutMs: number) {
    super('WD_ERR_EXEC_TIMEOUT', `function exceeded exec_timeout of ${timeoutMs}ms and was killed`, 504);
  }
}

/** max_inflight requests are already running. */
export class OverloadedError extends WatchdogError {
  constructor(readonly maxInflight: number) {
    super('WD_ERR_OVERLOADED', `concurrent request limit exceeded: max_inflight is ${maxInflight}`, 429);
  }
}

/** http mode: the upstream refused or dropped the connection. */
export class UpstreamError extends WatchdogError {
  constructor(readonly upstream: string, cause: unknown) {
    super('WD_ERR_UPSTREAM', `upstream ${upstream} failed: ${(cause as Error).message}`, 502, { cause });
  }
}

export class BadRequestError extends WatchdogError {
  constructor(message: string) { super('WD_ERR_BAD_REQUEST', message, 400); }
}

/** A body that would be held or re-encoded whole (marshal_request, buffer_http) is over max_request_body. */
export class BodyTooLargeError extends WatchdogError {
  constructor(readonly limit: number) {
    super('WD_ERR_BODY_TOO_LARGE', `request body is larger than max_request_body (${limit} bytes)`, 413);
  }
}

export class NotFoundError extends WatchdogError {
  constructor() { super('WD_ERR_NOT_FOUND', 'not found', 404); }
}

export class MethodNotAllowedError extends WatchdogError {
  constructor(readonly allow: string) { super('WD_ERR_METHOD', 'method not allowed', 405); }
}

/** Header that marks a response the watchdog made itself, so callers can tell it from the function's own. */
export const INTERNAL_HEADER = 'X-OpenFaaS-Internal';

/** Write `err` as the response; unknown errors become a generic 500. If the head is out, cut the connection. */
export function toResponse(res: ServerResponse, err: unknown, startedAt?: number): void {
  const e = err instanceof WatchdogError ? err : new WatchdogError('WD_ERR_INTERNAL', 'internal error', 500, { cause: err });
  if (res.headersSent) {
    res.destroy(e);
    return;
  }
  const body = `${e.message}\n`;
  const headers: Record<string, string | number> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    [INTERNAL_HEADER]: 'watchdog',
    'X-Watchdog-Error': e.code,
  };
  if (startedAt !== undefined) headers['X-Duration-Seconds'] = durationSeconds(startedAt);
  if (e instanceof MethodNotAllowedError) headers.Allow = e.allow;
  res.writeHead(e.status, headers);
  res.end(body);
}

/** Seconds since `startedAt` (a monotonicMs() value), six decimals as the Go watchdogs print it. */
export function durationSeconds(startedAt: number): string {
  return ((monotonicMs() - startedAt) / 1000).toFixed(6);
}
