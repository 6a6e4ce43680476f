// The busy sets the worker loop gives its waiting next() calls, checked against their definition after every
// step of a random run: the waiter at position k (0 = served first) is told to skip function f exactly when
// k ≥ room(f), where room(f) = min(limit(f) − f's calls invoking, 2·limit(f) − f's calls held). The loop moves
// these sets incrementally (router/worker/loop.ts, refreshBusy); this test keeps its own count of every call
// (leased, answered, finished), changes a function's limit now and then, and recomputes the sets from scratch.
import t, { type Test } from 'tap';
import type { ServerResponse } from 'node:http';
import { waitFor } from '../helpers/wait.js';
import { startUpstream } from '../helpers/start-router.js';
import { onAbort } from '../../common/call-abort.js';
import { createLogger } from '../../common/log.js';
import { QueueLease, type MessageChange } from '../../router/queue/lease.js';
import { newRecord, type CallRecord, type NewCall } from '../../router/queue/record.js';
import type { Lease, NextOptions } from '../../router/queue/index.js';
import { createStaticResolver } from '../../router/resolver.js';
import { createUpstreamDispatcher } from '../../router/upstream.js';
import { withRequestApi } from '../../router/dispatcher-api.js';
import { WorkerLoop, defaultFunctionShare } from '../../router/worker/loop.js';

const LIMITS = { maxEventAgeMs: 0, maxResultBytes: 1024, now: Date.now };

/** A lease whose changes apply at once, except the ack, which waits until the test finishes the call. */
class HeldLease extends QueueLease {
  readonly deliveryCount = 1;
  private current: CallRecord;

  constructor(request: NewCall, private readonly acked: Promise<void>) {
    super(LIMITS, request, false);
    this.current = newRecord(request, LIMITS.now());
  }

  get record(): CallRecord {
    return this.current;
  }

  protected async change(_op: string, change: (r: CallRecord) => CallRecord, message: MessageChange): Promise<CallRecord> {
    this.current = change(this.current);
    if (message.kind === 'remove') await this.acked;
    return this.current;
  }

  protected async renew(): Promise<void> {}
}

/** A seeded generator (mulberry32), so a failing run can be repeated. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Call {
  readonly fn: string;
  state: 'invoking' | 'settling';
  /** The function's answer, once the request has arrived (the test answers it when it chooses). */
  response?: ServerResponse;
  answered: boolean;
  finish: () => void;
}

