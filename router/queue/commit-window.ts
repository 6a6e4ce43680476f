// When a batch of queue writes starts. By default at the end of the event-loop turn (setImmediate): what
// was submitted in the turn commits together. While enough leases are held that more changes are sure to
// follow, a short window lets several turns share the batch: PostgreSQL's commit_delay with
// commit_siblings, a little latency under load and none for a lone call. In a saturated sqlite drain the
// transactions hardly grew (~9 to ~10 calls: the worker's turns are long already); what the window changed
// is that the leases of several turns are handed out together, so the worker's requests reach the function
// in bursts, and both sides spent less CPU per call (sqlite.ts has the figures).

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
