// The durable queue of async calls: one interface, one backend per folder (sqlite/, jetstream/),
// chosen in backends.ts. Vocabulary from nats.js: enqueue, next (a lease), working, ack, nak(delay), term.
//
// Delivery is at least once. A lease not extended with working() within ackWait lapses and the call is
// handed out again (deliveryCount + 1), so a dead worker's calls come back. The worker's order for one
// lease is: beginAttempt → invoke → endAttempt → (retry: nak(delay)) | finish → callbackAttempt… → ack.
// finish() stores the result BEFORE the callback is sent: a lease whose record is already final (a
// redelivery after a crash, or a callback retry via nak) must not invoke the function again, only
// finish the callback. Record changes follow transitions.ts in every backend.
//
// Split of duties: the queue enforces max_event_age (lease.expired, and beginAttempt refuses such a
// call) and call_retention (final records are removed after it); the worker decides retries, backoff,
// which statuses succeed, and sends callbacks.

import type { AnySignal } from '../../common/call-abort.js';
import { createLogger, type Logger } from '../../common/log.js';
import type { CallRecord, CallStatus, NewCall, Attempt } from './record.js';
import type { AttemptOutcome, CallbackOutcome, FinalOutcome } from './transitions.js';

export type { AttemptOutcome, CallbackOutcome, FinalOutcome, ResultInput } from './transitions.js';
export type {
  Attempt, CallbackState, CallbackStatus, CallHeaders, CallRecord, CallResult, CallStatus, NewCall,
} from './record.js';

/** Settings shared by every backend. All optional; the defaults are DESIGN.md's. */
export interface QueueOptions {
  /** Lease length; working() renews it. Default 30 s (`ack_wait`). */
  readonly ackWaitMs?: number;
  /** Unstarted calls older than this are handed out with lease.expired = true; 0 = never. Default 6 h. */
  readonly maxEventAgeMs?: number;
  /** Final records are removed this long after they finished. Default 7 d. */
  readonly callRetentionMs?: number;
  /** Result bodies up to this size are kept in the record. Default 1 MiB. */
  readonly maxResultBytes?: number;
  /** Clock for record times and lease deadlines (tests); waiting still uses real timers. Default Date.now. */
  readonly now?: () => number;
  /**
   * A backend reached over the network returns at once and keeps connecting in the background (calls
   * fail with QueueUnavailableError until then) instead of failing the open. Default false.
   */
  readonly connectInBackground?: boolean;
  /** Where the queue reports what it skipped or retried on its own (an undecodable record). Default: stderr. */
  readonly log?: Logger;
}

/** What enqueue did. */
export interface EnqueueResult {
  /** True when a call with this id already existed: nothing was stored, `record` is the existing one. */
  readonly duplicate: boolean;
  readonly record: CallRecord;
}

/** How long next() may wait. */
export interface NextOptions {
  /** Aborting makes next() resolve null at once. The worker passes a CallAbort (common/call-abort.ts). */
  readonly signal?: AnySignal;
  /** Resolve null after this long without work. Default: wait until work, abort or close. */
  readonly timeoutMs?: number;
  /**
   * Function names the caller cannot take now (each at its per-function limit): hand out a visible
   * call of another function instead; while only these functions have visible calls, wait as if
   * nothing were visible (their calls stay queued, deliveryCount unchanged). The set is live: the
   * backend reads it each time it looks for work, so the caller may add names while next() waits;
   * after removing a name the caller calls lookAgain() (with a backend without it: aborts one pending
   * next() and calls again), and a backend looks again for every waiting next() (with their sets as
   * they are now) at lookAgain() and whenever next() is called; it need not notice removals by itself.
   * Among the other functions, oldest visible first as without it.
   * Optional for a backend: one that ignores it stays correct (the worker naks a lease for a busy
   * function after FUNCTION_BUSY_DELAY_MS, its fallback), only less fair.
   */
  readonly busy?: ReadonlySet<string>;
  /**
   * The caller invokes the call at once: begin its attempt in the lease's own write (sqlite: one row
   * write less per call) when the call can start (not final, not expired). The lease's beginAttempt()
   * then returns that attempt without writing; a nak before beginAttempt() withdraws it (the record goes
   * back as it was leased). Optional for a backend: one that ignores it writes in beginAttempt().
   */
  readonly beginAttempt?: boolean;
}

/** Filter for list(); newest accepted first. */
export interface ListFilter {
  readonly functionName?: string;
  readonly status?: CallStatus | readonly CallStatus[];
  /** Default 100, at most 1000. */
  readonly limit?: number;
}

/** One row of depth(): how many calls a function has in one status (rows with 0 are left out). */
export interface DepthEntry {
  readonly functionName: string;
  readonly status: CallStatus;
  readonly count: number;
}

/** Whether the backend is reachable (for /healthz). */
export interface QueueHealth {
  readonly ok: boolean;
  readonly backend: string;
  readonly detail?: string;
}

/** One change of a call record, as watch() reports it (from any process sharing the queue). */
export interface CallChange {
  readonly id: string;
  readonly functionName: string;
  /** The status this change left. */
  readonly status: CallStatus;
  /** The status before; null for a call just accepted. */
  readonly previous: CallStatus | null;
  /** The record as it is when the change is reported (without result body); null when already removed. */
  readonly record: CallRecord | null;
}

