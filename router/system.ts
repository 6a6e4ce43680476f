// The gateway API the router answers itself, shaped as OpenFaaS's spec shapes it: the read side
// (functions, one function, info, namespaces, logs) and a 501 with what to do instead for every write.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { MethodNotAllowedError, NotFoundError } from './errors.js';
import type { FunctionLogs } from './function-logs.js';
import type { FunctionStats } from './function-stats.js';
import type { Readiness } from './readiness.js';
import type { FunctionResolver } from './resolver.js';
import { allEntries, describe, findFunction, OtherNamespaceError } from './system-functions.js';
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
  readonly readiness: Readiness;
}

/** Write a JSON body (HEAD gets the headers only). */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
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
