// The router's error catalogue: each failure is a class with a stable `code` and an HTTP `status`.
// `sendError` is the one place that turns any error into a response the router made itself; queue
// errors carry their own code and status and are answered as they are.

import type { ServerResponse } from 'node:http';
import { WhippetError } from '../common/errors.js';

export type RouterErrorCode =
  | 'ROUTER_ERR_BAD_NAME'
  | 'ROUTER_ERR_BAD_PATH'
  // Answered below the handler, for requests Node's parser refuses (router/client-error.ts).
  | 'ROUTER_ERR_HEAD_TOO_LARGE'
  | 'ROUTER_ERR_REQUEST_TIMEOUT'
  | 'ROUTER_ERR_MALFORMED_REQUEST'
  | 'ROUTER_ERR_NOT_FOUND'
  | 'ROUTER_ERR_FUNCTION_NOT_FOUND'
  | 'ROUTER_ERR_NAMESPACE_NOT_FOUND'
  | 'ROUTER_ERR_NOT_IMPLEMENTED'
  | 'ROUTER_ERR_LOGS_UNAVAILABLE'
  | 'ROUTER_ERR_METHOD_NOT_ALLOWED'
  | 'ROUTER_ERR_UNAUTHORIZED'
  | 'ROUTER_ERR_UPSTREAM_UNREACHABLE'
  | 'ROUTER_ERR_UPSTREAM_TIMEOUT'
  | 'ROUTER_ERR_ASYNC_DISABLED'
  // The async half (router/async/errors.ts).
  | 'ROUTER_ERR_BAD_CALLBACK_URL'
  | 'ROUTER_ERR_CALLBACK_NOT_ALLOWED'
  | 'ROUTER_ERR_BAD_CALL_ID'
  | 'ROUTER_ERR_CALL_ID_TAKEN'
  | 'ROUTER_ERR_BODY_TOO_LARGE'
  | 'ROUTER_ERR_BAD_QUERY'
  // The dashboard (router/ui/errors.ts).
  | 'ROUTER_ERR_CROSS_SITE'
  | 'ROUTER_ERR_UI_NOT_BUILT'
  | 'ROUTER_ERR_INTERNAL';

/** Base of the router's errors, the async accept path's included. */
export class RouterError extends WhippetError {
  declare readonly code: RouterErrorCode;
  constructor(code: RouterErrorCode, message: string, status: number, options?: ErrorOptions) {
    super(code, message, status, options);
  }
}

/** An error whose code and status are the answer: the router's own, or the queue's (QUEUE_ERR_*). */
export function isKnownError(err: unknown): err is WhippetError {
  return err instanceof WhippetError;
}

/** The path is not a route of the router (404). */
export class NotFoundError extends RouterError {
  constructor(readonly path: string) { super('ROUTER_ERR_NOT_FOUND', `no route for ${path}`, 404); }
}

/** A function name outside [-a-zA-Z_0-9.]+ (400). */
export class BadNameError extends RouterError {
  constructor(readonly functionName: string) {
    super('ROUTER_ERR_BAD_NAME', `invalid function name ${JSON.stringify(functionName)}: expected [-a-zA-Z_0-9.]+`, 400);
  }
}

/** A path the router refuses to forward: encoded slashes, dot segments, spaces, control characters (400). */
export class BadPathError extends RouterError {
  constructor(readonly reason: string) { super('ROUTER_ERR_BAD_PATH', `invalid path: ${reason}`, 400); }
}

/** No upstream is known for the function (404). */
export class FunctionNotFoundError extends RouterError {
  constructor(readonly functionName: string) {
    super('ROUTER_ERR_FUNCTION_NOT_FOUND', `function not found: ${functionName} (GET /system/functions lists the functions this router knows)`, 404);
  }
}

/** `name.namespace` where namespace is not the one this router serves (404). */
export class ForeignNamespaceError extends RouterError {
  constructor(readonly functionName: string, readonly namespace: string, readonly routerNamespace: string) {
    super('ROUTER_ERR_NAMESPACE_NOT_FOUND',
      `function ${functionName} is asked for in namespace ${namespace}, but this router serves namespace ${routerNamespace} only: `
      + `call ${functionName} or ${functionName}.${routerNamespace} (the router's namespace setting)`, 404);
  }
}

