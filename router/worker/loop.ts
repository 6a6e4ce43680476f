// The queue-worker loop: lease calls while fewer than max_inflight invocations run (and the function is
// under its own limit), work each one (run-call.ts), and stop gracefully: no new leases, in-flight calls
// get until the deadline, and whatever is still running then is abandoned so its lease lapses and another
// worker picks it up after ack_wait. Nothing accepted is lost by stopping.
//
// Slots: a call holds an invocation slot from its lease until the function's answer is in. The rest of
// its turn (the write of the result, the callback, the ack) runs outside the slot, so a busy event loop
// or a slow callback receiver does not keep the function idle. Those settling calls are bounded too: the
// worker holds at most 2 × max_inflight calls in all, invoking or settling, so a stuck callback receiver
// stops the leasing instead of piling calls up in memory.
//
// Throughput: up to LEASE_AHEAD next() calls wait at once (never more than the free slots), so a
// backend can hand out a batch of leases in one round trip (sqlite: one transaction per pump).
//
// Fairness: no function holds more than its share of max_inflight invocations (FunctionSlots.limit:
// three quarters by default, lower when the stack file says so) nor more than twice that in all, and
// every next() names the functions it must not get (NextOptions.busy), so a slow function's backlog (or
// its slow callbacks) never fills the slots another function needs and its calls stay queued instead of
// being leased and handed back. A backend that ignores `busy` still works: a lease for a function at its
// limit goes back with a short nak (the fallback).
// Default share, documented in docs/async.md: defaultFunctionShare below.

import { CallAbort } from '../../common/call-abort.js';
import type { Lease, Queue } from '../queue/index.js';
import type { WorkerConfig } from './options.js';
import { runCall, type CallControl, type CallDeps } from './run-call.js';

export interface LoopDeps extends Omit<CallDeps, 'config'> {
  /** The loop only leases (and asks the backend to look again); everything else goes through each Lease. */
  readonly queue: Pick<Queue, 'next' | 'lookAgain'>;
  /** Optional per-function concurrency (e.g. from a stack file); undefined = the default share. */
  readonly functionLimit?: ((functionName: string) => number | undefined) | undefined;
}

// A call leased for a function at its own limit goes back for this long (only with a backend that
// ignores NextOptions.busy, or a limit the loop could not foresee); short, so the function's next free
// slot is used soon, long enough not to spin on the queue.
const FUNCTION_BUSY_DELAY_MS = 200;
// After a queue failure (locked file, NATS away) the loop waits this long before leasing again.
const QUEUE_ERROR_PAUSE_MS = 500;
// Abandoned calls return at their next step; a slow function is not waited for longer than this.
const ABANDON_WAIT_MS = 1_000;
/**
 * How long a callback already sending when the worker stops may still take. Most answer in milliseconds, and a cut
 * one may have reached its receiver (only the answer lost), which would then get it twice; one that never answers
 * must not hold the stop for upstream_timeout.
 */
const CALLBACK_GRACE_MS = 2_000;
// At most this many next() calls wait at once (with the default max_inflight of 64, one per free slot): the
// more wait, the more leases and results share a transaction (sqlite, a drain of a stored backlog: 11.6 calls per
// transaction with 16, 14.7 with 64, and 7-9 % fewer bytes written per call; docs/performance.md); few enough
// that a stop aborts little.
const LEASE_AHEAD = 64;
// The reason a waiting next() is withdrawn to be asked again (with a backend without Queue.lookAgain, once
// per finished call while a function is at its share): one shared value, as abort() without a reason builds
// a DOMException with a stack.
const ASK_AGAIN = new Error('asked again with a smaller busy set');

/**
 * The default most slots one function may hold: max_inflight minus a quarter of it (48 of 64, 3 of 4),
 * so a quarter stays free for the other functions; all of them below 4.
 */
export function defaultFunctionShare(maxInflight: number): number {
  return Math.max(1, maxInflight - Math.floor(maxInflight / 4));
}

/**
 * Counts calls per function: the invocations against the function's limit, and every call it holds
 * (invoking or settling) against twice that.
 */
class FunctionSlots {
  private readonly invoking = new Map<string, number>();
  private readonly held = new Map<string, number>();
  private readonly share: number;

  constructor(maxInflight: number, private readonly configured: LoopDeps['functionLimit']) {
    this.share = defaultFunctionShare(maxInflight);
  }

  /** The most invocations of `name` at once: the configured limit if lower than the share. */
  limit(name: string): number {
    const configured = this.configured?.(name);
    return configured !== undefined && configured > 0 ? Math.min(configured, this.share) : this.share;
  }

  /** How many more calls of `name` may be taken now (0 or less: it is at a limit). */
  room(name: string): number {
    const limit = this.limit(name);
    return Math.min(limit - (this.invoking.get(name) ?? 0), 2 * limit - (this.held.get(name) ?? 0));
  }

