// The worker's drain with a queue that costs nothing: the same loop, invocation and record transitions as
// `whippet worker`, fed from a backlog held in memory (nothing written, nothing durable). It bounds what any
// queue design could give one worker process on this machine: the async section runs it beside the sqlite drain,
// on the same function and the same number of calls, so the distance between the two is what the queue costs.
//
// `node dist/bench/memory-drain.js` with FUNCTION_URL, CALLS, MAX_INFLIGHT and CALL_HEADERS (the stored headers of
// a call the router accepted, as JSON) in its environment drains CALLS calls of the function `fast` and prints one
// JSON line: { calls, seconds, cpuMs } (this process's CPU, every thread, from the loop's start to the last call's end).

import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { onAbort } from '../common/call-abort.js';
import { createLogger } from '../common/log.js';
import { withRequestApi } from '../router/dispatcher-api.js';
import { createRouterMetrics } from '../router/metrics.js';
import { QueueLease, type MessageChange } from '../router/queue/lease.js';
import type { CallHeaders, CallRecord, NewCall, NextOptions, Queue } from '../router/queue/index.js';
import { newRecord } from '../router/queue/record.js';
import * as step from '../router/queue/transitions.js';
import { createResolver } from '../router/resolver.js';
import { createUpstreamDispatcher } from '../router/upstream.js';
import { WorkerLoop } from '../router/worker/loop.js';
import { createWorkerMetrics } from '../router/worker/metrics.js';
import { loadWorkerConfig } from '../router/worker/options.js';

const FUNCTION = 'fast';
const LIMITS = { maxEventAgeMs: 0, maxResultBytes: 1024 * 1024, now: Date.now };

/** A lease whose changes are the record transitions alone. */
class MemoryLease extends QueueLease {
  readonly deliveryCount = 1;

  constructor(private readonly backlog: MemoryBacklog, request: NewCall, private current: CallRecord) {
    super(LIMITS, request, false);
  }

  get record(): CallRecord {
    return this.current;
  }

  /** endAttempt + finish (+ ack) in one change, as the sqlite lease does it. */
  conclude(attempt: step.AttemptOutcome, final: step.FinalOutcome, ack: boolean): Promise<CallRecord> {
    return this.change('conclude', (r) => step.conclude(r, attempt, final, ack, LIMITS.now(), LIMITS.maxResultBytes), ack ? { kind: 'remove' } : { kind: 'keep' });
  }

  protected async change(_op: string, change: (r: CallRecord) => CallRecord, message: MessageChange): Promise<CallRecord> {
    this.current = change(this.current);
    if (message.kind === 'remove') this.backlog.removed();
    else if (message.kind === 'release') this.backlog.released(this.request, message.delayMs);
    return this.current;
  }

  protected async renew(): Promise<void> {}
}

interface Waiting {
  readonly busy: ReadonlySet<string> | undefined;
  /** Resolves the next() (once). */
  readonly settle: (lease: MemoryLease | null) => void;
  readonly settled: () => boolean;
}

/** `calls` calls of one function, handed out as the loop asks (NextOptions.busy honoured, as the backends do). */
export class MemoryBacklog implements Pick<Queue, 'next' | 'lookAgain'> {
  private readonly ready: NewCall[] = [];
  /** ready[taken] is the next call handed out (shift() on a long array costs a copy per call). */
  private taken = 0;
  private waiting: Waiting[] = [];
  private left: number;
  readonly done: Promise<void>;
  private finished = (): void => {};

  constructor(calls: number, headers: CallHeaders) {
    this.left = calls;
    for (let i = 0; i < calls; i++) {
      this.ready.push({ id: randomUUID(), functionName: FUNCTION, method: 'POST', path: '', query: '', headers, body: Buffer.from('ping'), callbackUrl: null });
    }
    this.done = new Promise((resolve) => { this.finished = resolve; });
    if (calls === 0) this.finished();
  }

  next(options: NextOptions = {}): Promise<MemoryLease | null> {
    return new Promise((resolve) => {
      let settled = false;
      const waiter: Waiting = {
        busy: options.busy,
        settle: (lease) => { if (!settled) { settled = true; resolve(lease); } },
        settled: () => settled,
      };
      this.waiting.push(waiter);
      onAbort(options.signal, () => waiter.settle(null));
      this.serve();
    });
  }

  lookAgain(): void {
    this.serve();
  }

  removed(): void {
    if (--this.left === 0) this.finished();
    this.serve();
  }

  released(call: NewCall, delayMs: number): void {
    setTimeout(() => { this.ready.push(call); this.serve(); }, delayMs);
  }

  /** Every waiting next() whose busy set leaves the function gets a call while there are calls. */
  private serve(): void {
    this.waiting = this.waiting.filter((waiter) => {
      if (waiter.settled()) return false; // aborted
      if (this.taken === this.ready.length || waiter.busy?.has(FUNCTION) === true) return true;
      const call = this.ready[this.taken++]!;
      waiter.settle(new MemoryLease(this, call, newRecord(call, LIMITS.now())));
      return false;
    });
  }
}

/** Drain `calls` calls (each with `headers`, 4 bytes of body) into the function at `functionUrl` with the worker loop; this process's CPU and the time taken. */
export async function drainFromMemory(functionUrl: string, calls: number, maxInflight: number, headers: CallHeaders): Promise<{ calls: number; seconds: number; cpuMs: number }> {
  const config = loadWorkerConfig({}, { functions: `${FUNCTION}=${functionUrl}`, max_inflight: String(maxInflight), queue: 'sqlite:unused.db' });
  const backlog = new MemoryBacklog(calls, headers);
  // The wiring of router/worker/main.ts, with the backlog for a queue.
  const metrics = createRouterMetrics();
  const dispatcher = withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: config.upstreamTimeoutMs }));
  const cpu = process.cpuUsage();
  const begin = performance.now();
  const loop = new WorkerLoop(config, {
    queue: backlog, resolver: createResolver(config), dispatcher, log: createLogger({ level: 'warn' }),
    maxResultBytes: LIMITS.maxResultBytes, metrics: createWorkerMetrics(metrics.registry), gatewayMetrics: metrics,
  });
  await backlog.done;
  const seconds = (performance.now() - begin) / 1000;
  const used = process.cpuUsage(cpu);
  await loop.stop(0);
  await dispatcher.close();
  return { calls, seconds, cpuMs: (used.user + used.system) / 1000 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const headers = JSON.parse(env['CALL_HEADERS'] ?? '{}') as CallHeaders;
  const result = await drainFromMemory(env['FUNCTION_URL'] ?? '', Number(env['CALLS']), Number(env['MAX_INFLIGHT']), headers);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