/** A gateway API write whippet does not do (501); the message says what to do instead. */
export class NotImplementedError extends RouterError {
  constructor(message: string) { super('ROUTER_ERR_NOT_IMPLEMENTED', message, 501); }
}

/** GET /system/logs on a router that holds no function logs (501). */
export class LogsUnavailableError extends RouterError {
  constructor() {
    super('ROUTER_ERR_LOGS_UNAVAILABLE', 'this router keeps no function logs (only `whippet up` does): '
      + 'read the watchdog\'s own output instead (docker logs, kubectl logs, journalctl)', 501);
  }
}

/** The route exists but not for this method (405); `allow` lists the methods it takes. */
export class MethodNotAllowedError extends RouterError {
  constructor(readonly method: string, readonly allow: readonly string[]) {
    super('ROUTER_ERR_METHOD_NOT_ALLOWED', `method ${method} not allowed: use ${allow.join(', ')}`, 405);
  }
}

/** Missing or wrong Basic credentials on /system/* (401). */
export class UnauthorizedError extends RouterError {
  constructor() {
    super('ROUTER_ERR_UNAUTHORIZED', 'invalid credentials: /system/* needs the Basic credentials in basic-auth-user and basic-auth-password '
      + '(faas-cli login, or whippet calls --user/--password)', 401);
  }
}

/** The upstream refused the connection, reset it, or could not be resolved (502). */
export class UpstreamUnreachableError extends RouterError {
  constructor(readonly functionName: string, readonly reason: string, options?: ErrorOptions) {
    super('ROUTER_ERR_UPSTREAM_UNREACHABLE', `function ${functionName} unreachable: ${reason}`, 502, options);
  }
}

/** The upstream did not answer within upstream_timeout (504). */
export class UpstreamTimeoutError extends RouterError {
  constructor(readonly functionName: string, readonly timeoutMs: number) {
    super('ROUTER_ERR_UPSTREAM_TIMEOUT', `function ${functionName} did not answer within ${timeoutMs}ms (upstream_timeout)`, 504);
  }
}

/** /async-function/* while no queue is mounted (503). */
/** 409: an X-Call-Id already names another request (function, method, path with query, or body). */
export class CallIdTakenError extends RouterError {
  constructor(readonly callId: string, readonly differs: readonly string[]) {
    super('ROUTER_ERR_CALL_ID_TAKEN', `X-Call-Id ${callId} is taken by another request (its ${differs.join(', ')} differ${differs.length === 1 ? 's' : ''}): `
      + 'repeat the same request to retry, or send a new id (or none) for a new call', 409);
  }
}

export class AsyncDisabledError extends RouterError {
  constructor() { super('ROUTER_ERR_ASYNC_DISABLED', 'async invocations are not enabled on this router (no queue)', 503); }
}

/** Header that marks responses the router made itself, so callers can tell them from the function's. */
export const INTERNAL_HEADER = 'X-OpenFaaS-Internal';

/**
 * Write `err` as the router's own response: status, `X-OpenFaaS-Internal: router`, `X-Router-Error: <code>`
 * and a one-line text body. Unknown errors become a generic 500. If headers already went out, the
 * connection is cut instead: a half-sent response must not look complete.
 */
export function sendError(res: ServerResponse, err: unknown, extraHeaders: Readonly<Record<string, string>> = {}): void {
  const known = isKnownError(err) ? err : new RouterError('ROUTER_ERR_INTERNAL', 'internal error', 500);
  if (res.headersSent) {
    res.destroy(err instanceof Error ? err : undefined);
    return;
  }
  const body = `${known.message}\n`;
  const headers: Record<string, string | number> = {
    ...extraHeaders,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    [INTERNAL_HEADER]: 'router',
    'X-Router-Error': known.code,
  };
  if (known instanceof UnauthorizedError) headers['WWW-Authenticate'] = 'Basic realm="Restricted"';
  if (known instanceof MethodNotAllowedError) headers['Allow'] = known.allow.join(', ');
  res.writeHead(known.status, headers);
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}