  /** The functions with calls held now. */
  names(): IterableIterator<string> {
    return this.held.keys();
  }

  /** Take a slot for the function; false when it is at its limit. */
  take(name: string): boolean {
    if (this.room(name) <= 0) return false;
    add(this.invoking, name, 1);
    add(this.held, name, 1);
    return true;
  }

  /** The call's invocation is over; it still holds its place among the function's calls. */
  invoked(name: string): void {
    add(this.invoking, name, -1);
  }

  /** The call is done (its invocation ended before: invoked()). */
  release(name: string): void {
    add(this.held, name, -1);
  }
}

function add(counts: Map<string, number>, name: string, by: number): void {
  const n = (counts.get(name) ?? 0) + by;
  if (n <= 0) counts.delete(name); else counts.set(name, n);
}

/** One next() call waiting; `busy` is the live set the backend reads. */
interface PendingNext {
  readonly busy: Set<string>;
  readonly abort: CallAbort;
}

/** The loop starts leasing as soon as it is constructed. */
export class WorkerLoop {
  private readonly running = new Set<Promise<void>>();
  /** Calls whose invocation is not over (the max_inflight slots). */
  private invoking = 0;
  /** Calls held in all, counted before runCall starts (running holds their promises). */
  private held = 0;
  private readonly slots: FunctionSlots;
  private readonly leasing = new AbortController();
  private readonly abandon = new CallAbort();
  /** Aborted when stop() starts: no callback is started from then on (run-call.ts). */
  private readonly draining = new CallAbort();
  /** Aborted CALLBACK_GRACE_MS later (or at the grace's end, if sooner): callbacks still sending are cut. */
  private readonly cutCallbacks = new CallAbort();
  private readonly control: CallControl;
  private readonly callDeps: CallDeps;
  /** next() calls waiting, oldest first (the order the backend serves them). */
  private pending: PendingNext[] = [];
  private readonly requests = new Set<Promise<void>>();
  private paused = false;
  private pauseTimer: NodeJS.Timeout | undefined;
  private queueClosed = false;

  constructor(private readonly config: Pick<WorkerConfig, 'maxInflight'> & CallDeps['config'], private readonly deps: LoopDeps) {
    this.slots = new FunctionSlots(config.maxInflight, deps.functionLimit);
    // Every running call listens on it (run-call.ts): up to max_inflight listeners is not a leak.
    this.abandon.setMaxListeners(0);
    this.cutCallbacks.setMaxListeners(0);
    this.control = { signal: this.abandon, abandoned: () => this.abandon.aborted, draining: this.draining, cutCallbacks: this.cutCallbacks };
    this.callDeps = { ...deps, config };
    this.fill();
  }

  /** Calls being worked right now. */
  inflight(): number {
    return this.running.size;
  }

  /**
   * Stop leasing; wait up to graceMs for in-flight calls, then abandon them (their leases lapse). No callback is
   * started meanwhile, and one under way gets CALLBACK_GRACE_MS before it is cut: either way its call is released
   * for the next worker, which delivers it (run-call.ts).
   */
  async stop(graceMs: number): Promise<void> {
    this.leasing.abort();
    this.draining.abort();
    const cut = setTimeout(() => this.cutCallbacks.abort(), Math.min(graceMs, CALLBACK_GRACE_MS));
    clearTimeout(this.pauseTimer);
    for (const p of this.pending) p.abort.abort();
    this.pending = [];
    await Promise.allSettled([...this.requests]);
    if (this.running.size === 0) return;
    this.deps.log.info('worker draining', { inflight: this.running.size, graceMs });
    const drained = Promise.allSettled([...this.running]).then(() => true);
    const timers = new AbortController();
    try {
      if (await Promise.race([drained, pause(graceMs, timers.signal).then(() => false)])) return;
      this.deps.log.warn('worker stopped with calls unfinished; their leases lapse and they run again elsewhere', { inflight: this.running.size });
      this.abandon.abort();
      await Promise.race([drained, pause(ABANDON_WAIT_MS, timers.signal)]);
    } finally {
      timers.abort();
      clearTimeout(cut);
    }
  }

  /** Ask for as many calls as there are free slots (at most LEASE_AHEAD waiting at once). */
  private fill(): void {
    const { maxInflight } = this.config;
    let room: Map<string, number> | undefined;
    while (!this.leasing.signal.aborted && !this.paused && !this.queueClosed && this.pending.length < LEASE_AHEAD
      && this.invoking + this.pending.length < maxInflight && this.held + this.pending.length < 2 * maxInflight) {
      // The waiters before it are up to date (every change of a room or of the waiters refreshes them first):
      // only the new one's set is computed.
      const entry: PendingNext = { busy: this.busyAt(this.pending.length, room ??= this.rooms()), abort: new CallAbort() };
      this.pending.push(entry);
      // beginAttempt: a lease is worked at once, so its attempt starts in the lease's own write (run-call's
      // beginAttempt() then writes nothing on a backend that does it; a busy fallback nak withdraws it).
      const request = this.deps.queue.next({ signal: entry.abort, busy: entry.busy, beginAttempt: true })
        .then((lease) => this.received(entry, lease), (err: unknown) => this.failed(entry, err))
        .finally(() => this.requests.delete(request));
      this.requests.add(request);
    }
  }

