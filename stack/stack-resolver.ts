// The router's view of a local stack: function name → the URL of its watchdog right now. A restarted
// watchdog listens on a new port, and the supervisor updates the entry, so the router follows it.

import type { FunctionEntry, FunctionInfo, FunctionResolver } from '../router/resolver.js';

export interface StackResolver extends FunctionResolver {
  /** The function's current URL; `info` (image, fprocess, first start) is kept from the first call that gives it. */
  set(name: string, url: URL, info?: FunctionInfo): void;
}

/** A resolver whose entries the supervisors update as watchdogs (re)start. */
export function createStackResolver(): StackResolver {
  const map = new Map<string, URL>();
  const infos = new Map<string, FunctionInfo>();
  let list: readonly FunctionEntry[] = [];
  return {
    resolve: (name) => map.get(name),
    list: () => list,
    set(name, url, info) {
      map.set(name, url);
      if (info !== undefined && !infos.has(name)) infos.set(name, info);
      list = Object.freeze([...map].map(([entryName, entryUrl]) => Object.freeze({ name: entryName, url: entryUrl, info: infos.get(entryName) })));
    },
  };
}
