// The queue over time, for the dashboard's charts: every interval, depth by status (queue.depth()) and
// what happened since the last sample (counted from queue.watch()). It runs only while a queue view is
// open, so a router nobody looks at never scans its queue; history is kept in memory between views.

import type { CallChange, CallStatus, Queue } from '../queue/index.js';
import { isFinal } from '../queue/index.js';

/** One point of the charts. Counts are per interval; `queued`, `running`, `deadLetters` are levels. */
export interface QueueSample {
  readonly at: number;
  readonly queued: number;
  readonly running: number;
  /** Failed and expired records still kept (the dead letters waiting for a retry). */
  readonly deadLetters: number;
  readonly accepted: number;
  readonly completed: number;
  readonly retried: number;
  readonly deadLettered: number;
}

export interface QueueSampler {
  readonly intervalMs: number;
  history(): readonly QueueSample[];
  /** Get every new sample; sampling runs while anyone follows. Resolves with the unsubscribe. */
  follow(onSample: (s: QueueSample) => void): Promise<() => void>;
  close(): void;
}

const DEFAULT_INTERVAL_MS = 2_000;
/** 30 minutes at the default interval. */
const KEEP = 900;

/** Sample `queue` every `intervalMs` while followed. */
export function createQueueSampler(queue: Queue, intervalMs = DEFAULT_INTERVAL_MS, now: () => number = Date.now): QueueSampler {
  const history: QueueSample[] = [];
  const followers = new Set<(s: QueueSample) => void>();
  let counts = { accepted: 0, completed: 0, retried: 0, deadLettered: 0 };
  let timer: NodeJS.Timeout | null = null;
  let unwatch: Promise<() => void> | null = null;

  const count = (c: CallChange): void => {
    if (c.previous === null) counts.accepted++;
    if (c.previous === c.status) return;
    if (isFinal(c.status) && c.status !== 'cancelled' && (c.previous === null || !isFinal(c.previous))) counts.completed++;
    if ((c.status === 'failed' || c.status === 'expired') && (c.previous === null || !isFinal(c.previous))) counts.deadLettered++;
    if (c.previous === 'running' && c.status === 'queued') counts.retried++;
  };

  const sample = async (): Promise<void> => {
    const levels: Partial<Record<CallStatus, number>> = {};
    for (const row of await queue.depth().catch(() => [])) levels[row.status] = (levels[row.status] ?? 0) + row.count;
    const s: QueueSample = {
      at: now(), queued: levels.queued ?? 0, running: levels.running ?? 0,
      deadLetters: (levels.failed ?? 0) + (levels.expired ?? 0), ...counts,
    };
    counts = { accepted: 0, completed: 0, retried: 0, deadLettered: 0 };
    history.push(s);
    if (history.length > KEEP) history.splice(0, history.length - KEEP);
    for (const fn of followers) fn(s);
  };

  const stop = (): void => {
    if (timer !== null) clearInterval(timer);
    timer = null;
    void unwatch?.then((off) => off());
    unwatch = null;
  };

  return {
    intervalMs,
    history: () => history,
    async follow(onSample) {
      followers.add(onSample);
      if (timer === null) {
        unwatch = queue.watch(count);
        await unwatch.catch(() => undefined);
        timer = setInterval(() => { void sample(); }, intervalMs).unref();
      }
      return () => {
        followers.delete(onSample);
        if (followers.size === 0) stop();
      };
    },
    close() { followers.clear(); stop(); },
  };
}
