// One class per queue failure, each a WhippetError with a stable QUEUE_ERR_ code and the HTTP `status`
// the router answers with (router/errors.ts sendError answers them as they are).
// Tests and callers match on the class or the code, never on message text.

import { WhippetError } from '../../common/errors.js';

export type QueueErrorCode =
  | 'QUEUE_ERR_CLOSED'
  | 'QUEUE_ERR_UNAVAILABLE'
  | 'QUEUE_ERR_BUSY'
  | 'QUEUE_ERR_URL'
  | 'QUEUE_ERR_BACKEND_MISSING'
  | 'QUEUE_ERR_CALL_NOT_FOUND'
  | 'QUEUE_ERR_CALL_STATE'
  | 'QUEUE_ERR_LEASE_LOST'
  | 'QUEUE_ERR_CALL_EXPIRED'
  | 'QUEUE_ERR_CALL_TOO_LARGE';

/** Base of every queue error. */
export abstract class QueueError extends WhippetError {
  declare readonly code: QueueErrorCode;
  constructor(code: QueueErrorCode, message: string, status: number, options?: ErrorOptions) {
    super(code, message, status, options);
  }
}

/** The queue was closed; nothing more can be done with it. */
export class QueueClosedError extends QueueError {
  constructor() { super('QUEUE_ERR_CLOSED', 'the queue is closed', 503); }
}

/** The backend cannot be reached right now (NATS away, database file gone or broken); try again. */
export class QueueUnavailableError extends QueueError {
  constructor(readonly reason: string, options?: ErrorOptions) {
    super('QUEUE_ERR_UNAVAILABLE', `the queue is unavailable: ${reason}`, 503, options);
  }
}

/**
 * Another process holds the store's write lock (a second worker, a backup, an admin shell inside a
 * transaction) and kept it for the whole retry budget (`waitedMs`); try again in `retryAfterS` (503).
 */
export class QueueBusyError extends QueueError {
  /** What Retry-After says: the lock is held by someone else, for how long nobody here knows. */
  readonly retryAfterS = 1;
  constructor(readonly waitedMs: number, options?: ErrorOptions) {
    super('QUEUE_ERR_BUSY', `the queue is locked by another process${waitedMs > 0 ? ` (still locked after ${waitedMs} ms)` : ''}: retry in a second`, 503, options);
  }
}

/** The `queue` setting names no known backend, or breaks its backend's URL rule (named in the message). */
export class QueueUrlError extends QueueError {
  constructor(readonly url: string, readonly rule: string) {
    super('QUEUE_ERR_URL', `queue ${JSON.stringify(url)}: ${rule}`, 500);
  }
}

/** The backend the URL asks for is not part of this build (its driver did not load). */
export class QueueBackendMissingError extends QueueError {
  constructor(readonly backend: string, options?: ErrorOptions) {
    super('QUEUE_ERR_BACKEND_MISSING', `the ${backend} queue backend is not available in this build`, 500, options);
  }
}

/** No call with that id (never accepted, or removed by retention). */
export class CallNotFoundError extends QueueError {
  constructor(readonly callId: string) { super('QUEUE_ERR_CALL_NOT_FOUND', `no call ${callId}`, 404); }
}

/** The call is not in a status that allows the operation (cancel a running call, redrive a queued one...). */
export class CallStateError extends QueueError {
  constructor(readonly callId: string, readonly callStatus: string, operation: string) {
    super('QUEUE_ERR_CALL_STATE', `call ${callId} is ${callStatus}: cannot ${operation}`, 409);
  }
}

/** The lease was lost: it lapsed and the call was leased again (or settled) elsewhere. Stop working on it. */
export class LeaseLostError extends QueueError {
  constructor(readonly callId: string) { super('QUEUE_ERR_LEASE_LOST', `lease on call ${callId} was lost`, 409); }
}

/** `beginAttempt` on a lease whose call passed `max_event_age` unstarted: it must not be invoked. */
export class CallExpiredError extends QueueError {
  constructor(readonly callId: string) { super('QUEUE_ERR_CALL_EXPIRED', `call ${callId} is past max_event_age`, 409); }
}

/** The call (body plus headers) is larger than the backend can store in one message (NATS max_payload). */
export class CallTooLargeError extends QueueError {
  constructor(readonly size: number, readonly limit: number) {
    super('QUEUE_ERR_CALL_TOO_LARGE', `call body of ${size} bytes is over the queue's limit of ${limit} bytes`, 413);
  }
}
