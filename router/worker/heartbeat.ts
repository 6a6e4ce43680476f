// Keep a lease alive while a call runs: ack_wait is a heartbeat, not a deadline, so a call that runs
// longer than ack_wait is never handed to a second worker.

import { CallStateError, LeaseLostError, type Lease } from '../queue/index.js';

// Three beats per ack_wait: one slow write (a busy sqlite file, a NATS round trip) still leaves two.
const BEATS_PER_ACK_WAIT = 3;

/** Call lease.working() every ackWait/3 until stop(); `onLost` hears the first failure that means the lease is gone. */
export function startHeartbeat(lease: Lease, ackWaitMs: number, onLost: (err: unknown) => void): { stop(): void } {
  let stopped = false;
  let inFlight = false;
  const timer = setInterval(() => {
    if (stopped || inFlight) return;
    inFlight = true;
    lease.working().catch((err: unknown) => {
      // A locked database or a NATS hiccup is worth the next beat; a lost lease is final.
      if (!stopped && (err instanceof LeaseLostError || err instanceof CallStateError)) onLost(err);
    }).finally(() => { inFlight = false; });
  }, Math.max(10, Math.floor(ackWaitMs / BEATS_PER_ACK_WAIT)));
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
