// One class per queue failure, each with a stable `code` and the HTTP `status` the router answers with.
// Tests and callers match on `code`, never on message text.

/** Base of every queue error. */
export abstract class QueueError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
}

/** The queue was closed; nothing more can be done with it. */
export class QueueClosedError extends QueueError {
  readonly code = 'ERR_QUEUE_CLOSED';
  readonly status = 503;
  constructor() { super('the queue is closed'); this.name = 'QueueClosedError'; }
}

/** The backend cannot be reached right now (NATS away, database locked too long); try again. */
export class QueueUnavailableError extends QueueError {
  readonly code = 'ERR_QUEUE_UNAVAILABLE';
  readonly status = 503;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`the queue is unavailable: ${reason}`, options);
    this.name = 'QueueUnavailableError';
  }
}

/** The `queue` setting names no known backend, or is malformed. */
export class QueueUrlError extends QueueError {
  readonly code = 'ERR_QUEUE_URL';
  readonly status = 500;
  constructor(url: string, rule: string) {
    super(`queue ${JSON.stringify(url)}: ${rule}`);
    this.name = 'QueueUrlError';
  }
}

/** The backend the URL asks for is not part of this build. */
export class QueueBackendMissingError extends QueueError {
  readonly code = 'ERR_QUEUE_BACKEND_MISSING';
  readonly status = 500;
  constructor(backend: string, options?: { cause?: unknown }) {
    super(`the ${backend} queue backend is not available in this build`, options);
    this.name = 'QueueBackendMissingError';
  }
}

/** No call with that id (never accepted, or removed by retention). */
export class CallNotFoundError extends QueueError {
  readonly code = 'ERR_CALL_NOT_FOUND';
  readonly status = 404;
  constructor(readonly callId: string) { super(`no call ${callId}`); this.name = 'CallNotFoundError'; }
}

/** The call is not in a status that allows the operation (cancel a running call, redrive a queued one...). */
export class CallStateError extends QueueError {
  readonly code = 'ERR_CALL_STATE';
  readonly status = 409;
  constructor(readonly callId: string, readonly callStatus: string, operation: string) {
    super(`call ${callId} is ${callStatus}: cannot ${operation}`);
    this.name = 'CallStateError';
  }
}

/** The lease was lost: it lapsed and the call was leased again (or settled) elsewhere. Stop working on it. */
export class LeaseLostError extends QueueError {
  readonly code = 'ERR_LEASE_LOST';
  readonly status = 409;
  constructor(readonly callId: string) { super(`lease on call ${callId} was lost`); this.name = 'LeaseLostError'; }
}

/** `beginAttempt` on a lease whose call passed `max_event_age` unstarted: it must not be invoked. */
export class CallExpiredError extends QueueError {
  readonly code = 'ERR_CALL_EXPIRED';
  readonly status = 409;
  constructor(readonly callId: string) { super(`call ${callId} is past max_event_age`); this.name = 'CallExpiredError'; }
}

/** The call (body plus headers) is larger than the backend can store in one message (NATS max_payload). */
export class CallTooLargeError extends QueueError {
  readonly code = 'ERR_CALL_TOO_LARGE';
  readonly status = 413;
  constructor(readonly size: number, readonly limit: number) {
    super(`call body of ${size} bytes is over the queue's limit of ${limit} bytes`);
    this.name = 'CallTooLargeError';
  }
}