async function run(t: Test, { maxInflight, steps, seed }: { maxInflight: number; steps: number; seed: number }): Promise<void> {
  const configured: Record<string, number | undefined> = { a: 2, b: 5, c: undefined };
  const names = Object.keys(configured);
  const share = defaultFunctionShare(maxInflight);
  const limit = (fn: string): number => Math.min(configured[fn] ?? share, share);
  const calls = new Map<string, Call>();

  const up = await startUpstream(t, (req, res) => {
    req.resume();
    const call = calls.get((req.url ?? '').slice(1));
    if (call === undefined) { res.statusCode = 404; res.end(); return; }
    call.response = res;
    if (call.answered) res.end('ok');
  });

  // The fake queue: every waiting next() in the order it came, served by the test.
  const waiting: Array<{ readonly busy: ReadonlySet<string>; readonly resolve: (lease: Lease | null) => void }> = [];
  const queue = {
    next: (options: NextOptions & { busy?: ReadonlySet<string> } = {}) => new Promise<Lease | null>((resolve) => {
      const entry = { busy: options.busy ?? new Set<string>(), resolve };
      waiting.push(entry);
      onAbort(options.signal, () => {
        const at = waiting.indexOf(entry);
        if (at >= 0) waiting.splice(at, 1);
        resolve(null);
      });
    }),
    lookAgain: () => {},
  };
  const dispatcher = withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: 10_000 }));
  const resolver = createStaticResolver(names.map((n) => [n, new URL(up.url)] as const));
  const loop = new WorkerLoop({
    maxInflight, ackWaitMs: 60_000, upstreamTimeoutMs: 10_000, retryHttpCodes: [], maxRetryAttempts: 1,
    initialRetryWaitMs: 10, maxRetryWaitMs: 10, callbackSecret: undefined,
  }, { queue, resolver, dispatcher, log: createLogger({ level: 'error', write: () => {} }), functionLimit: (fn) => configured[fn] });
  t.teardown(async () => {
    for (const call of calls.values()) { call.answered = true; call.response?.end('ok'); call.finish(); }
    await loop.stop(1_000);
    await dispatcher.close();
  });

  const count = (fn: string, state?: Call['state']): number => [...calls.values()].filter((c) => c.fn === fn && (state === undefined || c.state === state)).length;
  const expected = (): string => {
    let invoking = 0;
    for (const c of calls.values()) if (c.state === 'invoking') invoking++;
    const held = calls.size;
    const n = Math.min(64, maxInflight - invoking, 2 * maxInflight - held);
    const room = (fn: string): number => Math.min(limit(fn) - count(fn, 'invoking'), 2 * limit(fn) - count(fn));
    return JSON.stringify(Array.from({ length: Math.max(0, n) }, (_, k) => names.filter((fn) => k >= room(fn))));
  };
  const actual = (): string => JSON.stringify(waiting.map((w) => names.filter((fn) => w.busy.has(fn))));

  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(rand() * items.length)];
  let id = 0;
  let checked = 0;
  for (let step = 0; step < steps; step++) {
    const action = rand();
    if (action < 0.45) {
      // Lease a call to a waiter the test picks, of a function its set leaves it.
      const k = Math.floor(rand() * waiting.length);
      const entry = waiting[k];
      const fn = entry === undefined ? undefined : pick(names.filter((n) => !entry.busy.has(n)));
      if (entry === undefined || fn === undefined) continue;
      waiting.splice(k, 1);
      const callId = `c${id++}`;
      let finish!: () => void;
      const acked = new Promise<void>((resolve) => { finish = resolve; });
      calls.set(callId, { fn, state: 'invoking', answered: false, finish: () => { finish(); } });
      entry.resolve(new HeldLease({ id: callId, functionName: fn, method: 'POST', path: `/${callId}`, query: '', headers: {}, body: Buffer.from('x'), callbackUrl: null }, acked));
    } else if (action < 0.75) {
      // The function answers one call: its slot is free, the call still held until its ack. Sometimes a's limit
      // changes first (as a stack file read again may change it), so the answer's refresh finds rooms that moved
      // without a call leased or done: waiters that must now skip a function as well as waiters that no longer must.
      const [callId, call] = pick([...calls].filter(([, c]) => c.state === 'invoking')) ?? [];
      if (call === undefined || callId === undefined) continue;
      if (rand() < 0.2) configured['a'] = configured['a'] === 2 ? 1 : configured['a'] === 1 ? 4 : 2;
      call.state = 'settling';
      call.answered = true;
      call.response?.end('ok');
    } else {
      // A settling call is done: its ack returns once the loop gets there.
      const [callId, call] = pick([...calls].filter(([, c]) => c.state === 'settling')) ?? [];
      if (call === undefined || callId === undefined) continue;
      calls.delete(callId);
      call.finish();
    }
    const want = expected();
    await waitFor(() => actual() === want, 5_000, `step ${step} (seed ${seed}): busy sets ${want}`, 2).catch(() => {
      t.fail(`step ${step} (seed ${seed}): the waiting next() calls' busy sets`, { found: actual(), wanted: want });
      throw new Error('stop the run');
    });
    checked++;
  }
  t.ok(checked > steps / 2, `busy sets exactly as defined after each of ${checked} steps (${id} calls leased)`);
}

t.test('max_inflight 12: functions limited to 2, 5 and the share (9); every waiter\'s busy set after each step', async (t) => {
  for (const seed of [1, 2, 3]) await run(t, { maxInflight: 12, steps: 120, seed });
});

t.test('max_inflight 100: 64 waiting next() calls, the limits of 2 and 5 near the front', async (t) => {
  await run(t, { maxInflight: 100, steps: 120, seed: 7 });
});
