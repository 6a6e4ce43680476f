// The queue's public surface: createQueue and the URL check (backends.ts), the Queue interface
// (queue.ts), its errors and record vocabulary. The rest of the router imports the queue from here.

import type { Queue } from './queue.js';

export * from './errors.js';
export * from './queue.js';
export { BACKENDS, createQueue, parseQueueUrl, type CreateQueueOptions } from './backends.js';
export { CALL_STATUSES, FINAL_STATUSES, REDRIVABLE_STATUSES, isFinal, newRecord, requestDifferences, type RequestPart } from './record.js';

/** The largest request body the queue can store (jetstream: NATS max_payload minus headers); undefined = no own limit. */
export function queueMaxBodyBytes(queue: Queue): number | undefined {
  const limit = (queue as { maxBodyBytes?: unknown }).maxBodyBytes;
  return typeof limit === 'number' ? limit : undefined;
}
