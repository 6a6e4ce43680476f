// http mode: one long-running process listens at upstream_url; each request is proxied to it over a
// keep-alive node:http agent, streamed both ways. exec_timeout → 504; a refused connection → 502.

import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, type ClientRequest } from 'node:http';
import { BodyTooLargeError, ExecTimeoutError, UpstreamError, durationSeconds, toResponse } from '../errors.js';
import { UpstreamProcess } from './http-process.js';
import type { Runner, RunnerDeps } from './types.js';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

/** Headers minus hop-by-hop ones (and those the Connection header names). */
export function endToEndHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = headers.connection?.toLowerCase().split(',').map((s) => s.trim());
  const out: IncomingHttpHeaders = {};
  for (const key in headers) {
    if (HOP_BY_HOP.has(key) || named?.includes(key)) continue;
    out[key] = headers[key];
  }
  return out;
}

export class HttpRunner implements Runner {
  private readonly upstream: URL;
  private readonly process: UpstreamProcess;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' });

  constructor(private readonly deps: RunnerDeps) {
    this.upstream = deps.config.upstreamUrl!;
    this.process = new UpstreamProcess(deps, this.upstream);
  }

  start(): Promise<void> { return this.process.start(); }
  ready(): boolean { return this.process.ready(); }

  async stop(): Promise<void> {
    await this.process.stop();
    this.agent.destroy();
  }

  handle(req: IncomingMessage, res: ServerResponse, startedAt: number): void {
    new ProxyCall(this.deps, this.upstream, this.agent, req, res, startedAt).run();
  }
}

function onExecTimeout(call: ProxyCall): void { call.stop('timeout'); }

class ProxyCall {
  private reason: 'timeout' | 'aborted' | 'failed' | undefined;
  private upReq: ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly upstream: URL,
    private readonly agent: Agent,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly startedAt: number,
  ) {}

  run(): void {
    const { req, res, deps } = this;
    const limit = deps.config.bufferHttp ? deps.config.maxRequestBodyBytes : 0;
    // A declared length over the limit is refused before the upstream sees anything.
    if (limit > 0 && Number(req.headers['content-length']) > limit) { this.refuseBody(limit); return; }
    const ms = deps.config.execTimeoutMs;
    if (ms > 0) this.timer = setTimeout(onExecTimeout, ms, this);
    res.once('close', this.onClose);
    const upReq = request({
      agent: this.agent,
      host: this.upstream.hostname.replace(/^\[|\]$/g, ''),
      port: this.upstream.port || 80,
      method: req.method,
      path: req.url,
      headers: endToEndHeaders(req.headers),
    }, this.onResponse);
    this.upReq = upReq;
    upReq.on('error', this.onError);
    if (deps.config.bufferHttp) this.sendBuffered(upReq, limit);
    else req.pipe(upReq);
  }

  /** buffer_http: the whole body, then one request with Content-Length. Chunks are sent as they are, never joined
   * (a Buffer ends at 4 GiB); the body is refused past `limit` (0 = none). */
  private sendBuffered(upReq: ClientRequest, limit: number): void {
    const { req } = this;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (limit > 0 && size > limit) {
        req.off('data', onData).off('end', onEnd);
        chunks.length = 0;
        upReq.destroy();
        this.refuseBody(limit);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (this.reason !== undefined) return;
      upReq.setHeader('Content-Length', size);
      for (const chunk of chunks) upReq.write(chunk);
      upReq.end();
    };
    req.on('data', onData).once('end', onEnd);
  }

  /** The body is over max_request_body: 413, the rest of it read and dropped. */
  private refuseBody(limit: number): void {
    // Read the rest into nothing (read_timeout bounds it), so the 413 is not lost to a reset on close.
    this.req.resume();
    if (this.reason !== undefined) return;
    this.reason = 'failed';
    clearTimeout(this.timer);
    this.deps.log.warn('request body over max_request_body', { limit, path: this.req.url });
    toResponse(this.res, new BodyTooLargeError(limit), this.startedAt);
  }

  private readonly onResponse = (upRes: IncomingMessage): void => {
    if (this.reason !== undefined) { upRes.destroy(); return; }
    const headers: Record<string, string | string[] | number> = endToEndHeaders(upRes.headers) as Record<string, string | string[]>;
    headers['X-Duration-Seconds'] = durationSeconds(this.startedAt);
    this.res.writeHead(upRes.statusCode ?? 502, headers);
    upRes.pipe(this.res);
    upRes.once('end', this.onEnd);
    upRes.once('error', this.onError);
  };

  private readonly onEnd = (): void => { clearTimeout(this.timer); };

  private readonly onError = (err: Error): void => {
    clearTimeout(this.timer);
    if (this.reason !== undefined) return;
    this.reason = 'failed';
    this.deps.log.warn('upstream request failed', { err });
    toResponse(this.res, new UpstreamError(this.upstream.href, err), this.startedAt);
  };

  private readonly onClose = (): void => {
    clearTimeout(this.timer);
    if (!this.res.writableFinished) this.stop('aborted');
  };

  stop(reason: 'timeout' | 'aborted'): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.upReq?.destroy();
    this.req.unpipe();
    if (reason === 'timeout') {
      this.deps.log.warn('upstream request timed out', { timeoutMs: this.deps.config.execTimeoutMs });
      toResponse(this.res, new ExecTimeoutError(this.deps.config.execTimeoutMs), this.startedAt);
    }
  }
}
