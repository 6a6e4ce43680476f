// What the proxy and the invoker share about upstreams: the keep-alive pools, the path an upstream
// sees, and turning a transport failure into a 502 or 504.

import type { Dispatcher } from 'undici';
import { loadAgent } from '../watchdog/undici.js';
import { RouterError, UpstreamTimeoutError, UpstreamUnreachableError } from './errors.js';

export interface UpstreamPoolOptions {
  /** Limit of one call; connecting is capped by it too. */
  readonly upstreamTimeoutMs: number;
  /** Idle keep-alive sockets close after this; undici also honours a shorter `Keep-Alive: timeout=` hint. */
  readonly keepAliveMs?: number;
  /** Sockets per upstream; unlimited by default, like OpenFaaS' max_idle_conns_per_host=1024. */
  readonly connectionsPerUpstream?: number;
  /** Replaces DNS lookup for every connection (the callbacks' pool checks what a host resolves to). */
  readonly lookup?: import('node:net').LookupFunction | undefined;
}

// undici's own default; a function that takes longer than this to accept a TCP connection is down.
const CONNECT_TIMEOUT_MS = 10_000;
// Shorter than the watchdog's and Node's 5 s server keep-alive, so the router never reuses a socket the
// other side is closing (that race shows up as a spurious reset).
const DEFAULT_KEEP_ALIVE_MS = 4_000;

/** An undici Agent: one keep-alive Pool per upstream origin. Header/body timers are ours, not undici's. */
export function createUpstreamDispatcher(options: UpstreamPoolOptions): Dispatcher {
  const Agent = loadAgent();
  return new Agent({
    connect: { timeout: Math.min(CONNECT_TIMEOUT_MS, options.upstreamTimeoutMs), ...(options.lookup === undefined ? {} : { lookup: options.lookup }) },
    keepAliveTimeout: options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
    keepAliveMaxTimeout: Math.max(options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS, 1_000),
    headersTimeout: 0,
    bodyTimeout: 0,
    pipelining: 1,
    connections: options.connectionsPerUpstream ?? null,
  });
}

/** The path and query the upstream sees: its base path joined with the suffix after /function/{name}. */
export function upstreamPath(base: URL, suffix: string, query: string): string {
  const path = `${parsed(base).prefix}${suffix}` || '/';
  return query === '' ? path : `${path}?${query}`;
}

/** The upstream's origin, as undici's dispatch() takes it. */
export function upstreamOrigin(base: URL): string {
  return parsed(base).origin;
}

// URL's origin and pathname getters build a new string on each read; a resolver hands out the same URL for a
// function call after call, so what the proxy reads of it is kept per URL object.
const parts = new WeakMap<URL, { readonly origin: string; readonly prefix: string }>();
function parsed(base: URL): { readonly origin: string; readonly prefix: string } {
  let p = parts.get(base);
  if (p === undefined) {
    const { pathname } = base;
    p = { origin: base.origin, prefix: pathname.endsWith('/') ? pathname.slice(0, -1) : pathname };
    parts.set(base, p);
  }
  return p;
}

/** Raised on the controller when our own deadline fires, so the error handler can tell it apart. */
export class DeadlineError extends Error {
  readonly code = 'ROUTER_DEADLINE';
}

/** A transport failure as the router reports it: deadline → 504, anything else → 502 with its reason. */
export function classifyUpstreamError(err: unknown, functionName: string, timeoutMs: number): RouterError {
  if (err instanceof RouterError) return err;
  if (err instanceof DeadlineError) return new UpstreamTimeoutError(functionName, timeoutMs);
  const code = (err as { code?: unknown }).code;
  const reason = typeof code === 'string' ? REASONS[code] ?? code : 'connection failed';
  return new UpstreamUnreachableError(functionName, reason, { cause: err });
}

const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_SOCKET: 'connection closed by the function',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'request body does not match Content-Length',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'response body does not match Content-Length',
};
