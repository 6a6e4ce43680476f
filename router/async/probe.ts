// Before a call for a name nobody has seen answer is queued, one look at its upstream: a host name that
// does not resolve, or a port that refuses the connection, means there is no such function (404 now,
// rather than 202 and max_retry_attempts tries). Anything else (it connects, or the probe runs out of
// time, or DNS is only temporarily failing) is accepted: a function starting up must not lose its calls.

import { connect } from 'node:net';

/** How long the probe may take; a cold function's DNS and TCP accept fit in it, an accept never waits longer. */
export const ACCEPT_PROBE_MS = 1_000;
// A host that connected is not probed again for this long, so a burst of calls costs one probe.
const REACHABLE_FOR_MS = 30_000;
const REMEMBERED_MAX = 1_024;

/** Codes that mean "there is no such function": the name has no address, or nothing listens. */
const MISSING = new Set(['ENOTFOUND', 'ECONNREFUSED']);

export interface UpstreamProbe {
  /** False when the upstream's host does not resolve or refuses the connection. */
  exists(upstream: URL): Promise<boolean>;
}

export function createUpstreamProbe(timeoutMs = ACCEPT_PROBE_MS, now: () => number = Date.now): UpstreamProbe {
  const reachable = new Map<string, number>();
  return {
    async exists(upstream) {
      const key = upstream.host;
      if ((reachable.get(key) ?? 0) > now()) return true;
      const outcome = await tryConnect(upstream, timeoutMs);
      if (outcome === 'missing') return false;
      if (outcome === 'connected') {
        if (reachable.size >= REMEMBERED_MAX) reachable.clear();
        reachable.set(key, now() + REACHABLE_FOR_MS);
      }
      return true;
    },
  };
}

function tryConnect(upstream: URL, timeoutMs: number): Promise<'connected' | 'missing' | 'unknown'> {
  const port = Number(upstream.port || (upstream.protocol === 'https:' ? 443 : 80));
  const host = upstream.hostname.startsWith('[') ? upstream.hostname.slice(1, -1) : upstream.hostname;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (outcome: 'connected' | 'missing' | 'unknown'): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    socket.once('connect', () => done('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(MISSING.has(err.code ?? '') ? 'missing' : 'unknown'));
  });
}
