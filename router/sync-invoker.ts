// /function/{name}: resolve the function, proxy the call, and count its outcome in the gateway
// metrics and the per-function stats that /system/functions reports.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { monotonicMs, unixNanos } from '../common/clock.js';
import type { Logger } from '../common/log.js';
import type { CountedNames } from './counted-names.js';
import { FunctionNotFoundError } from './errors.js';
import type { FunctionStats } from './function-stats.js';
import type { RouterMetrics } from './metrics.js';
import { forward, type ForwardOutcome } from './proxy.js';
import type { FunctionResolver } from './resolver.js';
import type { InvocationRoute } from './routes.js';

export interface SyncInvokerDeps {
  readonly resolver: FunctionResolver;
  readonly dispatcher: Dispatcher;
  readonly metrics: RouterMetrics;
  readonly stats: FunctionStats;
  readonly names: CountedNames;
  readonly log: Logger;
}

const CLIENT_CUT_STATUS = 499;
// Names are the callers' (a URL template resolves any): bound what is kept, as function-stats.ts does.
const MAX_LABELLED_FUNCTIONS = 10_000;

interface FunctionLabels {
  readonly name: { readonly function_name: string };
  readonly byStatus: Map<number, { readonly function_name: string; readonly code: string }>;
}

export class SyncInvoker {
  private readonly labels = new Map<string, FunctionLabels>();

  constructor(private readonly upstreamTimeoutMs: number, private readonly deps: SyncInvokerDeps) {}

  /** Proxy one call; throws FunctionNotFoundError before anything is sent. */
  invoke(req: IncomingMessage, res: ServerResponse, match: InvocationRoute): void {
    const upstream = this.deps.resolver.resolve(match.name);
    if (upstream === undefined) throw new FunctionNotFoundError(match.name);
    const given = req.headers['x-call-id'];
    const callId = typeof given === 'string' && given !== '' ? given : randomUUID();
    const name = match.name;
    // A name nobody has seen answer (a template guess) is counted only once its upstream answers.
    const counted = this.deps.names.counts(name);
    if (counted) this.started(name);
    forward(req, res, {
      functionName: name, upstream, path: match.path, query: match.query, callId,
      startTime: unixNanos(), startedAt: monotonicMs(), timeoutMs: this.upstreamTimeoutMs,
    }, this.deps.dispatcher, (outcome) => {
      if (counted) this.record(name, callId, outcome);
      else if (this.deps.names.answered(name, outcome.upstreamStatus)) {
        this.started(name);
        this.record(name, callId, outcome);
      } else if (outcome.error !== undefined) {
        this.deps.log.info('upstream failed for an unlisted name', { function: name, callId, code: outcome.error.code, reason: outcome.error.message });
      }
    });
  }

  /** The label sets of a function's metrics, made once: the same objects each call, not two new ones. */
  private labelsOf(name: string): FunctionLabels {
    let l = this.labels.get(name);
    if (l === undefined) {
      if (this.labels.size >= MAX_LABELLED_FUNCTIONS) this.labels.clear();
      l = { name: { function_name: name }, byStatus: new Map() };
      this.labels.set(name, l);
    }
    return l;
  }

  private started(name: string): void {
    this.deps.metrics.invocationStarted.inc(this.labelsOf(name).name);
    this.deps.stats.started(name);
  }

  private record(name: string, callId: string, outcome: ForwardOutcome): void {
    const { metrics, stats, log } = this.deps;
    // A call the client's side cut is 499 (nginx's "client closed request", as the watchdog counts it),
    // whatever status line it already had: the function is not blamed for it.
    const status = outcome.cut === undefined ? outcome.status : CLIENT_CUT_STATUS;
    const byStatus = this.labelsOf(name).byStatus;
    let labels = byStatus.get(status);
    if (labels === undefined) byStatus.set(status, labels = { function_name: name, code: String(status) });
    metrics.invocationTotal.inc(labels);
    metrics.functionSeconds.observe(labels, outcome.seconds);
    // A client that left says nothing about the function: its health stays what it was.
    const health = outcome.error === undefined
      ? (outcome.cut !== undefined ? stats.get(name)?.health ?? 'unknown' : 'healthy')
      : outcome.error.status === 504 ? 'timeout' : 'unreachable';
    stats.completed(name, status, health);
    if (outcome.error !== undefined) log.warn('upstream failed', { function: name, callId, code: outcome.error.code, reason: outcome.error.message });
    else if (outcome.cut !== undefined) {
      const fields = { function: name, callId, status, cut: outcome.cut, sentStatus: outcome.status === 0 ? undefined : outcome.status, seconds: Number(outcome.seconds.toFixed(3)) };
      if (outcome.cut === 'client_closed') log.info('client closed the connection before the response ended', fields);
      else log.warn('client stopped reading; connection cut', fields);
    }
  }
}
