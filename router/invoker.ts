// Call a function with a stored request (the queue-worker's path), through the same keep-alive
// pools and the same failure classification as the synchronous proxy.

import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { randomUUID } from 'node:crypto';
import { CallAbort, onAbort, type AnySignal } from '../common/call-abort.js';
import { monotonicMs, unixNanos } from '../common/clock.js';
import type { RouterError } from './errors.js';
import { addRouterRequestHeaders, requestHeadersForUpstream, responseHeadersForClient } from './headers.js';
import { DeadlineError, classifyUpstreamError, upstreamPath } from './upstream.js';

/** A request as the queue keeps it: everything needed to replay it against the function. */
export interface StoredRequest {
  readonly method: string;
  /** Path suffix after /{name} (may be ''), raw query without `?`. */
  readonly path: string;
  readonly query: string;
  /** Lower-case names, as Node gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: Buffer;
}

export interface InvokeTarget {
  readonly functionName: string;
  readonly upstream: URL;
  /** Sent as X-Call-Id (generated when absent). */
  readonly callId?: string;
}

export interface InvokeOptions<B = Buffer> {
  readonly dispatcher: Dispatcher;
  /**
   * Consumes the response body (within upstream_timeout); by default the whole body is read into one
   * Buffer. The worker passes one that keeps at most the stored limit in memory (worker/result-body.ts).
   */
  readonly readBody?: (statusCode: number, body: Readable) => Promise<B>;
  readonly timeoutMs: number;
  /** Aborting it (e.g. worker shutdown) ends the call as a connection failure. */
  readonly signal?: AnySignal;
}

/** The function answered (any status), or the call failed before it could: `unreachable` (502) or `timeout` (504). */
export type InvokeResult<B = Buffer> =
  | { readonly ok: true; readonly status: number; readonly headers: Record<string, string | string[]>; readonly body: B; readonly durationMs: number }
  | { readonly ok: false; readonly kind: 'unreachable' | 'timeout'; readonly error: RouterError; readonly durationMs: number };

function stored(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && /^\d+$/.test(value) ? value : undefined;
}

/** Invoke the function once; never throws for transport failures, it returns them classified. */
export async function invoke<B = Buffer>(target: InvokeTarget, request: StoredRequest, options: InvokeOptions<B>): Promise<InvokeResult<B>> {
  const started = monotonicMs();
  const headers = requestHeadersForUpstream(request.headers as Record<string, string | string[]>);
  // The stored X-Start-Time is the router's, set when the call was accepted; X-Forwarded-For is kept as
  // the accept path built it (client's list plus the peer), as the sync path sends it.
  addRouterRequestHeaders(headers, {
    callId: target.callId ?? randomUUID(), startTime: stored(headers['x-start-time']) ?? unixNanos(),
    remoteAddress: undefined, host: undefined, proto: 'http',
  });
  delete headers['content-length'];
  // One signal per call (common/call-abort.ts): the deadline aborts it, and so does the caller's signal
  // through a listener removed at the end.
  const signal = new CallAbort();
  const timer = setTimeout(() => signal.abort(new DeadlineError('upstream_timeout')), options.timeoutMs);
  const outer = options.signal;
  const stopListening = onAbort(outer, () => signal.abort(outer?.reason));
  try {
    const res = await options.dispatcher.request({
      origin: target.upstream.origin,
      path: upstreamPath(target.upstream, request.path, request.query),
      method: request.method as Dispatcher.HttpMethod,
      headers,
      body: request.body.length > 0 || !['GET', 'HEAD'].includes(request.method) ? request.body : null,
      signal,
    });
    const body = options.readBody === undefined
      ? Buffer.from(await res.body.arrayBuffer()) as B
      : await options.readBody(res.statusCode, res.body);
    // The function's end-to-end headers, as the sync path gives them to its client: the connection's own
    // (connection, keep-alive, transfer-encoding, ...) describe the hop to the function, not the result.
    const out = responseHeadersForClient(res.headers, false) as Record<string, string | string[]>;
    return { ok: true, status: res.statusCode, headers: out, body, durationMs: monotonicMs() - started };
  } catch (err) {
    const cause = signal.reason instanceof DeadlineError ? signal.reason : err;
    const error = classifyUpstreamError(cause, target.functionName, options.timeoutMs);
    return { ok: false, kind: error.status === 504 ? 'timeout' : 'unreachable', error, durationMs: monotonicMs() - started };
  } finally {
    clearTimeout(timer);
    stopListening();
  }
}
