// Async accepts of a multi-process router on a SQLite queue: the worker processes hand them to the primary,
// which commits them, so the file has one writer.
//
// SQLite lets one connection write at a time, and a commit of accepts held that lock through its fsync
// (synchronous=FULL, until the sync moved out of the commit: sqlite-wal-sync.ts). With each worker
// process committing its own accepts beside the primary's async worker, the three connections took
// turns at the lock by failing and pausing (busy.ts): at 3,000 calls/s on 2 cores the two worker
// processes retried 27,000-29,000 times for 24,000 accepts, the primary 12,000-15,000 times, and its
// in-process worker fell behind by ~2,100-2,500 calls a second, against ~900-1,050 with the accepts
// committed here (docs/queues.md). Handed to the primary, the accepts of every process ride in one
// group commit (one transaction per event-loop turn, then one sync of the file), beside the async
// worker's own changes.
//
// A worker process sends the accepts of one event-loop turn as one message and answers 202 only when the
// primary says they are committed, as a single-process router does. The other queue operations (reads,
// cancel, redrive: rare writes that wait for the lock like before) stay on the worker's own connection.
// The JetStream queue has no file lock, so its accepts are not forwarded.
//
// A new call's answer is its acceptance time only: the record the queue stored for it is the call as sent plus
// that time (newRecord), so the worker process builds it again rather than receive it. Sending every record
// back was 6 % of the primary's CPU at 2,750 accepts/s (v8's serializer, on the process that also commits and
// runs the async worker); a duplicate's answer carries the record found, which the accept compares with the request.

import type { EnqueueResult, NewCall, Queue } from '../queue/index.js';
import { QueueBusyError, QueueClosedError, QueueUnavailableError, newRecord, type CallRecord } from '../queue/index.js';

/** One forwarded accept's outcome, as plain data (it crosses the IPC channel). */
export type AcceptOutcome =
  /** Stored now: the record is newRecord(call, acceptedAt). */
  | { readonly ok: true; readonly duplicate: false; readonly acceptedAt: number }
  /** Stored before: the record found. */
  | { readonly ok: true; readonly duplicate: true; readonly record: CallRecord }
  | {
    readonly ok: false; readonly code: string | undefined; readonly message: string;
    /** What QueueBusyError and QueueUnavailableError carry beside their message. */
    readonly waitedMs?: number | undefined; readonly reason?: string | undefined;
  };

/** The messages of this exchange; router/cluster/messages.ts lists them beside the others. */
export interface AcceptRequest { readonly whippet: 'enqueue'; readonly id: number; readonly calls: readonly NewCall[] }
export interface AcceptReply { readonly whippet: 'enqueued'; readonly id: number; readonly outcomes: readonly AcceptOutcome[] }

/** The worker process's end of the channel to the primary. */
export interface AcceptChannel {
  send(msg: AcceptRequest): void;
}

/** The primary's side: commit a worker process's accepts (one group commit) and say how each went. */
export async function commitForwarded(queue: Queue, request: AcceptRequest): Promise<AcceptReply> {
  const settled = await Promise.allSettled(request.calls.map((call) => queue.enqueue(call)));
  return {
    whippet: 'enqueued', id: request.id,
    outcomes: settled.map((s): AcceptOutcome => s.status === 'fulfilled' ? acceptedOutcome(s.value) : outcomeOf(s.reason)),
  };
}

function acceptedOutcome({ duplicate, record }: EnqueueResult): AcceptOutcome {
  return duplicate ? { ok: true, duplicate: true, record } : { ok: true, duplicate: false, acceptedAt: record.acceptedAt };
}

/** The enqueue result an accepted outcome stands for (`call`: the call as this process sent it). */
function resultOf(call: NewCall, outcome: Extract<AcceptOutcome, { ok: true }>): EnqueueResult {
  return outcome.duplicate ? { duplicate: true, record: outcome.record } : { duplicate: false, record: newRecord(call, outcome.acceptedAt) };
}

