// One lease from start to settle: invoke (with the lease kept alive), retry or finish, then deliver the
// callback, then ack. `invoked` tells the loop when the function's part is over (its answer is in, or no
// invocation is due), so the invocation slot is free for the next call while this one settles.
// The order matters for crash safety: the result is stored (finish) before the callback goes out, so a
// redelivered call that is already final only gets its callback, never a second invocation; and the ack
// comes last, so a crash anywhere before it means "deliver again".

import type { Dispatcher } from 'undici';
import { CallAbort, onAbort } from '../../common/call-abort.js';
import type { Logger } from '../../common/log.js';
import { invoke } from '../invoker.js';
import type { RouterMetrics } from '../metrics.js';
import {
  CallExpiredError, CallStateError, LeaseLostError, QueueClosedError, isFinal, type CallRecord, type Lease,
} from '../queue/index.js';
import type { FunctionResolver } from '../resolver.js';
import { backoffMs, nextDelayMs } from './backoff.js';
import { callbackHeaders, callbackState, postCallback, type DeliveryResult } from './callback.js';
import { ResultCollector, bodyForRecord, releaseResult, resultPayload, signResult, type ResultBody } from './result-body.js';
import { startHeartbeat } from './heartbeat.js';
import type { WorkerMetrics } from './metrics.js';
import type { WorkerConfig } from './options.js';
import { attemptsThisRound, decide } from './policy.js';

/** The settings one call reads (DESIGN "Queue-worker contract"). */
export type CallConfig = Pick<WorkerConfig,
  'ackWaitMs' | 'upstreamTimeoutMs' | 'retryHttpCodes' | 'maxRetryAttempts' | 'initialRetryWaitMs' | 'maxRetryWaitMs' | 'callbackSecret'>
  & Partial<Pick<WorkerConfig, 'callbackAllowLinkLocal'>>;

export interface CallDeps {
  readonly resolver: FunctionResolver;
  readonly dispatcher: Dispatcher;
  /** Callbacks go out through their own guarded pool (callback-dispatcher.ts); the functions' pool when absent. */
  readonly callbackDispatcher?: Dispatcher | undefined;
  readonly log: Logger;
  readonly config: CallConfig;
  readonly metrics?: WorkerMetrics | undefined;
  /** Result bytes held in memory per call: the queue's stored limit (1 MiB unless the queue says otherwise). */
  readonly maxResultBytes?: number | undefined;
  /** The worker's invocations count in gateway_* too, as OpenFaaS' worker re-entering /function does. */
  readonly gatewayMetrics?: RouterMetrics | undefined;
  readonly now?: () => number;
}

/**
 * Shutdown control: `signal` aborts the invocation; once `abandoned()`, nothing more is written. `draining`
 * is aborted when the worker starts to stop (no callback is started after it), `cutCallbacks` a little later
 * (a callback still sending is cut); such callbacks are left to the next worker.
 */
export interface CallControl {
  readonly signal: CallAbort;
  abandoned(): boolean;
  readonly draining?: CallAbort;
  readonly cutCallbacks?: CallAbort;
}

/**
 * Work one lease to its end (ack), a retry (nak), or let it lapse on shutdown. Never throws. `invoked`
 * is called once the invocation is over (or when none is due); the call's end implies it.
 */
export async function runCall(lease: Lease, deps: CallDeps, ctl: CallControl, invoked: () => void = () => {}): Promise<void> {
  const log = (): Logger => deps.log.child({ callId: lease.record.id, function: lease.record.functionName });
  // One signal per call (common/call-abort.ts), aborted by a lost lease or by the worker's shutdown (a
  // listener on the shared shutdown signal, removed at the end).
  const signal = new CallAbort();
  let lost = false;
  const heartbeat = startHeartbeat(lease, deps.config.ackWaitMs, (err) => {
    log().warn('lease lost while working; another worker has the call', { reason: (err as Error).message });
    lost = true;
    signal.abort(err);
  });
  const stopListening = onAbort(ctl.signal, () => signal.abort(ctl.signal.reason));
  const gone = (): boolean => ctl.abandoned() || lost;
  let body: ResultBody | undefined;
  try {
    if (isFinal(lease.record.status)) {
      invoked(); // only its callback and ack are due
    } else {
      const outcome = lease.expired ? await expire(lease, deps, invoked) : await attempt(lease, deps, signal, gone, invoked);
      if (outcome === 'released' || gone()) return;
      body = outcome.body;
      if ('acked' in outcome && outcome.acked === true) return;
    }
    if (gone()) return;
    await settle(lease, lease.record, body, deps, signal, ctl, gone);
  } catch (err) {
    if (gone()) return;
    // A lost lease or a call cancelled meanwhile: someone else owns the outcome now.
    if (err instanceof LeaseLostError || err instanceof CallStateError || err instanceof QueueClosedError) log().info('call left to others', { reason: err.message });
    else log().warn('call handling failed; its lease will lapse and it will be delivered again', { err: err as Error });
  } finally {
    heartbeat.stop();
    stopListening();
    await releaseResult(body);
  }
}

