// Waiting out another process's write lock without ever blocking the event loop. better-sqlite3 is
// synchronous: with a busy_timeout, a statement that meets a lock held by another process (a second
// worker, a backup, an admin shell inside BEGIN IMMEDIATE) sleeps inside SQLite and the whole process
// (every sync /function/ call with it) stops until the lock is freed. So the connection runs with
// busy_timeout = 0: a locked file answers SQLITE_BUSY at once, and the operation is tried again here
// after an asynchronous, jittered pause, until its budget runs out (then QueueBusyError: 503 + Retry-After).

import { setTimeout as sleep } from 'node:timers/promises';
import { monotonicMs } from '../../../common/clock.js';
import { QueueBusyError } from '../errors.js';

/**
 * What an accept, a read, a cancel or a redrive waits for a lock, in total: another process's write
 * holds it for microseconds to a few milliseconds (one fsync), so a second rides out any normal
 * contention, and a client told 503 after it retries while its call still matters.
 */
export const CLIENT_BUDGET_MS = 1_000;

// Pauses between tries: 1 ms, then 2 ms for the first SHORT_TRIES tries (about 100 ms), then doubling
// to 50 ms; each a draw in [half, whole]. The usual holder is another process's commit (a transaction
// and its fsync), taken again and again while that process is busy: a waiter must look again within a
// commit's length to catch the gaps between them. Doubling to 50 ms from the start lost them (a
// `whippet worker` beside a router accepting 3,500 calls/s paused up to 50 ms at a time and fell
// behind by 4,000-7,500 calls in 8 s; with 2 ms pauses it stayed within ~1,000). A lock still held
// after ~100 ms is something else (a backup, an open admin transaction): from then on the pauses grow
// to 50 ms, which keeps waiting cheap (20 tries a second, each failing at once) while noticing its end soon.
const FIRST_PAUSE_MS = 1;
const SHORT_PAUSE_MS = 2;
const SHORT_TRIES = 50;
const MAX_PAUSE_MS = 50;

/** Whether a driver error (or the queue error made from it) means "another connection holds the lock". */
export function isBusy(err: unknown): boolean {
  if (err instanceof QueueBusyError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** The pause before try number `attempt + 1` (attempt ≥ 1), for a draw `jitter` in [0, 1). */
export function busyPauseMs(attempt: number, jitter: number): number {
  const whole = attempt <= SHORT_TRIES
    ? Math.min(SHORT_PAUSE_MS, FIRST_PAUSE_MS * 2 ** Math.max(0, attempt - 1))
    : Math.min(MAX_PAUSE_MS, SHORT_PAUSE_MS * 2 ** (attempt - SHORT_TRIES));
  return whole * (0.5 + jitter / 2);
}

// One draw per failure, not per caller: the accepts of one group commit fail with the same error, so
// they pause alike and commit together again (group commit survives contention). Other processes
// draw their own, which is what spreads the processes apart.
const draws = new WeakMap<object, number>();

function drawFor(err: unknown, random: () => number): number {
  if (typeof err !== 'object' || err === null) return random();
  let draw = draws.get(err);
  if (draw === undefined) { draw = random(); draws.set(err, draw); }
  return draw;
}

export interface RetryOptions {
  readonly random?: () => number;
}

/**
 * Run `op` until it does not fail with SQLITE_BUSY, pausing asynchronously between tries; past
 * `budgetMs` the failure is QueueBusyError. Any other error ends the retries at once.
 */
export function retryWhileBusy<T>(op: () => T | Promise<T>, budgetMs: number, options: RetryOptions = {}): Promise<T> {
  // The first try runs as a plain call: the lock is free nearly always, and the hot paths (accepts,
  // a lease's writes) then pay nothing for the retry machinery.
  const started = monotonicMs();
  let first: T | Promise<T>;
  try {
    first = op();
  } catch (err) {
    return isBusy(err) ? retryLater(op, budgetMs, options, started, err) : Promise.reject(err);
  }
  if (!(first instanceof Promise)) return Promise.resolve(first);
  return first.catch((err: unknown) => isBusy(err) ? retryLater(op, budgetMs, options, started, err) : Promise.reject(err));
}

async function retryLater<T>(op: () => T | Promise<T>, budgetMs: number, options: RetryOptions, started: number, firstErr: unknown): Promise<T> {
  const random = options.random ?? Math.random;
  let err = firstErr;
  for (let attempt = 1; ; attempt++) {
    const left = budgetMs - (monotonicMs() - started);
    if (left <= 0) throw new QueueBusyError(Math.round(monotonicMs() - started), { cause: err });
    await sleep(Math.min(left, busyPauseMs(attempt, drawFor(err, random))));
    try {
      return await op();
    } catch (next) {
      if (!isBusy(next)) throw next;
      err = next;
    }
  }
}

/** Lease attempts that met the lock: "nothing now", and when to look again (growing while it lasts). */
export class BusyBackoff {
  private failures = 0;
  private until = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** A try met the lock: the pause before the next one. */
  busy(): number {
    this.failures++;
    const pause = busyPauseMs(this.failures, this.random());
    this.until = monotonicMs() + pause;
    return pause;
  }

  /** A try got through: the next one is not held back. */
  clear(): void {
    this.failures = 0;
    this.until = 0;
  }

  /** Milliseconds until the next try is worth making; 0 when it is now. */
  waitMs(): number {
    return Math.max(0, this.until - monotonicMs());
  }
}