function outcomeOf(err: unknown): AcceptOutcome {
  const e = (err ?? {}) as { code?: unknown; message?: unknown; waitedMs?: unknown; reason?: unknown };
  return {
    ok: false, code: typeof e.code === 'string' ? e.code : undefined, message: String(e.message ?? err),
    waitedMs: typeof e.waitedMs === 'number' ? e.waitedMs : undefined,
    reason: typeof e.reason === 'string' ? e.reason : undefined,
  };
}

/** The error the primary's queue threw, as the same class here (the router's status and Retry-After follow it). */
function errorOf(outcome: Extract<AcceptOutcome, { ok: false }>): Error {
  switch (outcome.code) {
    case 'QUEUE_ERR_BUSY': return new QueueBusyError(outcome.waitedMs ?? 0);
    case 'QUEUE_ERR_CLOSED': return new QueueClosedError();
    case 'QUEUE_ERR_UNAVAILABLE': return new QueueUnavailableError(outcome.reason ?? outcome.message);
    default: return new Error(outcome.message);
  }
}

interface Waiting {
  readonly call: NewCall;
  readonly resolve: (result: EnqueueResult) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The worker process's queue: `enqueue` goes to the primary (the accepts of one event-loop turn in one
 * message), everything else to `queue`, this process's own connection. `received` takes the primary's replies;
 * `disconnected` fails what is still waiting (the primary is gone: the 202 was never sent, the call may or may
 * not be on disk, as after any crash).
 */
export class ForwardedAccepts implements Queue {
  readonly backend: string;
  private batch: Waiting[] = [];
  private scheduled = false;
  private nextId = 0;
  private readonly waiting = new Map<number, readonly Waiting[]>();
  private gone: Error | undefined;

  constructor(private readonly queue: Queue, private readonly channel: AcceptChannel) {
    this.backend = queue.backend;
  }

  enqueue(call: NewCall): Promise<EnqueueResult> {
    if (this.gone !== undefined) return Promise.reject(this.gone);
    return new Promise<EnqueueResult>((resolve, reject) => {
      this.batch.push({ call, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.send());
      }
    });
  }

  /** A reply from the primary. */
  received(reply: AcceptReply): void {
    const waiting = this.waiting.get(reply.id);
    if (waiting === undefined) return;
    this.waiting.delete(reply.id);
    waiting.forEach((w, i) => {
      const outcome = reply.outcomes[i];
      if (outcome === undefined) w.reject(new QueueUnavailableError('the primary process answered without this call'));
      else if (outcome.ok) w.resolve(resultOf(w.call, outcome));
      else w.reject(errorOf(outcome));
    });
  }

  /** The channel to the primary closed: nothing sent will be answered, nothing more can be sent. */
  disconnected(): void {
    this.gone = new QueueUnavailableError('the router\'s primary process is gone');
    for (const waiting of this.waiting.values()) for (const w of waiting) w.reject(this.gone);
    this.waiting.clear();
    for (const waiting of this.batch) waiting.reject(this.gone);
    this.batch = [];
  }

  private send(): void {
    this.scheduled = false;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    const id = this.nextId++;
    this.waiting.set(id, batch);
    try {
      this.channel.send({ whippet: 'enqueue', id, calls: batch.map((b) => b.call) });
    } catch (err) {
      this.waiting.delete(id);
      const refused = new QueueUnavailableError(`cannot reach the router's primary process: ${(err as Error).message}`);
      for (const b of batch) b.reject(refused);
    }
  }

  next: Queue['next'] = (options) => this.queue.next(options);
  get: Queue['get'] = (id) => this.queue.get(id);
  list: Queue['list'] = (filter) => this.queue.list(filter);
  cancel: Queue['cancel'] = (id) => this.queue.cancel(id);
  redrive: Queue['redrive'] = (id) => this.queue.redrive(id);
  depth: Queue['depth'] = () => this.queue.depth();
  sweep: Queue['sweep'] = () => this.queue.sweep();
  health: Queue['health'] = () => this.queue.health();
  watch: Queue['watch'] = (onChange) => this.queue.watch(onChange);
  close: Queue['close'] = () => this.queue.close();
}
