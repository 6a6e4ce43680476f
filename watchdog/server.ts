// The watchdog's HTTP front: /_/health and /_/ready, max_inflight, read/write timeouts, malformed requests,
// then hands every other request to the runner of the configured mode.

import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { monotonicMs } from '../common/clock.js';
import { DatedResponse } from '../common/dated-response.js';
import type { WatchdogConfig } from './config.js';
import { INTERNAL_HEADER, OverloadedError, WatchdogError, toResponse } from './errors.js';
import type { LockFile } from './lock.js';
import type { Logger } from '../common/log.js';
import type { Metrics } from './metrics.js';
import type { Runner } from './runners/types.js';

export interface ServerDeps {
  readonly runner: Runner;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly lock: LockFile | undefined;
}

// Per-request state lives on the response under these keys, so the hot path allocates no closures.
const OWNER = Symbol('watchdog');
const STARTED = Symbol('startedAt');
const WRITE_TIMER = Symbol('writeTimer');
const TIMED_OUT = Symbol('timedOut');
type TrackedResponse = ServerResponse & {
  [OWNER]: WatchdogServer; [STARTED]: number; [WRITE_TIMER]: NodeJS.Timeout; [TIMED_OUT]?: true;
};

/** Logged and counted for a response cut by write_timeout: the time ran out, as with exec_timeout. */
const WRITE_TIMEOUT_STATUS = 504;
/** Logged and counted when the client closed before the response was out (nginx's "client closed request"). */
const CLIENT_CLOSED_STATUS = 499;

function onWriteTimeout(res: TrackedResponse): void {
  res[TIMED_OUT] = true;
  res[OWNER].log.warn('write_timeout exceeded, closing the connection', { path: res.req.url });
  res.destroy();
}

function onResponseClose(this: TrackedResponse): void {
  clearTimeout(this[WRITE_TIMER]);
  this[OWNER].finished(this);
}

const ANSWERED = Symbol('answered');
/** After answering a bad request, how long to keep reading (and discarding) before closing: closing with
 * unread input makes TCP send a reset, which can destroy the answer before the client reads it. */
const BAD_REQUEST_LINGER_MS = 500;

/** Answer a malformed or too slow request (431, 408, 400) unless a response is already under way. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket & { [ANSWERED]?: true }): void {
  if (socket[ANSWERED]) return; // the parser reports every later chunk too
  const current = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (!socket.writable || err.code === 'ECONNRESET' || current?.headersSent) {
    socket.destroy();
    return;
  }
  socket[ANSWERED] = true;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n${INTERNAL_HEADER}: watchdog\r\n\r\n`);
  setTimeout(() => socket.destroy(), BAD_REQUEST_LINGER_MS).unref();
}

export class WatchdogServer {
  readonly server: Server;
  /** False before the start completes and once the drain begins: /_/health then answers 503. */
  accepting = false;
  private draining = false;
  private inflight = 0;
  private onIdle: (() => void) | undefined;

  constructor(private readonly config: WatchdogConfig, private readonly deps: ServerDeps) {
    const readMs = config.readTimeoutMs;
    this.server = createServer({
      ServerResponse: DatedResponse,
      requestTimeout: readMs,
      headersTimeout: readMs,
      // Node checks request timeouts on this period (30 s by default): tighten it so read_timeout is kept.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(readMs / 4))),
    }, this.onRequest);
    this.server.on('clientError', onClientError);
  }

  get log(): Logger { return this.deps.log; }

  /** Listen on config.port (all interfaces); resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  private healthy(): boolean {
    const { lock } = this.deps;
    return this.accepting && this.deps.runner.ready() && (lock === undefined || lock.healthy());
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (url.startsWith('/_/')) { this.probe(req, res, url); return; }
    const startedAt = monotonicMs();
    if (this.draining) res.setHeader('Connection', 'close');
    const max = this.config.maxInflight;
    this.deps.metrics.requestStarted();
    if (max > 0 && this.inflight >= max) {
      toResponse(res, new OverloadedError(max), startedAt);
      this.deps.metrics.requestFinished(req.method ?? 'GET', 429, (monotonicMs() - startedAt) / 1000);
      return;
    }
    this.inflight++;
    const tracked = res as TrackedResponse;
    tracked[OWNER] = this;
    tracked[STARTED] = startedAt;
    tracked[WRITE_TIMER] = setTimeout(onWriteTimeout, this.config.writeTimeoutMs, tracked);
    res.once('close', onResponseClose);
    try {
      this.deps.runner.handle(req, res, startedAt);
    } catch (err) {
      // Runners never throw by contract; if one does, this request fails, not the process.
      this.deps.log.error('request failed', { err, path: url });
      toResponse(res, err, startedAt);
    }
  };

  /** Bookkeeping once a function response is over (sent or cut). */
  finished(res: TrackedResponse): void {
    this.inflight--;
    const seconds = (monotonicMs() - res[STARTED]) / 1000;
    // A cut response is logged and counted as what happened to it, not as the status its head carried.
    let status = res.statusCode;
    let cut: string | undefined;
    if (!res.writableFinished) {
      const err = (res as { errored?: unknown }).errored; // toResponse cut it (the head was out) with this error
      if (res[TIMED_OUT]) [status, cut] = [WRITE_TIMEOUT_STATUS, 'write_timeout'];
      else if (err instanceof WatchdogError) [status, cut] = [err.status, err.code];
      else [status, cut] = [CLIENT_CLOSED_STATUS, 'client_closed'];
    }
    this.deps.metrics.requestFinished(res.req.method ?? 'GET', status, seconds);
    this.deps.log.info('request', {
      method: res.req.method, path: res.req.url, status, seconds: Number(seconds.toFixed(6)),
      cut, sentStatus: cut !== undefined && res.headersSent ? res.statusCode : undefined,
    });
    if (this.inflight === 0) this.onIdle?.();
  }

  private probe(req: IncomingMessage, res: ServerResponse, url: string): void {
    const path = url.split('?', 1)[0];
    if (path !== '/_/health' && path !== '/_/ready') { res.writeHead(404, { [INTERNAL_HEADER]: 'watchdog' }).end(); return; }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { Allow: 'GET, HEAD', [INTERNAL_HEADER]: 'watchdog' }).end(); return; }
    let status = this.healthy() ? 200 : 503;
    if (status === 200 && path === '/_/ready' && this.config.maxInflight > 0 && this.inflight >= this.config.maxInflight) status = 429;
    const body = status === 200 ? 'OK\n' : `${STATUS_CODES[status]}\n`;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, [INTERNAL_HEADER]: 'watchdog' });
    res.end(body);
  }

  /** Stop accepting: health turns 503 and later responses ask their connection to close. */
  startDrain(): void {
    this.accepting = false;
    this.draining = true;
  }

  /** Close the listener, wait for in-flight requests up to `deadlineMs`; resolves with how many were cut. */
  async close(deadlineMs: number): Promise<number> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    try {
      if (this.inflight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => { this.onIdle = resolve; }),
          new Promise<void>((resolve) => { timer = setTimeout(resolve, deadlineMs); }),
        ]);
      }
    } finally {
      clearTimeout(timer);
    }
    const cut = this.inflight;
    this.server.closeAllConnections();
    await closed;
    return cut;
  }
}
