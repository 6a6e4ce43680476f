// Per-function consumers on jetstream: a function the caller names busy is not pulled from, so its
// backlog never stands in front of another function's calls, and its calls stay queued untouched
// (deliveryCount 1 when they are finally leased). Without `busy`, calls come oldest first across functions.

import t from 'tap';
import { createQueue, type NextOptions } from '../../router/queue/index.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { call } from './jetstream-workers.js';

// NextOptions.busy is the interface addition of issue #18 (r18-worker's branch); typed here until it is merged.
type WithBusy = NextOptions & { readonly busy?: ReadonlySet<string> };

t.test('a busy function\'s backlog does not block another function', { timeout: 60_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const queue = await createQueue(node.url, { ackWaitMs: 5_000, jetstream: { name: 'busy' } });
  t.teardown(() => queue.close());
  for (let i = 0; i < 50; i++) await queue.enqueue(call(`slow-${i}`, 'slow'));
  await queue.enqueue(call('fast-1', 'fast'));
  const busy = new Set(['slow']);
  const next = (options: WithBusy): ReturnType<typeof queue.next> => queue.next(options);

  const fast = await next({ busy, timeoutMs: 5_000 });
  t.equal(fast?.request.id, 'fast-1', 'the fast call is leased past 50 older calls of the busy function');
  await fast!.beginAttempt();
  await fast!.finish({ status: 'succeeded', result: null });
  await fast!.ack();
  t.equal(await next({ busy, timeoutMs: 300 }), null, 'only the busy function has calls: nothing to hand out');
  const waiting = next({ busy, timeoutMs: 5_000 });
  await queue.enqueue(call('fast-2', 'fast'));
  t.equal((await waiting)?.request.id, 'fast-2', 'a call of another function arriving meanwhile is handed out');

  const slow = await queue.next({ timeoutMs: 5_000 });
  t.match(slow, { request: { id: 'slow-0' }, deliveryCount: 1 }, 'no longer busy: the oldest, never delivered before');
});
