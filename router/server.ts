// createRouter: the HTTP front of the router. Routes are matched once (routes.ts); sync calls are
// proxied (proxy.ts); /async-function and extra /system routes are delegated to optional hooks.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Logger } from '../common/log.js';
import { checkBasicAuth, loadBasicAuth, type BasicCredentials } from './auth.js';
import type { RouterConfig } from './config.js';
import { AsyncDisabledError, FunctionNotFoundError, INTERNAL_HEADER, MethodNotAllowedError, NotFoundError, RouterError, UnauthorizedError, sendError } from './errors.js';
import { createFunctionStats, type FunctionStats } from './function-stats.js';
import { unixNanos } from './headers.js';
import { createRouterMetrics, type RouterMetrics } from './metrics.js';
import { forward, type ForwardOutcome } from './proxy.js';
import type { FunctionResolver } from './resolver.js';
import { matchRoute, type InvocationRoute } from './routes.js';
import { handleSystemFunctions, sendJson } from './system.js';
import { createUpstreamDispatcher } from './upstream.js';
import type { UiMount } from './ui/dashboard.js';

/** The async half plugs in here: it answers /async-function/* and reports whether its queue is reachable. */
export interface AsyncHook {
  handle(req: IncomingMessage, res: ServerResponse, match: InvocationRoute): Promise<void>;
  healthy(): Promise<boolean>;
}

/** Extra /system/* routes (e.g. /system/calls); resolves false when the path is not theirs. Auth is already checked. */
export interface SystemRoutes {
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<boolean>;
}

export interface RouterDeps {
  readonly resolver: FunctionResolver;
  readonly log: Logger;
  readonly metrics?: RouterMetrics;
  readonly dispatcher?: Dispatcher;
  readonly stats?: FunctionStats;
  /** Defaults to the files under secret_mount_path when basic_auth is on. */
  readonly credentials?: BasicCredentials;
  readonly async?: AsyncHook;
  readonly systemRoutes?: SystemRoutes;
  /** The dashboard at /ui/ (router/ui/dashboard.ts), behind the same auth as /system. */
  readonly ui?: UiMount;
}

export type RouterServerConfig = Pick<RouterConfig,
  'readTimeoutMs' | 'writeTimeoutMs' | 'upstreamTimeoutMs' | 'basicAuth' | 'secretMountPath' | 'functionNamespace'>;

export interface RouterServer {
  readonly server: Server;
  readonly metrics: RouterMetrics;
  readonly dispatcher: Dispatcher;
  readonly stats: FunctionStats;
  /** Start listening; resolves with the bound port. */
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  /** Stop accepting, wait up to `graceMs` for in-flight calls, then cut the rest and close the pools. */
  close(graceMs?: number): Promise<void>;
}

// Node's default is 300 s; a client that takes longer than a minute to send its headers is not a client.
const MAX_HEADERS_TIMEOUT_MS = 60_000;

