// The HTTP front of the router. Routes are matched once (routes.ts); sync calls are proxied
// (sync-invoker.ts); /async-function and extra /system routes are delegated to optional hooks.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { DatedResponse } from '../common/dated-response.js';
import type { Logger } from '../common/log.js';
import { checkBasicAuth, loadBasicAuth, type BasicCredentials } from './auth.js';
import { onClientError, onConnect } from './client-error.js';
import type { RouterConfig } from './config.js';
import { AsyncDisabledError, MethodNotAllowedError, NotFoundError, RouterError, UnauthorizedError, isKnownError, sendError } from './errors.js';
import { createCountedNames, type CountedNames } from './counted-names.js';
import { createFunctionStats, type FunctionStats } from './function-stats.js';
import { createRouterMetrics, type RouterMetrics } from './metrics.js';
import { createReadiness } from './readiness.js';
import { parseFunctionName, type FunctionResolver } from './resolver.js';
import { matchRoute, type InvocationRoute } from './routes.js';
import { cutForWriteTimeout } from './proxy.js';
import { SyncInvoker } from './sync-invoker.js';
import type { FunctionLogs } from './function-logs.js';
import { handleGatewayApi, sendJson, type SystemContext } from './system.js';
import { createUpstreamDispatcher } from './upstream.js';
import type { UiMount, UiRoutes } from './ui/dashboard.js';
import { refuseCrossSiteWrite } from './ui/csrf.js';

/** The async half plugs in here: it answers /async-function/* and reports whether its queue is reachable. */
export interface AsyncHook {
  handle(req: IncomingMessage, res: ServerResponse, match: InvocationRoute): Promise<void>;
  healthy(): Promise<boolean>;
}

/** The figures of a router that runs as several processes (router/cluster/): each asks the primary for the sum. */
export interface SharedFigures {
  /** Counts of every process once refreshed; the server refreshes before each /system and /ui answer. */
  readonly stats: FunctionStats & { refresh(): Promise<void> };
  /** The /metrics text of the whole router. */
  scrape(): Promise<string>;
}

/** Extra /system/* routes (e.g. /system/calls); resolves false when the path is not theirs. Auth is already checked. */
export interface SystemRoutes {
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<boolean>;
}

export interface RouterServerDeps {
  readonly resolver: FunctionResolver;
  readonly log: Logger;
  readonly metrics?: RouterMetrics;
  /** A pool given here belongs to the caller, who closes it; without one the server makes and closes its own. */
  readonly dispatcher?: Dispatcher;
  readonly stats?: FunctionStats;
  /** Shared with the async accept path; one over `resolver` by default. */
  readonly names?: CountedNames;
  /** Defaults to the files under secret_mount_path when basic_auth is on. */
  readonly credentials?: BasicCredentials;
  readonly async?: AsyncHook;
  readonly systemRoutes?: SystemRoutes;
  /** The dashboard at /ui/ (router/ui/dashboard.ts), behind the same auth as /system. */
  readonly ui?: UiMount;
  /** The watchdogs' log lines for GET /system/logs (`whippet up` fills it); without: 501. */
  readonly functionLogs?: FunctionLogs;
  /** What /system/info reports as provider.orchestration. */
  readonly orchestration?: string;
  /** Several processes share this router's port: /metrics and the function counts span them all. */
  readonly shared?: SharedFigures;
}

export type RouterServerConfig = Pick<RouterConfig,
  'readTimeoutMs' | 'writeTimeoutMs' | 'upstreamTimeoutMs' | 'basicAuth' | 'secretMountPath' | 'functionNamespace'>;

// Node's default is 300 s; a client that takes longer than a minute to send its headers is not a client.
const MAX_HEADERS_TIMEOUT_MS = 60_000;

/** The router's server, not listening yet. */
export class RouterServer {
  readonly server: Server;
  readonly metrics: RouterMetrics;
  readonly stats: FunctionStats;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly credentials: BasicCredentials | undefined;
  private readonly sync: SyncInvoker;
  private readonly system: SystemContext;
  private readonly ui: UiRoutes | undefined;
  private readonly namespace: string;

