// A slow function does not starve a fast one: with the slow function's calls queued first and holding
// their slots, the fast function's calls still finish at once (the slow one gets at most its share of
// max_inflight, and the queue skips it instead of leasing and handing back its calls). On every backend.

import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { createLogger } from '../../common/log.js';
import { createQueue, type Lease, type NewCall, type Queue } from '../../router/queue/index.js';
import { createStaticResolver } from '../../router/resolver.js';
import { createUpstreamDispatcher } from '../../router/upstream.js';
import { withRequestApi } from '../../router/dispatcher-api.js';
import { defaultFunctionShare, WorkerLoop } from '../../router/worker/loop.js';
import { startUpstream } from '../helpers/start-router.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { waitFor } from '../helpers/wait.js';

const log = createLogger({ level: 'error', write: () => {} });
const MAX_INFLIGHT = 8;
const CALLS = 12;

function call(functionName: string): NewCall {
  return { id: `${functionName}-${randomUUID()}`, functionName, method: 'POST', path: `/${functionName}`, query: '', headers: {}, body: Buffer.from('x'), callbackUrl: null };
}

/** The queue, with every nak counted (a lease taken for a function at its limit and handed back). */
function countNaks(queue: Queue): { queue: Queue; naks: () => number } {
  let naks = 0;
  const counted = new Proxy(queue, {
    get(target, prop) {
      if (prop === 'next') {
        return async (options?: Parameters<Queue['next']>[0]): Promise<Lease | null> => {
          const lease = await target.next(options);
          if (lease !== null) {
            const nak = lease.nak.bind(lease);
            Object.defineProperty(lease, 'nak', { value: (delay?: number) => { naks++; return nak(delay); } });
          }
          return lease;
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { queue: counted, naks: () => naks };
}

type Open = (t: Test) => Promise<Queue | null>;

const BACKENDS: Record<string, Open> = {
  sqlite: async (t) => {
    const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`, { ackWaitMs: 30_000, sqlite: { pollIntervalMs: 50 } });
    t.teardown(() => queue.close());
    return queue;
  },
  jetstream: async (t) => {
    if (!requireNats(t)) return null;
    const node = await startNats(t);
    const queue = await createQueue(node.url, { ackWaitMs: 30_000, jetstream: { name: `f${randomUUID().slice(0, 8)}` } });
    t.teardown(() => queue.close());
    return queue;
  },
};

for (const [backend, open] of Object.entries(BACKENDS)) {
  t.test(`${backend}: the fast function's calls finish while the slow one's hold their slots`, async (t) => {
    const raw = await open(t);
    if (raw === null) return;
    const { queue, naks } = countNaks(raw);
    const held: ServerResponse[] = [];
    let slowNow = 0;
    let slowPeak = 0;
    let release = false;
    const up = await startUpstream(t, (req, res) => {
      req.resume();
      if (req.url !== '/slow') { res.end('fast'); return; }
      slowPeak = Math.max(slowPeak, ++slowNow);
      res.on('finish', () => { slowNow--; });
      if (release) res.end('slow'); else held.push(res);
    });
    const dispatcher = withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: 60_000 }));
    const resolver = createStaticResolver([['slow', new URL(up.url)], ['fast', new URL(up.url)]]);
    const slow = Array.from({ length: CALLS }, () => call('slow'));
    const fast = Array.from({ length: CALLS }, () => call('fast'));
    // Both queued at once, the slow function's calls first.
    for (const c of [...slow, ...fast]) await queue.enqueue(c);
    const worker = new WorkerLoop({
      maxInflight: MAX_INFLIGHT, ackWaitMs: 30_000, upstreamTimeoutMs: 60_000, retryHttpCodes: [503], maxRetryAttempts: 3,
      initialRetryWaitMs: 50, maxRetryWaitMs: 100, callbackSecret: undefined,
    }, { queue, resolver, dispatcher, log });
    t.teardown(async () => { release = true; for (const r of held) r.end(); await worker.stop(0); await dispatcher.close(); });

    const share = defaultFunctionShare(MAX_INFLIGHT);
    await waitFor(async () => {
      for (const c of fast) if ((await queue.get(c.id))?.status !== 'succeeded') return false;
      return true;
    }, 20_000, 'every fast call succeeded while the slow calls hold their slots');
    t.equal(held.length, slowNow, 'no slow call has answered yet');
    t.ok(slowPeak <= share, `the slow function held at most its share (${slowPeak} of ${share})`);
    t.ok(slowPeak > 0, 'the slow function was running meanwhile');
    if (raw.backend === 'sqlite') t.equal(naks(), 0, 'no call was leased and handed back: busy functions are skipped');
    else t.comment(`${naks()} calls handed back (a backend without NextOptions.busy falls back to nak)`);

    release = true;
    for (const r of held.splice(0)) r.end('slow');
    await waitFor(async () => {
      for (const c of slow) if ((await queue.get(c.id))?.status !== 'succeeded') return false;
      return true;
    }, 30_000, 'every slow call succeeded once released');
    const attempts = await Promise.all(slow.map(async (c) => (await queue.get(c.id))!.attempts.length));
    t.same(attempts, slow.map(() => 1), 'each slow call ran once');
  });
}
