// availableReplicas for the gateway API: is the function's watchdog up and ready right now? Asked on
// demand (GET /_/health, the watchdog's readiness route) and remembered briefly, so a `faas-cli ready`
// loop or a list of many functions does not turn into a probe storm.

import type { Dispatcher } from 'undici';

export interface Readiness {
  /** True when `url` answers /_/health below 500 (a non-watchdog upstream answering 404 is up too). */
  ready(name: string, url: URL): Promise<boolean>;
}

// A healthy watchdog answers in microseconds; a second means it is not taking calls either.
const PROBE_TIMEOUT_MS = 1000;
// faas-cli ready polls every second: answers this fresh are good enough and bound the probes.
const REMEMBER_MS = 500;
const MAX_REMEMBERED = 1024;

/**
 * Probe-on-demand readiness with a short memory, through the router's own upstream pool (undici's
 * index, with its `request`, would load fetch, WebSocket and caches: ~10 MB of RSS for one GET).
 */
export function createReadiness(dispatcher: Dispatcher, now: () => number = Date.now): Readiness {
  const seen = new Map<string, { at: number; ok: boolean }>();
  return {
    async ready(name, url) {
      const key = `${name} ${url.href}`;
      const last = seen.get(key);
      if (last !== undefined && now() - last.at < REMEMBER_MS) return last.ok;
      let ok: boolean;
      try {
        const health = new URL('_/health', url.href.endsWith('/') ? url : `${url.href}/`);
        const res = await dispatcher.request({
          origin: health.origin, path: health.pathname, method: 'GET', headersTimeout: PROBE_TIMEOUT_MS, bodyTimeout: PROBE_TIMEOUT_MS,
        });
        await res.body.dump();
        ok = res.statusCode < 500;
      } catch {
        ok = false;
      }
      if (seen.size >= MAX_REMEMBERED) seen.clear();
      seen.set(key, { at: now(), ok });
      return ok;
    },
  };
}
