// The read-only system API the router answers itself: the functions it knows, and its own health.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { FunctionNotFoundError, MethodNotAllowedError, NotFoundError, BadNameError } from './errors.js';
import type { FunctionStats } from './function-stats.js';
import type { FunctionResolver } from './resolver.js';
import { NAME_PATTERN } from './routes.js';

export interface SystemContext {
  readonly resolver: FunctionResolver;
  readonly stats: FunctionStats;
  readonly functionNamespace: string;
}

/** Write a JSON body (HEAD gets the headers only). */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

function describe(ctx: SystemContext, name: string, upstream: URL): Record<string, unknown> {
  const seen = ctx.stats.get(name);
  const dot = name.lastIndexOf('.');
  return {
    name,
    namespace: dot > 0 ? name.slice(dot + 1) : ctx.functionNamespace || undefined,
    upstream: upstream.href,
    health: seen?.health ?? 'unknown',
    invocationCount: seen?.invocationCount ?? 0,
    inflight: seen?.inflight ?? 0,
    invocationsByCode: seen?.byCode ?? {},
    lastStatus: seen?.lastStatus,
    lastSeen: seen?.lastSeen,
  };
}

/** Listed functions plus the ones only seen through a URL template, sorted by name. */
function allFunctions(ctx: SystemContext): Array<Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const e of ctx.resolver.list()) out.set(e.name, describe(ctx, e.name, e.url));
  for (const name of ctx.stats.names()) {
    if (out.has(name)) continue;
    const url = ctx.resolver.resolve(name);
    if (url !== undefined) out.set(name, describe(ctx, name, url));
  }
  return [...out.values()].sort((a, b) => String(a['name']).localeCompare(String(b['name'])));
}

/**
 * Answer GET /system/functions and /system/function/{name}; returns false for any other /system path
 * so a mounted extension (the async calls API) can take it. Throws RouterError for the caller to send.
 */
export function handleSystemFunctions(req: IncomingMessage, res: ServerResponse, path: string, ctx: SystemContext): boolean {
  const isList = path === '/functions' || path === '/functions/';
  const one = /^\/function\/([^/]*)\/?$/.exec(path);
  if (!isList && one === null) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError(req.method ?? '', ['GET', 'HEAD']);
  if (isList) {
    sendJson(res, 200, allFunctions(ctx));
    return true;
  }
  const name = one![1]!;
  if (name === '') throw new NotFoundError(`/system${path}`);
  if (!NAME_PATTERN.test(name)) throw new BadNameError(name);
  const url = ctx.resolver.resolve(name);
  if (url === undefined) throw new FunctionNotFoundError(name);
  sendJson(res, 200, describe(ctx, name, url));
  return true;
}
