// Open the queue a config names, for the router and the worker alike. Both start in any order beside
// their queue: a NATS that is not up yet makes calls 503 until it is, instead of failing the start.

import type { Logger } from '../common/log.js';
import { ConfigError } from '../common/options.js';
import type { RouterConfig } from './config.js';
import { QueueError, createQueue, type Queue } from './queue/index.js';

/** How long a start waits for a queue that connects in the background before listening without it. */
const QUEUE_CONNECT_GRACE_MS = 5_000;
// How often the start asks a connecting queue whether it is up.
const HEALTH_POLL_MS = 50;

/**
 * The queue with the config's timing settings, connected when it can be within QUEUE_CONNECT_GRACE_MS.
 * A queue that refuses to open (bad URL parameters, missing backend) is a configuration problem.
 */
export async function openQueue(
  config: Pick<RouterConfig, 'queue' | 'ackWaitMs' | 'maxEventAgeMs' | 'callRetentionMs'>, log: Logger,
): Promise<Queue> {
  let queue: Queue;
  try {
    queue = await createQueue(config.queue, {
      ackWaitMs: config.ackWaitMs, maxEventAgeMs: config.maxEventAgeMs, callRetentionMs: config.callRetentionMs,
      connectInBackground: true, log,
    });
  } catch (err) {
    if (err instanceof QueueError) throw new ConfigError([`queue (${config.queue}): ${err.message}`]);
    throw err;
  }
  // A NATS that is up should be connected before `listening`, or the first calls would get 503.
  const deadline = Date.now() + QUEUE_CONNECT_GRACE_MS;
  for (;;) {
    const health = await queue.health();
    if (health.ok) break;
    if (Date.now() >= deadline) {
      log.warn('starting without the queue; async calls get 503 until it is reachable', { queue: health.backend, reason: health.detail });
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
  return queue;
}
