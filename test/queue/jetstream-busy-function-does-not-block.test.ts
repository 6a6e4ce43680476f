// Per-function consumers on jetstream: a function the caller names busy is not pulled from, so its
// backlog never stands in front of another function's calls, and its calls stay queued untouched
// (deliveryCount 1 when they are finally leased). Without `busy`, calls come oldest first across functions.

import t, { type Test } from 'tap';
import { createQueue, type Queue } from '../../router/queue/index.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { call } from './jetstream-workers.js';

t.test('a busy function\'s backlog does not block another function', { timeout: 60_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const queue = await createQueue(node.url, { ackWaitMs: 5_000, jetstream: { name: 'busy' } });
  t.teardown(() => queue.close());
  for (let i = 0; i < 50; i++) await queue.enqueue(call(`slow-${i}`, 'slow'));
  await queue.enqueue(call('fast-1', 'fast'));
  const busy = new Set(['slow']);
  const next = queue.next.bind(queue);

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

/**
 * A queue named `name` on a fresh nats-server holding two calls of function `only`, the first of them leased (so the
 * function's consumer is known to this queue and a busy set can name every source); null when no nats-server is here.
 */
async function oneFunctionLeasedOnce(t: Test, name: string): Promise<{ node: { url: string }; queue: Queue } | null> {
  if (!requireNats(t)) return null;
  const node = await startNats(t);
  const queue = await createQueue(node.url, { ackWaitMs: 5_000, jetstream: { name } });
  t.teardown(() => queue.close());
  await queue.enqueue(call('only-0', 'only'));
  await queue.enqueue(call('only-1', 'only'));
  const first = await queue.next({ timeoutMs: 5_000 });
  t.equal(first?.request.id, 'only-0', 'the first call is leased: the function\'s consumer is known to this queue');
  return { node, queue };
}

t.test('a next() paused because its function was busy looks again when the worker asks anew', { timeout: 60_000 }, async (t) => {
  const started = await oneFunctionLeasedOnce(t, 'asked-again');
  if (started === null) return;
  const { queue } = started;
  const next = queue.next.bind(queue);

  // Every function this next() may take is busy: it pauses (up to 250 ms, here its 200 ms deadline).
  const live = new Set(['only']);
  const paused = next({ busy: live, timeoutMs: 200 });
  await new Promise((r) => setTimeout(r, 60));
  // The worker's slot freed: the function leaves the live set and the loop asks again with a new next()
  // (refreshBusy in router/worker/loop.ts), whose own set still names the function.
  live.delete('only');
  const asked = new AbortController();
  const again = next({ busy: new Set(['only']), signal: asked.signal });
  t.equal((await paused)?.request.id, 'only-1', 'the paused next() looked again at once and got the call, before its deadline');
  asked.abort();
  t.equal(await again, null, 'the new next() is withdrawn');
});

t.test('a next() paused because its function was busy looks again at lookAgain()', { timeout: 60_000 }, async (t) => {
  const started = await oneFunctionLeasedOnce(t, 'look-again');
  if (started === null) return;
  const { queue } = started;

  const live = new Set(['only']);
  const paused = queue.next({ busy: live, timeoutMs: 200 });
  await new Promise((r) => setTimeout(r, 60));
  // The worker's slot freed: the function leaves the live set and the loop tells the backend (no new next()).
  live.delete('only');
  queue.lookAgain!();
  t.equal((await paused)?.request.id, 'only-1', 'the paused next() looked again at once and got the call, before its deadline');
});

t.test('a next() whose set names every function it knows does not pull, and still finds a function that appears later', { timeout: 60_000 }, async (t) => {
  const started = await oneFunctionLeasedOnce(t, 'appears');
  if (started === null) return;
  const { node, queue } = started;

  // Every function this next() knows is busy for it: it pauses without a fill (jetstream-next.ts), and a function
  // whose first call another router accepts (its consumer created there) is found once the list of consumers is
  // read again (every 2 s while anything asks).
  const busy = new Set(['only']);
  const begin = Date.now();
  const paused = queue.next({ busy, timeoutMs: 8_000 });
  await new Promise((r) => setTimeout(r, 100));
  const other = await createQueue(node.url, { ackWaitMs: 5_000, jetstream: { name: 'appears' } });
  t.teardown(() => other.close());
  await other.enqueue(call('new-0', 'newcomer'));
  const got = await paused;
  t.equal(got?.request.id, 'new-0', 'the paused next() got the new function\'s call, not the busy one\'s');
  t.ok(Date.now() - begin < 5_000, `within the list's refresh and one pause (${Date.now() - begin} ms)`);
  await got?.beginAttempt();
  await got?.finish({ status: 'succeeded', result: null });
  await got?.ack();
  const slow = await queue.next({ timeoutMs: 5_000 });
  t.match(slow, { request: { id: 'only-1' }, deliveryCount: 1 }, 'the busy function\'s call was never pulled meanwhile');
});
