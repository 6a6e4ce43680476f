// The worker loop in-process, on a real sqlite file and real upstream sockets: max_inflight, the
// per-function limit, and graceful stop (finish in time, or abandon so the lease lapses to another worker).
import { waitFor } from '../helpers/wait.js';
import t from 'tap';
import { join } from 'node:path';
import { createLogger } from '../../common/log.js';
import { onAbort } from '../../common/call-abort.js';
import { createQueue, type NewCall, type Queue } from '../../router/queue/index.js';
import { createStaticResolver } from '../../router/resolver.js';
import { createUpstreamDispatcher } from '../../router/upstream.js';
import { withRequestApi } from '../../router/dispatcher-api.js';
import { WorkerLoop } from '../../router/worker/loop.js';
import { startUpstream } from '../helpers/start-router.js';

const log = createLogger({ level: 'error', write: () => {} });

function call(id: string, functionName: string, path = '', callbackUrl: string | null = null): NewCall {
  return { id, functionName, method: 'POST', path, query: '', headers: {}, body: Buffer.from(id), callbackUrl };
}

type Leasing = Pick<Queue, 'next' | 'lookAgain'>;

async function setup(t: { teardown(fn: () => unknown): void; testdir(): string }, handler: Parameters<typeof startUpstream>[1], options: { ackWaitMs?: number; maxInflight?: number; limit?: number; file?: string; leasing?: (queue: Queue) => Leasing; maxResultBytes?: number } = {}) {
  const up = await startUpstream(t, handler);
  const file = options.file ?? join(t.testdir(), 'q.db');
  const queue = await createQueue(`sqlite:${file}`, { ackWaitMs: options.ackWaitMs ?? 5_000, maxResultBytes: options.maxResultBytes });
  const dispatcher = withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: 10_000 }));
  const resolver = createStaticResolver([['a', new URL(up.url)], ['b', new URL(up.url)]]);
  const worker = new WorkerLoop({
    maxInflight: options.maxInflight ?? 16, ackWaitMs: options.ackWaitMs ?? 5_000, upstreamTimeoutMs: 10_000,
    retryHttpCodes: [503], maxRetryAttempts: 3, initialRetryWaitMs: 50, maxRetryWaitMs: 100, callbackSecret: undefined,
  }, {
    queue: options.leasing?.(queue) ?? queue, resolver, dispatcher, log,
    functionLimit: options.limit === undefined ? undefined : (name) => (name === 'a' ? options.limit : undefined),
    maxResultBytes: options.maxResultBytes,
  });
  t.teardown(async () => { await worker.stop(0); await queue.close(); await dispatcher.close(); });
  return { up, queue, worker, file };
}

/** A callback receiver that answers nothing until answerAll(): every call that reaches its callback waits there. */
async function holdingReceiver(t: Parameters<typeof startUpstream>[0]) {
  const held: Array<() => void> = [];
  const { url } = await startUpstream(t, (req, res) => { req.resume(); held.push(() => res.end()); });
  return { url: `${url}/cb`, waiting: () => held.length, answerAll: () => { for (const answer of held.splice(0)) answer(); } };
}

const allDone = (queue: Queue, n: number) => async () => (await queue.list({ status: 'succeeded' })).length === n;

t.test('never more than max_inflight calls at once', async (t) => {
  let now = 0;
  let peak = 0;
  const { queue } = await setup(t, (req, res) => {
    peak = Math.max(peak, ++now);
    setTimeout(() => { now--; req.resume(); res.end('ok'); }, 100);
  }, { maxInflight: 3 });
  for (let i = 0; i < 10; i++) await queue.enqueue(call(`c${i}`, 'b'));
  await waitFor(allDone(queue, 10), 10_000, 'all 10 calls');
  t.equal(peak, 3, 'peak concurrency is max_inflight');
});

