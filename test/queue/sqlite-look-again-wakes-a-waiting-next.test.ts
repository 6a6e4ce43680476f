// Queue.lookAgain on sqlite: a waiting next() whose busy set lost a function gets that function's call at the
// next pump, not at the poll interval (here 10 s, so the test fails without it).

import { join } from 'node:path';
import t from 'tap';
import { createQueue, type NewCall } from '../../router/queue/index.js';

function call(id: string, functionName: string): NewCall {
  return { id, functionName, method: 'POST', path: '', query: '', headers: {}, body: Buffer.from(id), callbackUrl: null };
}

t.test('a waiting next() looks again when told, with its busy set as it is now', async (t) => {
  const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`, { ackWaitMs: 30_000, sqlite: { pollIntervalMs: 10_000 } });
  t.teardown(() => queue.close());
  await queue.enqueue(call('a-1', 'a'));
  const busy = new Set(['a']);
  const waiting = queue.next({ busy, timeoutMs: 3_000 });
  // The pump looked (woken by next()) and found only a busy function's call: the waiter sleeps until the poll.
  await new Promise((resolve) => setTimeout(resolve, 100));
  busy.delete('a');
  queue.lookAgain!();
  const lease = await waiting;
  t.equal(lease?.request.id, 'a-1', 'leased before the 3 s deadline of the waiter (the poll would come at 10 s)');
  t.equal(lease?.deliveryCount, 1);
});
