// The synchronous hop: stream a client request to the function and its response back, with
// backpressure both ways (undici pauses the upstream socket while the client is slow).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { monotonicMs } from '../common/clock.js';
import { sendError, type RouterError } from './errors.js';
import { addRouterRequestHeaders, requestHeadersForUpstream, responseHeadersForClient } from './headers.js';
import { DeadlineError, classifyUpstreamError, upstreamOrigin, upstreamPath } from './upstream.js';

/** One proxied call: where it goes and the identity the router gave it. */
export interface ForwardCall {
  readonly functionName: string;
  readonly upstream: URL;
  /** Path suffix after /function/{name} (raw, may be ''), and the raw query without `?`. */
  readonly path: string;
  readonly query: string;
  readonly callId: string;
  /** Unix ns at router entry, and the monotonic start for durations. */
  readonly startTime: string;
  readonly startedAt: number;
  readonly timeoutMs: number;
}

/**
 * Why the client's side ended a call early, as the watchdog names its cuts: `client_closed` (the client
 * went away), `client_stalled` (it stopped reading and upstream_timeout passed while the response waited
 * for it), `write_timeout` (its connection made no progress for write_timeout).
 */
export type ClientCut = 'client_closed' | 'client_stalled' | 'write_timeout';

/** How a call ended: the status the client got (0 when none went out), why it failed, or how the client cut it. */
export interface ForwardOutcome {
  readonly status: number;
  /** The status the function answered with; 0 when it never answered (connection error, timeout). */
  readonly upstreamStatus: number;
  readonly seconds: number;
  readonly error?: RouterError;
  readonly cut?: ClientCut;
}

/** The abort reason when the client's side ends the call; never answered, only recorded. */
class ClientCutError extends Error {
  constructor(readonly cut: ClientCut) { super(`client cut the call (${cut})`); }
}

const WRITE_TIMED_OUT = Symbol('writeTimedOut');

/** The server's 'timeout' handler: remember that write_timeout, not the client, closed this socket. */
export function cutForWriteTimeout(socket: { destroy(): void; [WRITE_TIMED_OUT]?: true }): void {
  socket[WRITE_TIMED_OUT] = true;
  socket.destroy();
}

/** Proxy `req` to the call's upstream and write the answer to `res`; `done` runs exactly once. */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  call: ForwardCall,
  dispatcher: Dispatcher,
  done: (outcome: ForwardOutcome) => void,
): void {
  const headers = requestHeadersForUpstream(req.headers);
  addRouterRequestHeaders(headers, {
    callId: call.callId, startTime: call.startTime, remoteAddress: req.socket.remoteAddress,
    host: req.headers.host, proto: 'http',
  });
  const transferEncoding = req.headers['transfer-encoding'];
  const contentLength = req.headers['content-length'];
  const hasBody = transferEncoding !== undefined || (contentLength !== undefined && contentLength !== '0');
  const handler = new ProxiedCall(res, call, done);
  const send = (body: IncomingMessage | Buffer | null): void => {
    if (!handler.dispatching()) return;
    dispatcher.dispatch({
      origin: upstreamOrigin(call.upstream),
      path: upstreamPath(call.upstream, call.path, call.query),
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body,
    }, handler);
  };
  if (!hasBody) send(null);
  // The request event fires when the head is parsed. Node's server parses straight from the socket (the
  // parser consumes it), calling into JS once for the head and again for the body, and microtasks run in
  // between: a microtask here saw every body as incomplete. An immediate runs once the whole read has been
  // parsed, so a body that came in the same read as its head is complete by then and goes up as one Buffer
  // with the head (one write, no stream listeners); a body still arriving is streamed, with backpressure.
  else setImmediate(() => send(req.complete ? completeBody(req) : req));
}

const EMPTY = Buffer.alloc(0);

/** Everything buffered of a request that has fully arrived. */
function completeBody(req: IncomingMessage): Buffer {
  return req.readableLength > 0 ? (req.read() as Buffer | null) ?? EMPTY : EMPTY;
}