t.test('a slot is free once the function has answered; a worker holds at most 2 × max_inflight calls', async (t) => {
  let now = 0;
  let peak = 0;
  let invocations = 0;
  const { queue } = await setup(t, (req, res) => {
    invocations++;
    peak = Math.max(peak, ++now);
    setTimeout(() => { now--; req.resume(); res.end('ok'); }, 20);
  }, { maxInflight: 2 });
  const receiver = await holdingReceiver(t);
  for (let i = 0; i < 6; i++) await queue.enqueue(call(`s${i}`, 'a', '', receiver.url));
  await waitFor(() => receiver.waiting() === 4, 5_000, 'four callbacks waiting');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(invocations, 4, 'two slots invoked four calls while the first two callbacks waited, then leasing stopped at 2 × max_inflight held');
  t.equal(peak, 2, 'never more than max_inflight invocations at once');
  await waitFor(async () => { receiver.answerAll(); return (await queue.list({ status: 'succeeded' })).filter((c) => c.callback.state === 'delivered').length === 6; }, 10_000, 'all six delivered');
  t.equal(invocations, 6, 'each call invoked once');
});

t.test('a function whose callbacks hang holds at most twice its share; another function goes on', async (t) => {
  const invoked = { a: 0, b: 0 };
  const { queue } = await setup(t, (req, res) => {
    invoked[req.url === '/a' ? 'a' : 'b']++;
    req.resume();
    res.end('ok');
  }, { maxInflight: 4 });
  const receiver = await holdingReceiver(t);
  for (let i = 0; i < 10; i++) await queue.enqueue(call(`ha${i}`, 'a', '/a', receiver.url));
  // a's share of 4 slots is 3 invocations, 6 calls held with their callbacks waiting.
  await waitFor(() => receiver.waiting() === 6, 5_000, "six of a's callbacks waiting");
  for (let i = 0; i < 4; i++) await queue.enqueue(call(`hb${i}`, 'b', '/b'));
  await waitFor(async () => (await queue.list({ status: 'succeeded' })).filter((c) => c.functionName === 'b').length === 4, 5_000, "b's calls done");
  t.equal(invoked.a, 6, 'a stopped at twice its share while its callbacks waited');
  await waitFor(async () => { receiver.answerAll(); return (await queue.list({ status: 'succeeded' })).length === 14; }, 10_000, 'all calls done');
  t.equal(invoked.a, 10, "then a's other calls ran");
});

t.test('a per-function limit holds one function back, not the others', async (t) => {
  const now = { a: 0, b: 0 };
  const peak = { a: 0, b: 0 };
  const { queue } = await setup(t, (req, res) => {
    const fn = req.url === '/a' ? 'a' : 'b';
    peak[fn] = Math.max(peak[fn], ++now[fn]);
    setTimeout(() => { now[fn]--; req.resume(); res.end('ok'); }, 80);
  }, { maxInflight: 8, limit: 1 });
  for (let i = 0; i < 4; i++) {
    await queue.enqueue(call(`a${i}`, 'a', '/a'));
    await queue.enqueue(call(`b${i}`, 'b', '/b'));
  }
  await waitFor(allDone(queue, 8), 15_000, 'all 8 calls');
  t.equal(peak.a, 1, 'function a never ran twice at once');
  t.ok(peak.b > 1, `function b ran in parallel (${peak.b})`);
});

t.test('stop: in-flight calls that finish within the grace are settled', async (t) => {
  const { queue, worker } = await setup(t, (req, res) => setTimeout(() => { req.resume(); res.end('ok'); }, 200));
  await queue.enqueue(call('g1', 'a'));
  await waitFor(async () => (await queue.get('g1'))?.status === 'running', 5_000, 'running');
  await worker.stop(5_000);
  t.equal(worker.inflight(), 0);
  t.equal((await queue.get('g1'))?.status, 'succeeded', 'finished during the drain');
});

t.test('stop: a callback whose receiver does not answer is cut and left to the next worker, with no attempt counted', async (t) => {
  const receiver = await holdingReceiver(t);
  // ack_wait 60 s: the next worker can only have the call this soon if it was released, not left to lapse.
  const first = await setup(t, (req, res) => { req.resume(); res.end('result'); }, { ackWaitMs: 60_000 });
  await first.queue.enqueue(call('cb-stop', 'a', '', receiver.url));
  await waitFor(() => receiver.waiting() === 1, 5_000, 'the callback reaching a receiver that does not answer');
  await first.worker.stop(60_000); // returns after the callbacks' short grace, not the 60 s
  const left = (await first.queue.get('cb-stop'))!;
  t.equal(left.status, 'succeeded', 'the result is stored');
  t.match(left.callback, { state: 'pending', attempts: 0 }, 'the cut delivery is not counted as an attempt');
  await first.queue.close();

  const next = await setup(t, (req, res) => { req.resume(); res.end('not again'); }, { file: first.file, ackWaitMs: 60_000 });
  await waitFor(async () => { receiver.answerAll(); return (await next.queue.get('cb-stop'))?.callback.state === 'delivered'; }, 20_000, 'the callback delivered by the next worker');
  const done = (await next.queue.get('cb-stop'))!;
  t.equal(done.attempts.length, 1, 'the function ran once');
  t.equal(done.callback.attempts, 1, 'one delivery counted: the one that was answered');
});

