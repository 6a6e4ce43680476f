// Open the queue a config names, for the router and the worker alike. Both start in any order beside
// their queue: a NATS that is not up yet makes calls 503 until it is, instead of failing the start.

import type { Logger } from '../common/log.js';
import { ConfigError } from '../common/options.js';
import type { RouterConfig } from './config.js';
import { QueueError, createQueue, type Queue } from './queue/index.js';

/** How long a start waits for a queue that connects in the background before going on without it. */
const QUEUE_CONNECT_GRACE_MS = 5_000;
// How often the start asks a connecting queue whether it is up.
const HEALTH_POLL_MS = 50;

type QueueSettings = Pick<RouterConfig, 'queue' | 'ackWaitMs' | 'maxEventAgeMs' | 'callRetentionMs'>;

/**
 * The queue with the config's timing settings, connected when it can be within QUEUE_CONNECT_GRACE_MS.
 * A queue that refuses to open (bad URL parameters, missing backend, a path that cannot hold the file) is
 * a configuration problem.
 */
export async function openQueue(config: QueueSettings, log: Logger): Promise<Queue> {
  const queue = await createConfiguredQueue(config, log);
  await awaitConnected(queue, log);
  return queue;
}

/** The queue object, not waiting for a backend that connects in the background (NATS). */
export async function createConfiguredQueue(config: QueueSettings, log: Logger): Promise<Queue> {
  try {
    return await createQueue(config.queue, {
      ackWaitMs: config.ackWaitMs, maxEventAgeMs: config.maxEventAgeMs, callRetentionMs: config.callRetentionMs,
      connectInBackground: true, log,
    });
  } catch (err) {
    if (err instanceof QueueError) throw new ConfigError([`queue (${config.queue}): ${err.message}`]);
    // The SQLite file's folder cannot be made or opened (a path through a file, a read-only mount).
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw new ConfigError([`queue (${config.queue}): ${(err as Error).message}`]);
    throw err;
  }
}

/**
 * Resolves once the queue answers its health check, or after QUEUE_CONNECT_GRACE_MS (with a warning), or
 * at once when `stop` is aborted: a NATS that is up is connected before the first async call is taken.
 */
export async function awaitConnected(queue: Queue, log: Logger, stop?: AbortSignal): Promise<void> {
  const deadline = Date.now() + QUEUE_CONNECT_GRACE_MS;
  for (;;) {
    const health = await queue.health();
    if (health.ok || stop?.aborted === true) return;
    if (Date.now() >= deadline) {
      log.warn('starting without the queue; async calls get 503 until it is reachable', { queue: health.backend, reason: health.detail });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
}