/** Build the router (not listening yet). */
export function createRouter(config: RouterServerConfig, deps: RouterDeps): RouterServer {
  const metrics = deps.metrics ?? createRouterMetrics();
  const dispatcher = deps.dispatcher ?? createUpstreamDispatcher({ upstreamTimeoutMs: config.upstreamTimeoutMs });
  const stats = deps.stats ?? createFunctionStats();
  const credentials = deps.credentials ?? (config.basicAuth ? loadBasicAuth(config.secretMountPath) : undefined);
  const systemCtx = { resolver: deps.resolver, stats, functionNamespace: config.functionNamespace };
  const log = deps.log;
  const ui = deps.ui?.({ resolver: deps.resolver, stats, metrics });

  const invokeSync = (req: IncomingMessage, res: ServerResponse, match: InvocationRoute): void => {
    const upstream = deps.resolver.resolve(match.name);
    if (upstream === undefined) throw new FunctionNotFoundError(match.name);
    const given = req.headers['x-call-id'];
    const callId = typeof given === 'string' && given !== '' ? given : randomUUID();
    const name = match.name;
    metrics.invocationStarted.inc({ function_name: name });
    stats.started(name);
    forward(req, res, {
      functionName: name, upstream, path: match.path, query: match.query, callId,
      startTime: unixNanos(), startedAt: performance.now(), timeoutMs: config.upstreamTimeoutMs,
    }, dispatcher, (outcome: ForwardOutcome) => {
      const code = outcome.status === 0 ? 'aborted' : String(outcome.status);
      metrics.invocationTotal.inc({ function_name: name, code });
      metrics.functionSeconds.observe({ function_name: name, code }, outcome.seconds);
      const health = outcome.error === undefined ? 'healthy' : outcome.error.status === 504 ? 'timeout' : 'unreachable';
      stats.completed(name, outcome.status, outcome.clientAborted && outcome.error === undefined ? stats.get(name)?.health ?? 'unknown' : health);
      if (outcome.error !== undefined) log.warn('upstream failed', { function: name, callId, code: outcome.error.code, reason: outcome.error.message });
      else if (outcome.clientAborted) log.info('client left before the response ended', { function: name, callId });
    });
  };

  const handleSystem = async (req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> => {
    if (credentials !== undefined && !checkBasicAuth(req.headers.authorization, credentials)) throw new UnauthorizedError();
    if (handleSystemFunctions(req, res, path, systemCtx)) return;
    if (deps.systemRoutes !== undefined && await deps.systemRoutes.handle(req, res, path, query)) return;
    throw new NotFoundError(`/system${path}`);
  };

  const onlyGet = (req: IncomingMessage): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError(req.method ?? '', ['GET', 'HEAD']);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const match = matchRoute(req.url ?? '/');
    if (match instanceof RouterError) throw match;
    switch (match.kind) {
      case 'function': return invokeSync(req, res, match);
      case 'async':
        if (deps.async === undefined) throw new AsyncDisabledError();
        return deps.async.handle(req, res, match);
      case 'system': return handleSystem(req, res, match.path, match.query);
      case 'ui':
        if (credentials !== undefined && !checkBasicAuth(req.headers.authorization, credentials)) throw new UnauthorizedError();
        if (ui === undefined) throw new NotFoundError('/ui');
        return ui.handle(req, res, match.path, match.query);
      case 'healthz': {
        onlyGet(req);
        const queueOk = deps.async === undefined ? undefined : await deps.async.healthy().catch(() => false);
        return sendJson(res, queueOk === false ? 503 : 200, { status: queueOk === false ? 'unhealthy' : 'ok', queue: queueOk });
      }
      case 'metrics': {
        onlyGet(req);
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Content-Length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
        return;
      }
    }
  };

  const server = createServer({
    requestTimeout: config.readTimeoutMs,
    headersTimeout: Math.min(config.readTimeoutMs, MAX_HEADERS_TIMEOUT_MS),
  }, (req, res) => {
    const failed = (err: unknown): void => {
      if (!(err instanceof RouterError)) log.error('request failed', { url: req.url, err: err as Error });
      sendError(res, err);
    };
    try {
      const pending = route(req, res);
      if (pending !== undefined) pending.catch(failed);
    } catch (err) {
      failed(err);
    }
  });
  // Requests Node's parser refuses (raw spaces, bad header bytes) still get a reason, marked as the router's.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (err.code !== undefined && ['ECONNRESET', 'EPIPE'].includes(err.code))) { socket.destroy(); return; }
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const body = timeout ? 'request not received within read_timeout\n' : `malformed request (${err.code ?? 'parse error'})\n`;
    socket.end(`HTTP/1.1 ${timeout ? '408 Request Timeout' : '400 Bad Request'}\r\nConnection: close\r\n${INTERNAL_HEADER}: router\r\n`
      + `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
  // write_timeout: a client connection with no progress for this long is closed (see config check).
  server.timeout = config.writeTimeoutMs;

  return {
    server, metrics, dispatcher, stats,
    listen: (port, host = '0.0.0.0') => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const addr = server.address() as AddressInfo;
        resolve({ port: addr.port, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}` });
      });
    }),
    async close(graceMs = 0) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      ui?.close(); // live views would otherwise hold the close until graceMs
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      try {
        await closed;
      } finally {
        clearTimeout(force);
      }
      await dispatcher.close();
    },
  };
}