t.test('stop: a callback already sending that is answered soon after is delivered, not cut (no second delivery)', async (t) => {
  const receiver = await holdingReceiver(t);
  const { queue, worker } = await setup(t, (req, res) => { req.resume(); res.end('result'); });
  await queue.enqueue(call('cb-soon', 'a', '', receiver.url));
  await waitFor(() => receiver.waiting() === 1, 5_000, 'the callback under way');
  const stopped = worker.stop(60_000);
  receiver.answerAll(); // answered after the stop began, well within the callbacks' grace
  await stopped;
  t.match((await queue.get('cb-soon'))!.callback, { state: 'delivered', attempts: 1 });
});

t.test('stop: a callback not yet started when the stop comes is left to the next worker', async (t) => {
  const release: Array<() => void> = [];
  const receiver = await holdingReceiver(t);
  const { queue, worker } = await setup(t, (req, res) => { release.push(() => { req.resume(); res.end('done'); }); });
  await queue.enqueue(call('cb-late', 'a', '', receiver.url));
  await waitFor(() => release.length === 1, 5_000, 'the invocation');
  const stopped = worker.stop(60_000);
  release[0]!(); // the function answers during the drain: its result is stored, its callback left
  await stopped;
  t.equal(receiver.waiting(), 0, 'no callback was sent while stopping');
  t.match((await queue.get('cb-late'))!, { status: 'succeeded', callback: { state: 'pending', attempts: 0 } });
});

t.test('stop: a callback carrying a result only this worker has (spooled) is not cut: waited for within the grace', async (t) => {
  const received: string[] = [];
  const answer: Array<() => void> = [];
  const receiver = await startUpstream(t, (req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => answer.push(() => { received.push(body); res.end(); }));
  });
  const { queue, worker } = await setup(t, (req, res) => { req.resume(); res.end('r'.repeat(100)); }, { maxResultBytes: 8 });
  await queue.enqueue(call('cb-big', 'a', '', `${receiver.url}/cb`));
  await waitFor(() => answer.length === 1, 5_000, 'the callback under way');
  const stopped = worker.stop(10_000);
  // Answered after the callbacks' short grace (2 s), within the stop's 10 s: a replayable callback would be cut by now.
  setTimeout(() => answer[0]!(), 2_500);
  await stopped;
  t.same(received, ['r'.repeat(100)], 'the whole result reached the receiver');
  t.match((await queue.get('cb-big'))!.callback, { state: 'delivered', attempts: 1 });
});

t.test('stop: a call past the grace is abandoned, its lease lapses, another worker runs it', async (t) => {
  const release: Array<() => void> = [];
  let hits = 0;
  const first = await setup(t, (req, res) => { hits++; release.push(() => { req.resume(); res.end('late'); }); }, { ackWaitMs: 400 });
  await first.queue.enqueue(call('hang-1', 'a'));
  await waitFor(() => hits === 1, 5_000, 'the first invocation');
  const stopped = Date.now();
  await first.worker.stop(100);
  t.ok(Date.now() - stopped < 2_000, 'stop returned soon after the grace');
  t.equal((await first.queue.get('hang-1'))?.status, 'running', 'left running: nothing settled it');
  await first.queue.close();

  let seen = 0;
  const second = await setup(t, (req, res) => { seen++; req.resume(); res.end('second'); }, { ackWaitMs: 400, file: first.file });
  await waitFor(async () => (await second.queue.get('hang-1'))?.status === 'succeeded', 5_000, 'the redelivery');
  const rec = (await second.queue.get('hang-1'))!;
  t.equal(seen, 1, 'the second worker invoked it after the lease lapsed');
  t.equal(rec.attempts.length, 2, 'both attempts recorded');
  t.match(rec.attempts[0], { statusCode: null, error: /lease expired|released/ });
  t.equal(Buffer.from(rec.result!.body!).toString(), 'second');
  for (const r of release) r();
});

