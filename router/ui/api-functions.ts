// GET /ui/api/functions: what /system/functions says of each function, plus the last minutes
// (invocations, error rate, p50/p99 from the gateway histogram) and the replicas the router knows of.

import type { FunctionStats } from '../function-stats.js';
import type { FunctionResolver } from '../resolver.js';
import type { FunctionSampler, FunctionWindow } from './function-sampler.js';

export interface FunctionsContext {
  readonly resolver: FunctionResolver;
  readonly stats: FunctionStats;
  readonly sampler: FunctionSampler;
}

/** One row of the functions page. */
export interface FunctionRow {
  readonly name: string;
  readonly upstream: string;
  readonly health: string;
  /** Instances behind the name: 1 for a listed upstream (a static map, `whippet up`); null behind a URL template. */
  readonly replicas: number | null;
  readonly inflight: number;
  readonly invocationCount: number;
  readonly invocationsByCode: Readonly<Record<string, number>>;
  readonly lastStatus: number | null;
  readonly lastSeen: string | null;
  readonly window: FunctionWindow | null;
}

/** Every listed function and every one called through a template, sorted by name. */
export async function functionRows(ctx: FunctionsContext): Promise<FunctionRow[]> {
  const windows = await ctx.sampler.windows();
  const listed = new Map(ctx.resolver.list().map((e) => [e.name, e.url] as const));
  const names = new Set([...listed.keys(), ...ctx.stats.names()]);
  const rows: FunctionRow[] = [];
  for (const name of names) {
    const url = listed.get(name) ?? ctx.resolver.resolve(name);
    if (url === undefined) continue;
    const seen = ctx.stats.get(name);
    rows.push({
      name, upstream: url.href, health: seen?.health ?? 'unknown', replicas: listed.has(name) ? 1 : null,
      inflight: seen?.inflight ?? 0, invocationCount: seen?.invocationCount ?? 0, invocationsByCode: seen?.byCode ?? {},
      lastStatus: seen?.lastStatus ?? null, lastSeen: seen?.lastSeen ?? null, window: windows.get(name) ?? null,
    });
  }
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}
