// When a batch of queue writes starts. By default at the end of the event-loop turn (setImmediate): what
// was submitted in the turn commits together. A worker with many calls in flight finishes them a few per
// turn (each function answer is its own socket read), so its transactions stayed small (~9 calls each),
// and every transaction pays a BEGIN, a COMMIT and the WAL frames of each page it dirtied, however few
// rows changed on it. While enough leases are held that more changes are sure to follow, a short window
// gathers several turns into one transaction: PostgreSQL's commit_delay with commit_siblings, the same
// trade of a little latency for fewer commits under load and none when alone.

/** Stops a scheduled start that has not run yet. */
export type Cancel = () => void;
/** Runs `fn` later; the returned function cancels it. */
export type Schedule = (fn: () => void) => Cancel;

/** At the end of this event-loop turn. */
export const atTurnEnd: Schedule = (fn) => {
  const handle = setImmediate(fn);
  return () => clearImmediate(handle);
};

/** After `windowMs` while `crowded()` (more writes are coming), else at the end of the turn. */
export function commitWindow(crowded: () => boolean, windowMs: number): Schedule {
  return (fn) => {
    if (!crowded()) return atTurnEnd(fn);
    const handle = setTimeout(fn, windowMs);
    return () => clearTimeout(handle);
  };
}