t.test('a function at its share: a slot freed makes the backend look again, no waiting next() is withdrawn', async (t) => {
  // What the loop asks of the queue: next() calls, those withdrawn (aborted) before the drain ended, lookAgain() calls.
  const counting = (withLookAgain: boolean) => {
    const seen = { nexts: 0, withdrawn: 0, looks: 0, done: false };
    const leasing = (queue: Queue): Leasing => ({
      next: (options) => {
        seen.nexts++;
        onAbort(options?.signal, () => { if (!seen.done) seen.withdrawn++; });
        return queue.next(options);
      },
      ...(withLookAgain ? { lookAgain: () => { seen.looks++; queue.lookAgain!(); } } : {}),
    });
    return { seen, leasing };
  };
  for (const withLookAgain of [true, false]) {
    const { seen, leasing } = counting(withLookAgain);
    // max_inflight 4: one function's share is 3, so it sits at its limit while its backlog lasts.
    const { queue } = await setup(t, (req, res) => { setTimeout(() => { req.resume(); res.end('ok'); }, 10); }, { maxInflight: 4, leasing, file: join(t.testdir(), `q-${withLookAgain}.db`) });
    for (let i = 0; i < 40; i++) await queue.enqueue(call(`c${i}`, 'a'));
    await waitFor(allDone(queue, 40), 20_000, 'all 40 calls');
    seen.done = true;
    if (withLookAgain) {
      t.ok(seen.looks > 0, `the backend was told to look again (${seen.looks} times)`);
      t.equal(seen.withdrawn, 0, 'no waiting next() was withdrawn');
      t.ok(seen.nexts <= 40 + 4, `one next() per call, plus those still waiting (${seen.nexts})`);
    } else {
      t.ok(seen.withdrawn > 0, `a backend without lookAgain: the last waiter is asked again (${seen.withdrawn} withdrawn)`);
    }
  }
});

t.test('one next() waits per free slot, up to 64 at once; only a function near its limit is in their busy sets', async (t) => {
  // Every waiting next(), with the busy set it was given (a live set: read when the test looks).
  const waiting = new Set<ReadonlySet<string>>();
  const leasing = (queue: Queue): Leasing => ({
    next: (options) => {
      const busy = options?.busy ?? new Set<string>();
      waiting.add(busy);
      return queue.next(options).finally(() => waiting.delete(busy));
    },
    lookAgain: () => queue.lookAgain!(),
  });
  const skipping = (name: string): number => [...waiting].filter((busy) => busy.has(name)).length;
  // max_inflight 3: three waiting.
  const few = await setup(t, (req, res) => { req.resume(); res.end('ok'); }, { maxInflight: 3, leasing, file: join(t.testdir(), 'few.db') });
  await waitFor(() => waiting.size === 3, 5_000, 'three next() calls waiting');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(waiting.size, 3, 'never more than the free slots');
  await few.worker.stop(0);
  await waitFor(() => waiting.size === 0, 5_000, 'the stop withdrew them');

  // max_inflight 100, function a limited to 2 at once, b to its share (75): 64 waiting; a batch served from the
  // first waiter on may bring a to its limit after two leases, so every waiter from the third on skips a.
  const { queue } = await setup(t, (req, res) => { setTimeout(() => { req.resume(); res.end('ok'); }, 300); }, { maxInflight: 100, limit: 2, leasing, file: join(t.testdir(), 'many.db') });
  await waitFor(() => waiting.size === 64 && skipping('a') === 62, 5_000, '64 next() calls waiting, 62 of them skipping a');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(waiting.size, 64, 'at most 64 wait at once, with 100 slots free');
  t.equal(skipping('a'), 62, 'a (room 2) is skipped from the third waiter on');
  t.equal(skipping('b'), 0, 'b, far from its limit, is in no set');
  // One call of a running: its room is 1, so every waiter but the first skips it; once it is done, 2 again.
  await queue.enqueue(call('a1', 'a'));
  await waitFor(() => skipping('a') === 63, 5_000, 'every waiter but the first skipping a while a1 runs');
  t.equal(skipping('b'), 0, 'b still in no set');
  await waitFor(async () => (await queue.list({ status: 'succeeded' })).length === 1, 5_000, 'a1 done');
  await waitFor(() => skipping('a') === 62 && waiting.size === 64, 5_000, 'a skipped from the third waiter on again');
  t.pass('the sets follow the room as it shrinks and grows');
});
