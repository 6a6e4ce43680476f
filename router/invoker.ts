// Call a function with a stored request (the queue-worker's path), through the same keep-alive
// pools and the same failure classification as the synchronous proxy.

import type { Dispatcher } from 'undici';
import { randomUUID } from 'node:crypto';
import { onAbort, type AnySignal } from '../common/call-abort.js';
import { monotonicMs, unixNanos } from '../common/clock.js';
import type { RouterError } from './errors.js';
import { addRouterRequestHeaders, requestHeadersForUpstream, responseHeadersForClient } from './headers.js';
import { DeadlineError, classifyUpstreamError, upstreamOrigin, upstreamPath } from './upstream.js';

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

/**
 * Where an invocation's response body goes, chunk by chunk as undici hands it over (no stream objects
 * in between: a Readable and its async iterator per call were ~8 % of a draining worker's CPU).
 */
export interface BodySink<B> {
  /** Take a chunk; a promise asks for nothing more until it settles (the connection is paused meanwhile). */
  write(chunk: Buffer): Promise<void> | undefined;
  /** The body is complete: what was read. */
  end(): Promise<B>;
  /** The call failed part-way: drop what was taken (a file included). */
  discard(): Promise<void>;
}

export interface InvokeOptions<B = Buffer> {
  readonly dispatcher: Dispatcher;
  /**
   * Takes the response body (within upstream_timeout); by default the whole body is read into one
   * Buffer. The worker passes one that keeps at most the stored limit in memory (worker/result-body.ts).
   */
  readonly body?: (statusCode: number) => BodySink<B>;
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
export function invoke<B = Buffer>(target: InvokeTarget, request: StoredRequest, options: InvokeOptions<B>): Promise<InvokeResult<B>> {
  const headers = requestHeadersForUpstream(request.headers as Record<string, string | string[]>);
  // The stored X-Start-Time is the router's, set when the call was accepted; X-Forwarded-For is kept as
  // the accept path built it (client's list plus the peer), as the sync path sends it.
  addRouterRequestHeaders(headers, {
    callId: target.callId ?? randomUUID(), startTime: stored(headers['x-start-time']) ?? unixNanos(),
    remoteAddress: undefined, host: undefined, proto: 'http',
  });
  delete headers['content-length'];
  return new Promise((resolve) => {
    const call = new Invocation<B>(target.functionName, options, resolve);
    try {
      options.dispatcher.dispatch({
        origin: upstreamOrigin(target.upstream),
        path: upstreamPath(target.upstream, request.path, request.query),
        method: request.method as Dispatcher.HttpMethod,
        headers,
        body: request.body.length > 0 || !['GET', 'HEAD'].includes(request.method) ? request.body : null,
      }, call);
    } catch (err) {
      call.fail(err); // refused before anything was sent (undici reports most of these to the handler instead)
    }
  });
}

const collectAll = (): BodySink<Buffer> => {
  const chunks: Buffer[] = [];
  return {
    write: (chunk) => { chunks.push(chunk); return undefined; },
    end: () => Promise.resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)),
    discard: () => { chunks.length = 0; return Promise.resolve(); },
  };
};

/**
 * undici's handler for one invocation. The deadline and the caller's signal (through a listener removed at
 * the end) abort it; the first reason is kept, as the proxy's handler keeps it (proxy.ts).
 */
class Invocation<B> implements Dispatcher.DispatchHandler {
  private readonly started = monotonicMs();
  private readonly timer: NodeJS.Timeout;
  private readonly stopListening: () => void;
  private controller: Dispatcher.DispatchController | undefined;
  private abortReason: Error | undefined;
  private status = 0;
  private headers: Record<string, string | string[]> = {};
  private sink: BodySink<B> | undefined;
  private settled = false;

  constructor(
    private readonly functionName: string,
    private readonly options: InvokeOptions<B>,
    private readonly resolve: (result: InvokeResult<B>) => void,
  ) {
    this.timer = setTimeout(() => this.abort(new DeadlineError('upstream_timeout')), options.timeoutMs);
    const outer = options.signal;
    this.stopListening = onAbort(outer, () => this.abort(outer?.reason as Error));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason !== undefined) controller.abort(this.abortReason);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[]>): void {
    if (statusCode < 200) return;
    this.status = statusCode;
    // The function's end-to-end headers, as the sync path gives them to its client: the connection's own
    // (connection, keep-alive, transfer-encoding, ...) describe the hop to the function, not the result.
    this.headers = responseHeadersForClient(headers, false) as Record<string, string | string[]>;
    this.sink = this.options.body === undefined ? collectAll() as BodySink<B> : this.options.body(statusCode);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const wait = this.sink!.write(chunk);
    if (wait === undefined) return;
    controller.pause();
    wait.then(() => controller.resume(), (err: unknown) => controller.abort(err as Error));
  }

  onResponseEnd(): void {
    this.sink!.end().then(
      (body) => this.settle({ ok: true, status: this.status, headers: this.headers, body, durationMs: monotonicMs() - this.started }),
      (err: unknown) => this.fail(err),
    );
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  /** End the call as failed (classified); also for a dispatch that threw. */
  fail(err: unknown): void {
    const cause = this.abortReason instanceof DeadlineError ? this.abortReason : err;
    const error = classifyUpstreamError(cause, this.functionName, this.options.timeoutMs);
    const result: InvokeResult<B> = { ok: false, kind: error.status === 504 ? 'timeout' : 'unreachable', error, durationMs: monotonicMs() - this.started };
    if (this.sink === undefined) { this.settle(result); return; }
    void this.sink.discard().catch(() => {}).then(() => this.settle(result));
  }

  private abort(reason: Error | undefined): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    this.controller?.abort(this.abortReason);
  }

  private settle(result: InvokeResult<B>): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.stopListening();
    this.resolve(result);
  }
}
