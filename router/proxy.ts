// The synchronous hop: stream a client request to the function and its response back, with
// backpressure both ways (undici pauses the upstream socket while the client is slow).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { sendError, type RouterError } from './errors.js';
import { addRouterRequestHeaders, requestHeadersForUpstream, responseHeadersForClient } from './headers.js';
import { DeadlineError, classifyUpstreamError, upstreamPath } from './upstream.js';

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

/** How a call ended: the status the client got (0 when the client left first) and why it failed, if it did. */
export interface ForwardOutcome {
  readonly status: number;
  readonly seconds: number;
  readonly error?: RouterError;
  readonly clientAborted?: boolean;
}

class ClientGoneError extends Error {
  readonly code = 'ROUTER_CLIENT_GONE';
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
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  const hasBody = te !== undefined || (cl !== undefined && cl !== '0');

  let controller: Dispatcher.DispatchController | undefined;
  let abortReason: Error | undefined;
  let finished = false;
  let status = 0;
  let trailerAnnounced = false;
  const seconds = (): number => (performance.now() - call.startedAt) / 1000;
  const abort = (reason: Error): void => {
    abortReason ??= reason;
    controller?.abort(abortReason);
  };
  const timer = setTimeout(() => abort(new DeadlineError('upstream_timeout')), call.timeoutMs);
  const onClientClose = (): void => { if (!finished) abort(new ClientGoneError('client closed the connection')); };
  res.once('close', onClientClose);

  const finish = (outcome: ForwardOutcome): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    res.off('close', onClientClose);
    done(outcome);
  };
  const fail = (err: Error): void => {
    if (err instanceof ClientGoneError || res.destroyed) {
      finish({ status, seconds: seconds(), clientAborted: true });
      return;
    }
    const error = classifyUpstreamError(err, call.functionName, call.timeoutMs);
    if (!res.headersSent) status = error.status;
    sendError(res, error, { 'X-Call-Id': call.callId, 'X-Start-Time': call.startTime });
    finish({ status, seconds: seconds(), error });
  };

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(ctl) {
      controller = ctl;
      if (abortReason !== undefined) ctl.abort(abortReason);
    },
    onResponseStart(ctl, statusCode, upstreamHeaders, statusMessage) {
      if (statusCode < 200) return;
      status = statusCode;
      trailerAnnounced = upstreamHeaders['trailer'] !== undefined;
      const out = responseHeadersForClient(upstreamHeaders, trailerAnnounced);
      out['x-call-id'] = call.callId;
      out['x-start-time'] ??= call.startTime;
      out['x-duration-seconds'] ??= seconds().toFixed(6);
      try {
        res.writeHead(statusCode, statusMessage || undefined, out);
      } catch (err) {
        ctl.abort(err as Error);
      }
    },
    onResponseData(ctl, chunk) {
      if (!res.write(chunk)) {
        ctl.pause();
        res.once('drain', () => ctl.resume());
      }
    },
    onResponseEnd(_ctl, trailers) {
      if (trailerAnnounced && Object.keys(trailers).length > 0) {
        res.addTrailers(responseHeadersForClient(trailers, false) as Record<string, string>);
      }
      res.end();
      finish({ status, seconds: seconds() });
    },
    onResponseError(_ctl, err) {
      fail(abortReason ?? err);
    },
  };

  dispatcher.dispatch({
    origin: call.upstream.origin,
    path: upstreamPath(call.upstream, call.path, call.query),
    method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
    headers,
    body: hasBody ? req : null,
  }, handler);
}
