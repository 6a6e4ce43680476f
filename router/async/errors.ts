// Failures of the async accept path, each a RouterError with a stable code, so the router's one
// sendError answers them like any other. The queue's own errors need no copy here: they carry their
// code and status and sendError answers them as they are.

import type { ServerResponse } from 'node:http';
import { RouterError } from '../errors.js';
import { QueueBusyError } from '../queue/index.js';

/** X-Callback-Url is not an absolute http(s) URL (400). */
export class BadCallbackUrlError extends RouterError {
  constructor(readonly value: string, reason: string) {
    super('ROUTER_ERR_BAD_CALLBACK_URL', `invalid X-Callback-Url ${JSON.stringify(value.slice(0, 200))}: ${reason}`, 400);
  }
}

/** X-Callback-Url names a host outside callback_allow (400). */
export class CallbackNotAllowedError extends RouterError {
  constructor(readonly host: string, reason = 'not in callback_allow') {
    super('ROUTER_ERR_CALLBACK_NOT_ALLOWED', `X-Callback-Url host ${JSON.stringify(host)} is ${reason}`, 400);
  }
}

/** A client-chosen X-Call-Id outside the allowed characters or length (400). */
export class BadCallIdError extends RouterError {
  constructor(readonly value: string) {
    super('ROUTER_ERR_BAD_CALL_ID', `invalid X-Call-Id ${JSON.stringify(asSent(value).slice(0, 200))}: expected 1-128 characters of [A-Za-z0-9._:-]`, 400);
  }
}

/**
 * A header value as the client wrote it: Node reads header bytes as latin1, so UTF-8 text (`été`) arrives as
 * `Ã©tÃ©`; shown decoded when the bytes are valid UTF-8, else as they came.
 */
function asSent(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) return value;
  const text = Buffer.from(value, 'latin1').toString('utf8');
  return text.includes('\ufffd') ? value : text;
}

/** The async body is over max_async_body (413). */
export class BodyTooLargeError extends RouterError {
  constructor(readonly limit: number) {
    super('ROUTER_ERR_BODY_TOO_LARGE', `request body is larger than max_async_body (${limit} bytes)`, 413);
  }
}

/** A query parameter of /system/calls is not understood (400). */
export class BadQueryError extends RouterError {
  constructor(message: string) { super('ROUTER_ERR_BAD_QUERY', message, 400); }
}

/** A queue locked by another process says when to come back: `Retry-After` on its 503. */
export function setRetryAfter(res: ServerResponse, err: unknown): void {
  if (err instanceof QueueBusyError && !res.headersSent) res.setHeader('Retry-After', String(err.retryAfterS));
}