/** The call is too old to start: no invocation is due, only the write that says so. */
async function expire(lease: Lease, deps: CallDeps, invoked: () => void): Promise<{ body: undefined }> {
  invoked();
  await lease.finish({ status: 'expired', result: null, error: 'not started within max_event_age' });
  deps.metrics?.expired.inc({ function_name: lease.record.functionName });
  deps.metrics?.finished.inc({ function_name: lease.record.functionName, status: 'expired' });
  deps.log.info('call expired', { callId: lease.record.id, function: lease.record.functionName });
  return { body: undefined };
}

// Stored limit when the queue does not say (the queue's own default).
const DEFAULT_MAX_RESULT_BYTES = 1024 * 1024;

async function attempt(lease: Lease, deps: CallDeps, signal: CallAbort, gone: () => boolean, invoked: () => void): Promise<'released' | { body: ResultBody | undefined; acked?: boolean }> {
  const { config, metrics } = deps;
  const name = lease.request.functionName;
  try {
    await lease.beginAttempt();
  } catch (err) {
    if (err instanceof CallExpiredError) return expire(lease, deps, invoked);
    throw err;
  }
  const upstream = deps.resolver.resolve(name);
  deps.gatewayMetrics?.invocationStarted.inc({ function_name: name });
  const res = upstream === undefined
    ? { ok: false as const, kind: 'unreachable' as const, error: new Error(`function not found: ${name}`), durationMs: 0 }
    : await invoke({ functionName: name, upstream, callId: lease.request.id }, {
      method: lease.request.method, path: lease.request.path, query: lease.request.query, headers: lease.request.headers,
      body: Buffer.from(lease.request.body.buffer, lease.request.body.byteOffset, lease.request.body.byteLength),
    }, {
      dispatcher: deps.dispatcher, timeoutMs: config.upstreamTimeoutMs, signal,
      // At most the stored limit in memory; a larger result is spooled only if a callback will carry it
      // (and only if this answer is final: a retried answer is counted and dropped).
      body: (statusCode) => new ResultCollector(deps.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
        lease.record.callbackUrl !== null && decide({ statusCode }, attemptsThisRound(lease.record), config).kind !== 'retry'),
    });
  invoked();
  try {
    const code = res.ok ? String(res.status) : res.kind;
    metrics?.invocations.inc({ function_name: name, status: code });
    const gatewayCode = res.ok ? code : res.kind === 'timeout' ? '504' : '502';
    deps.gatewayMetrics?.invocationTotal.inc({ function_name: name, code: gatewayCode });
    deps.gatewayMetrics?.functionSeconds.observe({ function_name: name, code: gatewayCode }, res.durationMs / 1000);
    if (gone()) {
      if (res.ok) await releaseResult(res.body);
      return 'released';
    }
    const statusCode = res.ok ? res.status : null;
    const attemptOutcome = { statusCode, error: res.ok ? null : res.error.message };
    // endAttempt adds no attempt: the count is the same before and after it.
    const tries = attemptsThisRound(lease.record);
    const decision = decide({ statusCode }, tries, config);
    if (decision.kind === 'retry') {
      if (res.ok) await releaseResult(res.body);
      const delay = nextDelayMs(tries, res.ok ? res.headers['retry-after'] : undefined, config, (deps.now ?? Date.now)());
      // One write where the backend offers it (sqlite), else the attempt's end and then the nak.
      if (lease.retryLater !== undefined) await lease.retryLater(attemptOutcome, delay);
      else { await lease.endAttempt(attemptOutcome); await lease.nak(delay); }
      metrics?.retries.inc({ function_name: name });
      deps.log.info('call will be retried', { callId: lease.request.id, function: name, status: code, attempt: tries, delayMs: delay });
      return 'released';
    }
    if (lease.conclude === undefined) await lease.endAttempt(attemptOutcome);
    const final = {
      status: decision.status,
      result: res.ok ? { statusCode: res.status, headers: res.headers, body: bodyForRecord(res.body) } : null,
      error: decision.reason,
    };
    // Without a callback nothing happens between finish and ack: one write does all three (conclude).
    const acked = lease.conclude !== undefined && lease.record.callbackUrl === null;
    if (lease.conclude !== undefined) await lease.conclude(attemptOutcome, final, acked);
    else await lease.finish(final);
    metrics?.finished.inc({ function_name: name, status: decision.status });
    return { body: res.ok ? res.body : undefined, acked };
  } catch (err) {
    // A spooled result must not outlive a turn that failed after the invocation.
    if (res.ok) await releaseResult(res.body);
    throw err;
  }
}

