// The functions as the gateway API shows them (spec FunctionStatus plus whippet's own fields), and the
// one lookup of a function a /system route names.

import { BadNameError, FunctionNotFoundError, RouterError } from './errors.js';
import { parseFunctionName, type FunctionEntry } from './resolver.js';
import { NAME_PATTERN } from './routes.js';
import type { SystemContext } from './system.js';

/** A FunctionStatus of the spec (name … createdAt), then whippet's own fields (upstream, health, …). */
export async function describe(ctx: SystemContext, entry: FunctionEntry): Promise<Record<string, unknown>> {
  const { name, url, info = {} } = entry;
  const seen = ctx.stats.get(name);
  const ready = await ctx.readiness.ready(name, url);
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
export function allEntries(ctx: SystemContext): FunctionEntry[] {
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
export class OtherNamespaceError extends RouterError {
  constructor(namespace: string, own: string) {
    super('ROUTER_ERR_NAMESPACE_NOT_FOUND', `namespace ${namespace} is not served by this router; it serves namespace ${own} only`, 404);
  }
}