  private received(entry: PendingNext, lease: Lease | null): void {
    this.forget(entry);
    if (lease !== null) this.work(lease);
    // null without an abort of ours means the queue closed under us: nothing more to do.
    else if (!entry.abort.aborted && !this.leasing.signal.aborted && !this.queueClosed) {
      this.queueClosed = true;
      this.deps.log.warn('queue closed; worker stops leasing');
    }
    this.refreshBusy();
    this.fill();
  }

  private failed(entry: PendingNext, err: unknown): void {
    this.forget(entry);
    this.deps.log.warn('could not lease a call', { reason: (err as Error).message });
    if (this.paused || this.leasing.signal.aborted) return;
    // Everyone waiting starts again after the pause: one failure is reported once, not per waiter.
    this.paused = true;
    for (const p of this.pending) p.abort.abort();
    this.pending = [];
    this.pauseTimer = setTimeout(() => { this.paused = false; this.fill(); }, QUEUE_ERROR_PAUSE_MS);
  }

  private forget(entry: PendingNext): void {
    const at = this.pending.indexOf(entry);
    if (at >= 0) this.pending.splice(at, 1);
  }

  /**
   * The k-th waiting next() (0 = served first) must not get a function that k earlier leases could
   * already bring to a limit: k ≥ room. So a batch never overshoots a limit, and the
   * head waiter is refused only functions really at their limit. When a name leaves a set, the backend
   * is told to look again for every waiting next() (Queue.lookAgain); with a backend without it, the last
   * waiter is asked again: a new next() makes the backend look again for every waiting next().
   */
  private refreshBusy(): void {
    // This runs three times per call (a lease received, its invocation over, the call finished) over up to
    // LEASE_AHEAD waiters, so it moves boundaries instead of rebuilding sets. Every set was computed from one
    // snapshot of the rooms (here, or by fill() for a new waiter), and removing a waiter keeps the order: the
    // waiters holding a name are always a suffix of the queue. So for each name that is in the last waiter's
    // set or must be in some set now, the suffix's start moves to the name's room, touching only the waiters
    // in between (one or two per change: a drain of one function went through 64 waiters per refresh).
    const n = this.pending.length;
    if (n === 0) return;
    const room = this.rooms();
    const names = new Set(this.pending[n - 1]!.busy);
    for (const [name, first] of room) if (first < n) names.add(name);
    let removed = false;
    for (const name of names) {
      const first = Math.max(0, Math.min(room.get(name) ?? n, n));
      for (let k = first; k < n && !this.pending[k]!.busy.has(name); k++) this.pending[k]!.busy.add(name);
      for (let k = first - 1; k >= 0 && this.pending[k]!.busy.delete(name); k--) removed = true;
    }
    if (!removed) return;
    if (this.deps.queue.lookAgain !== undefined) {
      this.deps.queue.lookAgain();
      return;
    }
    const last = this.pending.pop()!;
    last.abort.abort(ASK_AGAIN);
    this.fill();
  }

  /** Per function with calls held or known to the resolver: the first waiter position that must skip it (its room). */
  private rooms(): Map<string, number> {
    const room = new Map<string, number>();
    for (const name of this.slots.names()) room.set(name, this.slots.room(name));
    for (const fn of this.deps.resolver.list()) if (!room.has(fn.name)) room.set(fn.name, this.slots.limit(fn.name));
    return room;
  }

  /** The busy set of the waiter at position k. */
  private busyAt(k: number, room: ReadonlyMap<string, number>): Set<string> {
    const busy = new Set<string>();
    for (const [name, first] of room) if (k >= first) busy.add(name);
    return busy;
  }

  private work(lease: Lease): void {
    const name = lease.request.functionName;
    if (!this.slots.take(name)) {
      lease.nak(FUNCTION_BUSY_DELAY_MS).catch(() => { /* it lapses instead */ });
      return;
    }
    this.invoking++;
    this.held++;
    let invoking = true;
    const endInvocation = (): void => {
      invoking = false;
      this.invoking--;
      this.slots.invoked(name);
    };
    const invoked = (): void => {
      if (!invoking) return;
      endInvocation();
      this.refreshBusy();
      this.fill();
    };
    const call = runCall(lease, this.callDeps, this.control, invoked).finally(() => {
      this.running.delete(call);
      if (invoking) endInvocation();
      this.held--;
      this.slots.release(name);
      this.refreshBusy();
      this.fill();
    });
    this.running.add(call);
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); }
    signal?.addEventListener('abort', done, { once: true });
  });
}
