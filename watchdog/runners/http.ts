// http mode: one long-running process listens at upstream_url; each request is proxied to it through an
// undici Pool (keep-alive connections, one request at a time on each), streamed both ways. exec_timeout →
// 504; a refused connection → 502.
//
// undici rather than node:http's client: measured at 32 connections against a node:http echo, the same proxy
// serves ~1.35× the requests per second (node:http's ClientRequest, Agent and IncomingMessage cost more per
// request than undici's parser and handler callbacks). Its index costs ~200 ms to load; the Pool alone ~40 ms,
// loaded while the function process starts, so the watchdog is not ready any later for it.

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import { loadPool } from '../undici.js';
import { endToEndHeaders } from '../../common/hop-by-hop.js';
import { keepLlhttpOnLiftoff } from '../../common/wasm-tier.js';
import { capYoungGeneration } from '../../common/young-generation.js';
import { BodyTooLargeError, ExecTimeoutError, UpstreamError, durationSeconds, toResponse } from '../errors.js';
import { UpstreamProcess } from './http-process.js';
import type { Runner, RunnerDeps } from './types.js';

// This server answered `expect` already, and undici refuses it.
const REQUEST_DROP = new Set(['expect']);

/** The request's headers for the upstream: end-to-end ones (the client's Host included), without `expect`. */
function upstreamHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return endToEndHeaders(headers, REQUEST_DROP);
}

export class HttpRunner implements Runner {
  private readonly upstream: URL;
  private readonly process: UpstreamProcess;
  private pool: Pool | undefined;

  constructor(private readonly deps: RunnerDeps) {
    this.upstream = deps.config.upstreamUrl!;
    this.process = new UpstreamProcess(deps, this.upstream);
  }

  async start(): Promise<void> {
    await this.process.start();
    keepLlhttpOnLiftoff();
    capYoungGeneration();
    // A connection per concurrent request, as node:http's keep-alive agent had; no pipelining (a slow or
    // failing request would hold up or take down the ones queued behind it). exec_timeout and write_timeout
    // bound a request, so undici's own 300 s timeouts are off.
    this.pool = new (loadPool())(this.upstream.origin, { connections: null, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
  }

  ready(): boolean { return this.process.ready(); }

  async stop(): Promise<void> {
    await this.process.stop();
    await this.pool?.destroy().catch(() => {});
  }

  handle(req: IncomingMessage, res: ServerResponse, startedAt: number): void {
    new ProxyCall(this.deps, this.upstream, this.pool!, req, res, startedAt).run();
  }
}

const EMPTY = Buffer.alloc(0);

/** Everything buffered of a request that has fully arrived. */
function completeBody(req: IncomingMessage): Buffer {
  return req.readableLength > 0 ? (req.read() as Buffer | null) ?? EMPTY : EMPTY;
}

function onExecTimeout(call: ProxyCall): void { call.stop('timeout'); }

/** One proxied request: the undici dispatch handler, writing the upstream's answer into `res` as it comes. */
class ProxyCall implements Dispatcher.DispatchHandler {
  private reason: 'timeout' | 'aborted' | 'failed' | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly upstream: URL,
    private readonly pool: Pool,
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
    const headers = upstreamHeaders(req.headers);
    if (deps.config.bufferHttp) { this.sendBuffered(headers, limit); return; }
    // Without Content-Length or Transfer-Encoding a request has no body (RFC 9112 6.3).
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    if (!hasBody) { this.dispatch(headers, null); return; }
    // The request event fires when the head is parsed. Node's server parses straight from the socket and calls
    // into JS once for the head and again for the body, with microtasks run in between (a microtask here saw
    // every body as still arriving). An immediate runs once the whole read is parsed: a body that came with its
    // head is complete by then and goes up as one Buffer with the head (one write, no stream listeners in
    // undici); a body still arriving is streamed, with backpressure, as it comes.
    setImmediate(() => {
      if (this.reason === undefined) this.dispatch(headers, req.complete ? completeBody(req) : req);
    });
  }

  private dispatch(headers: IncomingHttpHeaders, body: Readable | Buffer | null): void {
    try {
      this.pool.dispatch({ method: this.req.method ?? 'GET', path: this.req.url ?? '/', headers, body }, this);
    } catch (err) {
      this.onResponseError(undefined, err as Error);
    }
  }

  /** buffer_http: the whole body, then one request with Content-Length. Chunks are sent as they are, never joined
   * (a Buffer ends at 4 GiB); the body is refused past `limit` (0 = none). */
  private sendBuffered(headers: IncomingHttpHeaders, limit: number): void {
    const { req } = this;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (limit > 0 && size > limit) {
        req.off('data', onData).off('end', onEnd);
        chunks.length = 0;
        this.refuseBody(limit);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (this.reason !== undefined) return;
      headers['content-length'] = String(size);
      this.dispatch(headers, chunks.length <= 1 ? chunks[0] ?? null : Readable.from(chunks, { objectMode: false }));
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

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.reason !== undefined) controller.abort(new Error(this.reason));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: informational, the real head follows
    if (this.reason !== undefined) { controller.abort(new Error(this.reason)); return; }
    const out: Record<string, string | string[] | number> = endToEndHeaders(headers);
    out['X-Duration-Seconds'] = durationSeconds(this.startedAt);
    this.res.writeHead(statusCode, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.reason !== undefined) return;
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    clearTimeout(this.timer);
    if (this.reason === undefined) this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    clearTimeout(this.timer);
    if (this.reason !== undefined) return;
    this.reason = 'failed';
    this.deps.log.warn('upstream request failed', { err });
    toResponse(this.res, new UpstreamError(this.upstream.href, err), this.startedAt);
  }

  private readonly onClose = (): void => {
    clearTimeout(this.timer);
    if (!this.res.writableFinished) this.stop('aborted');
  };

  stop(reason: 'timeout' | 'aborted'): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(new Error(reason));
    if (reason === 'timeout') {
      this.deps.log.warn('upstream request timed out', { timeoutMs: this.deps.config.execTimeoutMs });
      toResponse(this.res, new ExecTimeoutError(this.deps.config.execTimeoutMs), this.startedAt);
    }
  }
}