/** A call handed to one worker until ack, nak, term, or ackWait passes without working(). */
export interface Lease {
  /** The request as accepted, body included. */
  readonly request: NewCall;
  /** The record: as leased, then as this lease's own calls changed it. */
  readonly record: CallRecord;
  /** 1 on the first delivery of this round; +1 for every redelivery (lapsed lease or nak). */
  readonly deliveryCount: number;
  /** Past max_event_age and never started in this round: finish({status:'expired'}), don't invoke. */
  readonly expired: boolean;
  /** Renew the lease for another ackWait (call it every ackWait/3 or so while working). */
  working(): Promise<void>;
  /** Status → running, a new attempt opens. Throws CallExpiredError, CallStateError (cancelled) or LeaseLostError. */
  beginAttempt(): Promise<Attempt>;
  /** Close the open attempt with the function's status or the error. */
  endAttempt(outcome: AttemptOutcome): Promise<void>;
  /** Make the call final and store its result; the callback (if any) becomes pending. Does not ack. */
  finish(outcome: FinalOutcome): Promise<CallRecord>;
  /**
   * Optional: endAttempt(attempt), finish(final) and, when `ack`, ack() as ONE write, all or nothing
   * (a crash leaves the call as it was before, so it is delivered again). The record as written. A
   * backend that commits per change offers it to save commits; callers fall back to the three calls.
   */
  conclude?(attempt: AttemptOutcome, final: FinalOutcome, ack: boolean): Promise<CallRecord>;
  /**
   * Optional: endAttempt + nak(delayMs) in one all-or-nothing write (a retry: a crash before it leaves
   * the call running, delivered again after ack_wait). Callers fall back to the two calls.
   */
  retryLater?(attempt: AttemptOutcome, delayMs: number): Promise<void>;
  /** Record one callback delivery attempt. */
  callbackAttempt(outcome: CallbackOutcome): Promise<void>;
  /** Done: the message leaves the queue, the record stays. The call must be final (finish or term first). */
  ack(): Promise<void>;
  /** Hand the message back, visible again after delayMs (default 0): a retry, or a callback retry. */
  nak(delayMs?: number): Promise<void>;
  /** Dead-letter now: status → failed with `reason` unless already final; the message leaves the queue. */
  term(reason: string): Promise<void>;
}

/** The durable queue. Every method may throw QueueUnavailableError or QueueClosedError. */
export interface Queue {
  /** 'sqlite' or 'jetstream'. */
  readonly backend: string;
  /** Store a call durably (resolves only once it would survive a crash); the same id twice is stored once. */
  enqueue(call: NewCall): Promise<EnqueueResult>;
  /** Wait for the next visible call and lease it; null on abort, timeout or close. */
  next(options?: NextOptions): Promise<Lease | null>;
  /**
   * Optional. The caller removed names from the busy sets of waiting next() calls (NextOptions.busy):
   * look again for each of them, with their sets as they are now, soon (sqlite: in the next pump).
   * Without it the worker withdraws a waiting next() and calls again to the same end, at the cost
   * of a next() more per call while a function sits at its limit.
   */
  lookAgain?(): void;
  /** One record, result body included; null when unknown or removed. */
  get(id: string): Promise<CallRecord | null>;
  /** Records, newest accepted first, without result bodies. */
  list(filter?: ListFilter): Promise<CallRecord[]>;
  /** Cancel a queued call: CallNotFoundError, or CallStateError when it is not queued. */
  cancel(id: string): Promise<CallRecord>;
  /** Queue a failed or expired call again (a new round): CallNotFoundError or CallStateError. */
  redrive(id: string): Promise<CallRecord>;
  /** Calls by function and status, for queue_depth. Called at scrape time, may scan. */
  depth(): Promise<DepthEntry[]>;
  /** Remove final records past call_retention now; backends also do it by themselves. Returns the count. */
  sweep(): Promise<number>;
  health(): Promise<QueueHealth>;
  /**
   * Follow record changes (accepts, attempts, results, callbacks, cancels) from any process sharing the
   * queue. Resolves with the unsubscribe once watching: every change stored after that is reported.
   */
  watch(onChange: (change: CallChange) => void): Promise<() => void>;
  /** Stop: pending next() calls resolve null; unsettled leases simply lapse. */
  close(): Promise<void>;
}

/** The defaults of QueueOptions, resolved. */
export interface ResolvedQueueOptions {
  readonly ackWaitMs: number;
  readonly maxEventAgeMs: number;
  readonly callRetentionMs: number;
  readonly maxResultBytes: number;
  readonly now: () => number;
  readonly log: Logger;
}

/** Fill in the defaults of DESIGN.md. */
export function resolveQueueOptions(options: QueueOptions = {}): ResolvedQueueOptions {
  return {
    ackWaitMs: options.ackWaitMs ?? 30_000,
    maxEventAgeMs: options.maxEventAgeMs ?? 6 * 3_600_000,
    callRetentionMs: options.callRetentionMs ?? 7 * 24 * 3_600_000,
    maxResultBytes: options.maxResultBytes ?? 1024 * 1024,
    now: options.now ?? Date.now,
    log: options.log ?? createLogger(),
  };
}

/** Clamp a list limit to 1..1000 (default 100). */
export function listLimit(limit: number | undefined): number {
  return Math.min(1000, Math.max(1, Math.floor(limit ?? 100)));
}
