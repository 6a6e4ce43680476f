// Which function names get their own metric series and a row in /system/functions. A name a resolver
// lists (static map, stack) always does. With function_url_template any valid name resolves, so callers
// choose the names: such a name counts only once its upstream has answered with something other than
// a connection error or 404, and at most MAX_ANSWERED_NAMES of them, as a static map is bounded by its size.

import type { Logger } from '../common/log.js';
import type { FunctionResolver } from './resolver.js';

/** Template names with their own series, at most; past it a name still works, it is just not counted. */
export const MAX_ANSWERED_NAMES = 1_000;

export interface CountedNames {
  /** The name has its own series and row. */
  counts(name: string): boolean;
  /** The upstream answered with `status` (0: no answer); a non-404 answer makes the name count, within the cap. True when it counts. */
  answered(name: string, status: number): boolean;
}

export function createCountedNames(resolver: FunctionResolver, log: Logger, cap = MAX_ANSWERED_NAMES): CountedNames {
  const answered = new Set<string>();
  let warned = false;
  // Listed names are remembered once found, so the hot path does not walk resolver.list() per call.
  const seenListed = new Set<string>();
  const listed = (name: string): boolean => {
    if (seenListed.has(name)) return true;
    if (!resolver.list().some((entry) => entry.name === name)) return false;
    seenListed.add(name);
    return true;
  };
  const counts = (name: string): boolean => answered.has(name) || listed(name);
  return {
    counts,
    answered(name, status) {
      if (counts(name)) return true;
      if (status === 0 || status === 404) return false;
      if (answered.size >= cap) {
        if (!warned) log.warn('function_url_template: more answering function names than are counted; further names are served but not counted', { max: cap });
        warned = true;
        return false;
      }
      answered.add(name);
      return true;
    },
  };
}
