// The queue contract: one suite every backend in the table runs (test/queue/contract.test.ts, on a real
// sqlite file and a real nats-server). A backend is done when this passes unmodified.

import type { Test } from 'tap';
import { batchContract } from './contract-batch.js';
import { deliveryContract } from './contract-delivery.js';
import type { ContractOptions, MakeQueue } from './contract-helpers.js';
import { recordsContract } from './contract-records.js';
import { timeContract } from './contract-time.js';

export type { ContractOptions, MakeQueue } from './contract-helpers.js';

/** Run the whole contract against the queues `makeQueue` opens (same `t` → same store, see MakeQueue). */
export function queueContract(t: Test, makeQueue: MakeQueue, opts: ContractOptions = {}): void {
  const resolved: Required<ContractOptions> = {
    ackWaitMs: opts.ackWaitMs ?? 600,
    retentionSlackMs: opts.retentionSlackMs ?? 5000,
    skip: opts.skip ?? [],
  };
  t.test('delivery', async (t) => deliveryContract(t, makeQueue, resolved));
  t.test('records', async (t) => recordsContract(t, makeQueue, resolved));
  t.test('time', async (t) => timeContract(t, makeQueue, resolved));
  t.test('batch', async (t) => batchContract(t, makeQueue, resolved));
}
