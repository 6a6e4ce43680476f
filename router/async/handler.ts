// POST|PUT|PATCH|DELETE /async-function/{name}[/{path}]: validate, store durably, then 202.
// Order of checks: method (405), function known (404), X-Call-Id and X-Callback-Url (400), body size
// (413), and only then the queue: nothing is stored for a call that would be refused. An X-Call-Id the
// queue already holds for another request (function, method, path with query, body) is 409.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monotonicMs, unixNanos } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import type { RouterConfig } from '../config.js';
import type { CountedNames } from '../counted-names.js';
import { CallIdTakenError, FunctionNotFoundError, MethodNotAllowedError } from '../errors.js';
import { addRouterRequestHeaders, requestHeadersForUpstream } from '../headers.js';
import type { RouterMetrics } from '../metrics.js';
import { queueMaxBodyBytes, requestDifferences, type NewCall, type Queue } from '../queue/index.js';
import type { FunctionResolver } from '../resolver.js';
import type { AsyncHook } from '../server.js';
import type { InvocationRoute } from '../routes.js';
import { readLimitedBody } from './body.js';
import { callIdFrom } from './call-id.js';
import { checkCallbackUrl, compileAllowList } from './callback-url.js';
import { BadCallbackUrlError, setRetryAfter } from './errors.js';
import { createUpstreamProbe, type UpstreamProbe } from './probe.js';

/** Methods an async call may use; GET and HEAD are refused (a queued GET would change its meaning). */
const ASYNC_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH', 'DELETE'];

export interface AsyncHandlerDeps {
  readonly queue: Queue;
  readonly resolver: FunctionResolver;
  readonly log: Logger;
  /** The router's registry: accepts count in the gateway_* metrics with code 202. */
  readonly metrics?: RouterMetrics;
  /** Names with their own series (shared with the sync path); others are probed before they are queued. */
  readonly names?: CountedNames;
  readonly probe?: UpstreamProbe;
}

export type AsyncHandlerConfig = Pick<RouterConfig, 'maxAsyncBodyBytes' | 'callbackAllow'> & Partial<Pick<RouterConfig, 'callbackAllowLinkLocal'>>;

/** The AsyncHook the router server mounts at /async-function/. */
export function createAsyncHandler(config: AsyncHandlerConfig, deps: AsyncHandlerDeps): AsyncHook {
  const allow = config.callbackAllow === undefined ? undefined : compileAllowList(config.callbackAllow);
  const { queue, resolver, log, names } = deps;
  const probe = deps.probe ?? createUpstreamProbe();

  return {
    async handle(req: IncomingMessage, res: ServerResponse, match: InvocationRoute): Promise<void> {
      const started = monotonicMs();
      const method = req.method ?? '';
      if (!ASYNC_METHODS.includes(method)) throw new MethodNotAllowedError(method, ASYNC_METHODS);
      const upstream = resolver.resolve(match.name);
      if (upstream === undefined) throw new FunctionNotFoundError(match.name);
      const counted = names === undefined || names.counts(match.name);
      if (!counted && !await probe.exists(upstream)) throw new FunctionNotFoundError(match.name);
      const metrics = counted ? deps.metrics : undefined;
      const { id, chosen } = callIdFrom(req.headers['x-call-id']);
      // Node joins a repeated header with ", " into one value; two callback URLs are refused, not joined.
      const rawCallback = req.headersDistinct['x-callback-url'];
      if (rawCallback !== undefined && rawCallback.length > 1) throw new BadCallbackUrlError(rawCallback.join(', '), 'sent more than once');
      const callbackUrl = rawCallback === undefined ? null : checkCallbackUrl(rawCallback[0]!, allow, config.callbackAllowLinkLocal === true);
      let body: Buffer;
      try {
        // Read per request: NATS tells its max_payload only once connected, which may be after the start.
        body = await readLimitedBody(req, Math.min(config.maxAsyncBodyBytes, queueMaxBodyBytes(queue) ?? Infinity));
      } catch (err) {
        // The rest of an oversized body is never read: close the connection after the 413.
        res.setHeader('Connection', 'close');
        throw err;
      }
      const headers = requestHeadersForUpstream(req.headers);
      delete headers['content-length'];
      addRouterRequestHeaders(headers, {
        callId: id, startTime: unixNanos(), remoteAddress: req.socket.remoteAddress, host: req.headers.host, proto: 'http',
      });
      const call: NewCall = {
        id, functionName: match.name, method, path: match.path, query: match.query, headers, body,
        bodySha256: createHash('sha256').update(body).digest('hex'), callbackUrl,
      };
      let duplicate: boolean;
      try {
        const queued = await queue.enqueue(call);
        duplicate = queued.duplicate;
        // The id is the client's idempotency key for one request: a retry is a duplicate, anything else a conflict.
        const differs = duplicate ? requestDifferences(queued.record, call) : [];
        if (differs.length > 0) throw new CallIdTakenError(id, differs);
      } catch (err) {
        log.warn('async call not queued', { function: match.name, callId: id, reason: (err as Error).message });
        setRetryAfter(res, err);
        throw err;
      }
      metrics?.invocationStarted.inc({ function_name: match.name });
      metrics?.invocationTotal.inc({ function_name: match.name, code: '202' });
      metrics?.functionSeconds.observe({ function_name: match.name, code: '202' }, (monotonicMs() - started) / 1000);
      if (duplicate) log.info('async call already queued', { function: match.name, callId: id });
      const text = `${JSON.stringify({ callId: id, duplicate: chosen ? duplicate : undefined })}\n`;
      res.writeHead(202, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
        'X-Call-Id': id,
        ...(duplicate ? { 'X-Call-Duplicate': 'true' } : {}),
      });
      res.end(text);
    },
    async healthy() {
      return (await queue.health()).ok;
    },
  };
}
