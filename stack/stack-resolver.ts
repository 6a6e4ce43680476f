// The router's view of a local stack: function name → the URL of its watchdog right now. A restarted
// watchdog listens on a new port, and the supervisor updates the entry, so the router follows it.

import type { FunctionEntry, FunctionResolver } from '../router/resolver.js';

export interface StackResolver extends FunctionResolver {
  set(name: string, url: URL): void;
}

/** A resolver whose entries the supervisors update as watchdogs (re)start. */
export function createStackResolver(): StackResolver {
  const map = new Map<string, URL>();
  let list: readonly FunctionEntry[] = [];
  return {
    resolve: (name) => map.get(name),
    list: () => list,
    set(name, url) {
      map.set(name, url);
      list = Object.freeze([...map].map(([entryName, entryUrl]) => Object.freeze({ name: entryName, url: entryUrl })));
    },
  };
}