  constructor(config: RouterServerConfig, private readonly deps: RouterServerDeps) {
    this.metrics = deps.metrics ?? createRouterMetrics();
    this.stats = deps.stats ?? createFunctionStats();
    this.ownsDispatcher = deps.dispatcher === undefined;
    this.dispatcher = deps.dispatcher ?? createUpstreamDispatcher({ upstreamTimeoutMs: config.upstreamTimeoutMs });
    this.credentials = deps.credentials ?? (config.basicAuth ? loadBasicAuth(config.secretMountPath) : undefined);
    this.sync = new SyncInvoker(config.upstreamTimeoutMs, {
      resolver: deps.resolver, dispatcher: this.dispatcher, metrics: this.metrics, stats: this.stats, log: deps.log,
      names: deps.names ?? createCountedNames(deps.resolver, deps.log),
    });
    this.ui = deps.ui?.({ resolver: deps.resolver, stats: this.stats, metrics: this.metrics, functionNamespace: config.functionNamespace });
    this.namespace = config.functionNamespace;
    this.system = {
      resolver: deps.resolver, stats: this.stats, functionNamespace: config.functionNamespace,
      functionLogs: deps.functionLogs, orchestration: deps.orchestration ?? 'functions',
      readiness: createReadiness(this.dispatcher),
    };
    this.server = createServer({
      ServerResponse: DatedResponse,
      requestTimeout: config.readTimeoutMs,
      headersTimeout: Math.min(config.readTimeoutMs, MAX_HEADERS_TIMEOUT_MS),
      // Node checks both timeouts on this period (30 s by default, so a slowloris client held its socket up
      // to 30 s past read_timeout): tighten it as the watchdog does, so they fire within a second.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.readTimeoutMs / 4))),
    }, (req, res) => this.onRequest(req, res));
    this.server.on('clientError', onClientError);
    this.server.on('connect', onConnect);
    // write_timeout: a client connection with no progress for this long is closed (see config check).
    this.server.timeout = config.writeTimeoutMs;
    this.server.on('timeout', cutForWriteTimeout);
  }

  /** Start listening; resolves with the bound port. */
  listen(port: number, host = '0.0.0.0'): Promise<{ port: number; url: string }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        resolve({ port: address.port, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}` });
      });
    });
  }

  /** Stop accepting, wait up to `graceMs` for in-flight calls, then cut the rest (and close the pool if it is ours). */
  async close(graceMs = 0): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.ui?.close(); // live views would otherwise hold the close until graceMs
    this.server.closeIdleConnections();
    const force = setTimeout(() => this.server.closeAllConnections(), graceMs);
    try {
      await closed;
    } finally {
      clearTimeout(force);
    }
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const failed = (err: unknown): void => {
      if (!isKnownError(err)) this.deps.log.error('request failed', { url: req.url, err: err as Error });
      sendError(res, err);
    };
    try {
      const pending = this.route(req, res);
      if (pending !== undefined) pending.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  private route(req: IncomingMessage, res: ServerResponse): Promise<void> | void {
    const match = matchRoute(originForm(req.url ?? '/'));
    if (match instanceof RouterError) throw match;
    switch (match.kind) {
      case 'function': return this.sync.invoke(req, res, { ...match, name: parseFunctionName(match.name, this.namespace) });
      case 'async':
        if (this.deps.async === undefined) throw new AsyncDisabledError();
        return this.deps.async.handle(req, res, { ...match, name: parseFunctionName(match.name, this.namespace) });
      case 'system': return this.handleSystem(req, res, match.path, match.query);
      case 'ui':
        if (this.credentials !== undefined && !checkBasicAuth(req.headers.authorization, this.credentials)) throw new UnauthorizedError();
        if (this.ui === undefined) throw new NotFoundError('/ui');
        if (this.deps.shared !== undefined) return this.deps.shared.stats.refresh().then(() => this.ui!.handle(req, res, match.path, match.query));
        return this.ui.handle(req, res, match.path, match.query);
      case 'healthz': return this.handleHealth(req, res);
      case 'metrics': return this.handleMetrics(req, res);
    }
  }

  private async handleSystem(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
    if (this.credentials !== undefined && !checkBasicAuth(req.headers.authorization, this.credentials)) throw new UnauthorizedError();
    refuseCrossSiteWrite(req);
    await this.deps.shared?.stats.refresh();
    if (await handleGatewayApi(req, res, path, query, this.system)) return;
    if (this.deps.systemRoutes !== undefined && await this.deps.systemRoutes.handle(req, res, path, query)) return;
    throw new NotFoundError(`/system${path}`);
  }

  private async handleHealth(req: IncomingMessage, res: ServerResponse): Promise<void> {
    onlyGet(req);
    const queueOk = this.deps.async === undefined ? undefined : await this.deps.async.healthy().catch(() => false);
    sendJson(res, queueOk === false ? 503 : 200, { status: queueOk === false ? 'unhealthy' : 'ok', queue: queueOk });
  }

  private async handleMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    onlyGet(req);
    const { registry } = this.metrics;
    const text = this.deps.shared === undefined ? await registry.metrics() : await this.deps.shared.scrape();
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  }
}

/** RFC 9112 §3.2.2: a server must accept the absolute form (`http://host/path`); route by its path and query. */
function originForm(target: string): string {
  const m = /^https?:\/\/[^/?#]*/i.exec(target);
  if (m === null) return target;
  const rest = target.slice(m[0].length);
  return rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
}

function onlyGet(req: IncomingMessage): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError(req.method ?? '', ['GET', 'HEAD']);
}
