// undici's dispatchers, loaded by file without its index and without its HTTP/2 client: the watchdog's http mode
// (a Pool) and the router (an Agent: the proxy's, the worker's and the callbacks' pools; the router may use the
// watchdog's files, docs/architecture.md).
//
// undici 7 has no `exports` map: its index loads every dispatcher, fetch, WebSocket and the cache (~200 ms,
// ~10 MB of RSS), so each module is required by its path in the package. lib/dispatcher/client.js requires
// client-h2.js at the top, and that requires node:http2, which loads tls and crypto: a third of a Pool's load
// time and ~1.5 MB resident, for a protocol a plain-http upstream never speaks (undici picks h2 only through TLS
// ALPN with `allowH2`, or with `useH2c`; no pool of ours sets either). A stand-in for that one file goes into the
// require cache first; it loads the real module if undici ever calls it.

import { Module, createRequire } from 'node:module';
import type { Agent, Pool } from 'undici';

const require = createRequire(import.meta.url);

function withoutHttp2Client(): void {
  const h2 = require.resolve('undici/lib/dispatcher/client-h2.js');
  if (require.cache[h2] !== undefined) return;
  const lazy = new Module(h2);
  lazy.filename = h2;
  lazy.loaded = true;
  lazy.exports = function connectH2(...args: unknown[]): unknown {
    if (require.cache[h2] === lazy) delete require.cache[h2];
    return (require(h2) as (...a: unknown[]) => unknown)(...args);
  };
  require.cache[h2] = lazy;
}

/** undici's Pool (one origin). */
export function loadPool(): typeof Pool {
  withoutHttp2Client();
  return require('undici/lib/dispatcher/pool.js') as typeof Pool;
}

/** undici's Agent (a Pool per origin). */
export function loadAgent(): typeof Agent {
  withoutHttp2Client();
  return require('undici/lib/dispatcher/agent.js') as typeof Agent;
}

/** Require a module of the undici package by its path (`lib/...`), the copy the dispatchers above use. */
export function requireUndici<T>(path: string): T {
  return require(`undici/${path}`) as T;
}
