// The gateway API the router answers itself, shaped as OpenFaaS's spec shapes it: the read side
// (functions, one function, info, namespaces, logs) and a 501 with what to do instead for every write.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadNameError, FunctionNotFoundError, MethodNotAllowedError, NotFoundError, RouterError } from './errors.js';
import type { FunctionLogs } from './function-logs.js';
import type { FunctionStats } from './function-stats.js';
import { createReadiness, type Readiness } from './readiness.js';
import { parseFunctionName, type FunctionEntry, type FunctionResolver } from './resolver.js';
import { NAME_PATTERN } from './routes.js';
import { gatewayInfo, refuseWrite } from './system-info.js';
import { handleLogs } from './system-logs.js';

export interface SystemContext {
  readonly resolver: FunctionResolver;
  readonly stats: FunctionStats;
  /** The one namespace this router serves. */
  readonly functionNamespace: string;
  readonly functionLogs?: FunctionLogs | undefined;
  /** provider.orchestration of /system/info. */
  readonly orchestration: string;
  readonly readiness?: Readiness;
}

/** Write a JSON body (HEAD gets the headers only). */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

const defaultReadiness = createReadiness();

/** A FunctionStatus of the spec (name … createdAt), then whippet's own fields (upstream, health, …). */
async function describe(ctx: SystemContext, entry: FunctionEntry): Promise<Record<string, unknown>> {
  const { name, url, info = {} } = entry;
  const seen = ctx.stats.get(name);
  const ready = await (ctx.readiness ?? defaultReadiness).ready(name, url);
  return {
    name,
    image: info.image ?? '',
    namespace: ctx.functionNamespace,
    envProcess: info.envProcess ?? '',
    labels: info.labels ?? {},
    annotations: info.annotations ?? {},
    // One watchdog (or one upstream URL) per function: 1 wanted, 1 available while it answers /_/health.
    replicas: 1,
    availableReplicas: ready ? 1 : 0,
    invocationCount: seen?.invocationCount ?? 0,
    // RFC 3339 or absent: faas-cli cannot decode an empty string.
    ...(info.createdAt === undefined ? {} : { createdAt: info.createdAt }),
    upstream: url.href,
    health: seen?.health ?? 'unknown',
    inflight: seen?.inflight ?? 0,
    invocationsByCode: seen?.byCode ?? {},
    lastStatus: seen?.lastStatus,
    lastSeen: seen?.lastSeen,
  };
}

/** Listed functions plus the ones only seen through a URL template, sorted by name. */
function allEntries(ctx: SystemContext): FunctionEntry[] {
  const out = new Map<string, FunctionEntry>();
  for (const e of ctx.resolver.list()) out.set(e.name, e);
  for (const name of ctx.stats.names()) {
    if (out.has(name)) continue;
    const url = ctx.resolver.resolve(name);
    if (url !== undefined) out.set(name, { name, url });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The function a gateway API request names (`name` or `name.namespace`, `?namespace=`); throws 400/404. */
export function findFunction(ctx: SystemContext, requested: string, namespaceParam: string | null): FunctionEntry {
  if (!NAME_PATTERN.test(requested)) throw new BadNameError(requested);
  const name = parseFunctionName(requested, ctx.functionNamespace);
  if (namespaceParam !== null && namespaceParam !== '') parseFunctionName(`${name}.${namespaceParam}`, ctx.functionNamespace);
  const listed = ctx.resolver.list().find((e) => e.name === name);
  if (listed !== undefined) return listed;
  const url = ctx.resolver.resolve(name);
  if (url === undefined) throw new FunctionNotFoundError(name);
  return { name, url };
}

/** `?namespace=` other than the router's: 404 naming both (faas-cli prints the body). */
class OtherNamespaceError extends RouterError {
  constructor(namespace: string, own: string) {
    super('ROUTER_ERR_NAMESPACE_NOT_FOUND', `namespace ${namespace} is not served by this router; it serves namespace ${own} only`, 404);
  }
}

function onlyGet(req: IncomingMessage): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError(req.method ?? '', ['GET', 'HEAD']);
}

/**
 * Answer the gateway API under /system (`path` is what follows it); resolves false for any other path so
 * a mounted extension (the async calls API) can take it. Throws RouterError for the caller to send.
 */
export async function handleGatewayApi(req: IncomingMessage, res: ServerResponse, path: string, query: string, ctx: SystemContext): Promise<boolean> {
  const params = new URLSearchParams(query);
  const method = req.method ?? 'GET';
  const route = path.replace(/\/$/, '');
  const one = /^\/function\/([^/]*)$/.exec(route);
  if (route === '/functions') {
    if (method !== 'GET' && method !== 'HEAD') throw refuseWrite(method, route);
    const ns = params.get('namespace');
    if (ns !== null && ns !== '' && ns !== ctx.functionNamespace) throw new OtherNamespaceError(ns, ctx.functionNamespace);
    sendJson(res, 200, await Promise.all(allEntries(ctx).map((e) => describe(ctx, e))));
    return true;
  }
  if (one !== null) {
    onlyGet(req);
    if (one[1] === '') throw new NotFoundError(`/system${path}`);
    sendJson(res, 200, await describe(ctx, findFunction(ctx, one[1]!, params.get('namespace'))));
    return true;
  }
  if (route === '/info') {
    onlyGet(req);
    sendJson(res, 200, gatewayInfo(ctx.orchestration));
    return true;
  }
  if (route === '/namespaces') {
    onlyGet(req);
    sendJson(res, 200, [ctx.functionNamespace]);
    return true;
  }
  if (route === '/logs') {
    onlyGet(req);
    await handleLogs(req, res, params, ctx);
    return true;
  }
  if (route === '/secrets' || route.startsWith('/scale-function/') || route.startsWith('/namespace/') || route === '/namespace') {
    throw refuseWrite(method, route);
  }
  return false;
}