/**
 * Deliver the callback (if one is due), then ack; a callback to retry is nak'ed with its own backoff. While the
 * worker stops, a callback is not started (`draining`), and one under way is cut a little later (`cutCallbacks`):
 * the call is released at once for the next worker, with no attempt counted. The result is stored, so nothing is
 * lost, and a receiver that does not answer cannot hold the stop for upstream_timeout. Not for a result only this
 * worker has (spooled): that one is waited for within the stop's grace.
 */
async function settle(lease: Lease, record: CallRecord, body: ResultBody | undefined, deps: CallDeps, signal: CallAbort,
  ctl: CallControl, gone: () => boolean): Promise<void> {
  if (record.callbackUrl === null || record.callback.state !== 'pending') {
    await lease.ack();
    return;
  }
  const { config } = deps;
  const name = record.functionName;
  // A result over the stored limit is only in this worker's spool file: its delivery is waited for (within the
  // stop's grace), as the next worker could send only what the record kept.
  const replayable = body?.file == null;
  const stopping = (): boolean => replayable && ctl.draining?.aborted === true; // read again after each wait
  const leaveToNext = async (): Promise<void> => {
    await lease.nak(0);
    deps.log.info('callback left to the next worker: this one is stopping', { callId: record.id, function: name });
  };
  if (stopping()) {
    await leaveToNext();
    return;
  }
  // This attempt's result (kept bytes, or the spooled file), else what the record kept (a redelivery).
  const stored = record.result?.body ?? new Uint8Array(0);
  const signature = body !== undefined && config.callbackSecret !== undefined ? await signResult(body, config.callbackSecret) : undefined;
  const headers = callbackHeaders(record, body?.kept ?? stored, config, signature);
  if (body?.file != null) headers['content-length'] = String(body.size);
  const sending = new CallAbort();
  const stopListening = [signal, replayable ? ctl.cutCallbacks : undefined].map((s) => onAbort(s, () => sending.abort(s?.reason)));
  let result: DeliveryResult;
  try {
    result = await postCallback(record.callbackUrl, headers, resultPayload(body, stored), {
      dispatcher: deps.callbackDispatcher ?? deps.dispatcher, timeoutMs: config.upstreamTimeoutMs, signal: sending,
      allowLinkLocal: config.callbackAllowLinkLocal === true,
    });
  } finally {
    for (const stop of stopListening) stop();
  }
  if (gone()) return; // abandoned at the grace's end (or the lease lost): nothing more is written
  if (stopping() && result.statusCode === null && result.refused !== true) {
    await leaveToNext(); // cut by the stop: not an attempt
    return;
  }
  const tries = record.callback.attempts + 1;
  const state = callbackState(result, tries, config);
  await lease.callbackAttempt({ state, statusCode: result.statusCode, error: result.error });
  if (state === 'pending') {
    const delay = backoffMs(tries, config);
    await lease.nak(delay);
    deps.metrics?.callbackRetries.inc({ function_name: name });
    deps.log.info('callback will be retried', { callId: record.id, function: name, reason: result.error, attempt: tries, delayMs: delay });
    return;
  }
  if (state === 'delivered') deps.metrics?.callbacksDelivered.inc({ function_name: name });
  else {
    deps.metrics?.callbacksFailed.inc({ function_name: name });
    deps.log.warn('callback given up', { callId: record.id, function: name, reason: result.error, attempts: tries });
  }
  await lease.ack();
}