/**
 * undici's handler for one call: writes the function's answer to the client as it arrives. The first of
 * upstream_timeout, a client that leaves, or an upstream failure aborts it, and the reason is kept once.
 */
class ProxiedCall implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private abortReason: Error | undefined;
  private finished = false;
  private dispatched = false;
  private status = 0;
  private upstreamStatus = 0;
  private trailerAnnounced = false;
  /** True while the upstream is paused because the client has not taken what was written. */
  private waitingForClient = false;
  /** The client's socket, kept because res.socket is gone once it closes. */
  private readonly socket: { [WRITE_TIMED_OUT]?: true };
  private readonly timer: NodeJS.Timeout;
  private readonly onClientClose = (): void => {
    if (this.finished) return;
    this.abort(new ClientCutError(this.socket[WRITE_TIMED_OUT] ? 'write_timeout' : 'client_closed'));
  };

  constructor(
    private readonly res: ServerResponse,
    private readonly call: ForwardCall,
    private readonly done: (outcome: ForwardOutcome) => void,
  ) {
    // upstream_timeout while the response waits on a client that stopped reading is the client's doing.
    this.timer = setTimeout(() => this.abort(this.waitingForClient ? new ClientCutError('client_stalled') : new DeadlineError('upstream_timeout')), call.timeoutMs);
    this.socket = res.req.socket as typeof this.socket;
    // on, not once: finish() removes it, and once would wrap it in a new bound function per call.
    res.on('close', this.onClientClose);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason !== undefined) controller.abort(this.abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, upstreamHeaders: Record<string, string | string[]>, statusMessage?: string): void {
    if (statusCode < 200) return;
    this.status = statusCode;
    this.upstreamStatus = statusCode;
    this.trailerAnnounced = upstreamHeaders['trailer'] !== undefined;
    const out = responseHeadersForClient(upstreamHeaders, this.trailerAnnounced);
    out['x-call-id'] = this.call.callId;
    out['x-start-time'] ??= this.call.startTime;
    out['x-duration-seconds'] ??= this.seconds().toFixed(6);
    try {
      this.res.writeHead(statusCode, statusMessage || undefined, out);
    } catch (err) {
      controller.abort(err as Error);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.waitingForClient = true;
      this.res.once('drain', () => { this.waitingForClient = false; controller.resume(); });
    }
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: Record<string, string | string[]>): void {
    if (this.trailerAnnounced && Object.keys(trailers).length > 0) {
      this.res.addTrailers(responseHeadersForClient(trailers, false) as Record<string, string>);
    }
    this.res.end();
    this.finish(undefined, undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(this.abortReason ?? err);
  }

  private seconds(): number {
    return (monotonicMs() - this.call.startedAt) / 1000;
  }

  /** Called just before dispatch; false when the call already ended (the client left while its body was read). */
  dispatching(): boolean {
    this.dispatched = true;
    return !this.finished;
  }

  private abort(reason: Error): void {
    this.abortReason ??= reason;
    if (this.controller !== undefined) this.controller.abort(this.abortReason);
    // Not dispatched yet (the body was being read): nothing upstream to cancel, so end the call here.
    else if (!this.dispatched) this.fail(this.abortReason);
  }

  private fail(err: Error): void {
    if (err instanceof ClientCutError || this.res.destroyed) {
      const cut = err instanceof ClientCutError ? err.cut : this.socket[WRITE_TIMED_OUT] ? 'write_timeout' : 'client_closed';
      this.res.destroy();
      this.finish(undefined, cut);
      return;
    }
    const error = classifyUpstreamError(err, this.call.functionName, this.call.timeoutMs);
    if (!this.res.headersSent) this.status = error.status;
    sendError(this.res, error, { 'X-Call-Id': this.call.callId, 'X-Start-Time': this.call.startTime });
    this.finish(error, undefined);
  }

  private finish(error: RouterError | undefined, cut: ClientCut | undefined): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.res.off('close', this.onClientClose);
    this.done({ status: this.status, upstreamStatus: this.upstreamStatus, seconds: this.seconds(), error, cut });
  }
}
