// /function/{name}: resolve the function, proxy the call, and count its outcome in the gateway
// metrics and the per-function stats that /system/functions reports.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Logger } from '../common/log.js';
import { FunctionNotFoundError } from './errors.js';
import type { FunctionStats } from './function-stats.js';
import { unixNanos } from './headers.js';
import type { RouterMetrics } from './metrics.js';
import { forward, type ForwardOutcome } from './proxy.js';
import type { FunctionResolver } from './resolver.js';
import type { InvocationRoute } from './routes.js';

export interface SyncInvokerDeps {
  readonly resolver: FunctionResolver;
  readonly dispatcher: Dispatcher;
  readonly metrics: RouterMetrics;
  readonly stats: FunctionStats;
  readonly log: Logger;
}

export class SyncInvoker {
  constructor(private readonly upstreamTimeoutMs: number, private readonly deps: SyncInvokerDeps) {}

  /** Proxy one call; throws FunctionNotFoundError before anything is sent. */
  invoke(req: IncomingMessage, res: ServerResponse, match: InvocationRoute): void {
    const upstream = this.deps.resolver.resolve(match.name);
    if (upstream === undefined) throw new FunctionNotFoundError(match.name);
    const given = req.headers['x-call-id'];
    const callId = typeof given === 'string' && given !== '' ? given : randomUUID();
    const name = match.name;
    this.deps.metrics.invocationStarted.inc({ function_name: name });
    this.deps.stats.started(name);
    forward(req, res, {
      functionName: name, upstream, path: match.path, query: match.query, callId,
      startTime: unixNanos(), startedAt: performance.now(), timeoutMs: this.upstreamTimeoutMs,
    }, this.deps.dispatcher, (outcome) => this.record(name, callId, outcome));
  }

  private record(name: string, callId: string, outcome: ForwardOutcome): void {
    const { metrics, stats, log } = this.deps;
    const code = outcome.status === 0 ? 'aborted' : String(outcome.status);
    metrics.invocationTotal.inc({ function_name: name, code });
    metrics.functionSeconds.observe({ function_name: name, code }, outcome.seconds);
    // A client that left says nothing about the function: its health stays what it was.
    const health = outcome.error === undefined
      ? (outcome.clientAborted ? stats.get(name)?.health ?? 'unknown' : 'healthy')
      : outcome.error.status === 504 ? 'timeout' : 'unreachable';
    stats.completed(name, outcome.status, health);
    if (outcome.error !== undefined) log.warn('upstream failed', { function: name, callId, code: outcome.error.code, reason: outcome.error.message });
    else if (outcome.clientAborted) log.info('client left before the response ended', { function: name, callId });
  }
}
