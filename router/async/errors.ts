// Failures of the async half, each a RouterError with a stable code, so the router's one sendError
// answers them like any other. Queue errors are mapped here too (queueToRouterError).

import { RouterError } from '../errors.js';
import { CallNotFoundError, CallStateError, CallTooLargeError, QueueError } from '../queue/index.js';

/** X-Callback-Url is not an absolute http(s) URL (400). */
export class BadCallbackUrlError extends RouterError {
  constructor(readonly value: string, reason: string) {
    super('ROUTER_ERR_BAD_CALLBACK_URL', `invalid X-Callback-Url ${JSON.stringify(value.slice(0, 200))}: ${reason}`, 400);
  }
}

/** X-Callback-Url names a host outside callback_allow (400). */
export class CallbackNotAllowedError extends RouterError {
  constructor(readonly host: string) {
    super('ROUTER_ERR_CALLBACK_NOT_ALLOWED', `X-Callback-Url host ${JSON.stringify(host)} is not in callback_allow`, 400);
  }
}

/** A client-chosen X-Call-Id outside the allowed characters or length (400). */
export class BadCallIdError extends RouterError {
  constructor(readonly value: string) {
    super('ROUTER_ERR_BAD_CALL_ID', `invalid X-Call-Id ${JSON.stringify(value.slice(0, 200))}: expected 1-128 characters of [A-Za-z0-9._:-]`, 400);
  }
}

/** The async body is over max_async_body (413). */
export class BodyTooLargeError extends RouterError {
  constructor(readonly limit: number) {
    super('ROUTER_ERR_BODY_TOO_LARGE', `request body is larger than max_async_body (${limit} bytes)`, 413);
  }
}

/** The queue could not take or answer the call right now (503); the reason is the queue's. */
export class QueueUnavailableRouterError extends RouterError {
  constructor(reason: string, options?: ErrorOptions) {
    super('ROUTER_ERR_QUEUE_UNAVAILABLE', `the async queue is unavailable: ${reason}`, 503, options);
  }
}

/** /system/calls/{id} names no call (404). */
export class CallNotFoundRouterError extends RouterError {
  constructor(readonly callId: string) { super('ROUTER_ERR_CALL_NOT_FOUND', `no call ${callId}`, 404); }
}

/** The call is not in a state that allows the operation, e.g. cancelling a running call (409). */
export class CallStateRouterError extends RouterError {
  constructor(message: string) { super('ROUTER_ERR_CALL_STATE', message, 409); }
}

/** A query parameter of /system/calls is not understood (400). */
export class BadQueryError extends RouterError {
  constructor(message: string) { super('ROUTER_ERR_BAD_QUERY', message, 400); }
}

/** Turn a queue failure into the router error to answer with; anything unknown is rethrown as is. */
export function queueToRouterError(err: unknown): unknown {
  if (err instanceof RouterError) return err;
  if (err instanceof CallNotFoundError) return new CallNotFoundRouterError(err.callId);
  if (err instanceof CallStateError) return new CallStateRouterError(err.message);
  if (err instanceof CallTooLargeError) return new BodyTooLargeError(err.limit);
  if (err instanceof QueueError) return new QueueUnavailableRouterError(err.message.replace(/^the queue is unavailable: /, ''), { cause: err });
  const code = (err as { code?: unknown }).code;
  // A locked or vanished sqlite file surfaces as SQLITE_* errors: the queue is away, not a bug of ours.
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return new QueueUnavailableRouterError(code, { cause: err });
  return err;
}
