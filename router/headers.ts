// Header rules of the router's hop: what never crosses it (hop-by-hop: common/hop-by-hop.ts, plus the
// request's Host and Expect), and what the router adds (X-Call-Id, X-Start-Time, X-Forwarded-*).

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { endToEndHeaders } from '../common/hop-by-hop.js';

// Request-only: the Host is the upstream's, and undici refuses `expect` (Node already answered 100-continue).
const REQUEST_ONLY_DROP = new Set(['host', 'expect']);

/** Copy request headers for the upstream, without hop-by-hop ones. */
export function requestHeadersForUpstream(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  return endToEndHeaders(headers, REQUEST_ONLY_DROP);
}

/** Copy response headers for the client, without hop-by-hop ones; keeps `trailer` when `keepTrailer`. */
export function responseHeadersForClient(headers: IncomingHttpHeaders, keepTrailer: boolean): OutgoingHttpHeaders {
  return endToEndHeaders(headers, undefined, keepTrailer);
}

/** The client address without the IPv4-mapped prefix, for X-Forwarded-For. */
function clientAddress(remote: string | undefined): string {
  if (remote === undefined) return '';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}

/**
 * The router's own request headers. X-Call-Id and X-Start-Time are always the router's (a client's
 * X-Start-Time would otherwise pass as the router's clock); the peer is appended to X-Forwarded-For as
 * nginx's $proxy_add_x_forwarded_for and Go's ReverseProxy do; X-Forwarded-Host/-Proto are kept when present.
 * Without `remoteAddress` (a replay of a stored request) X-Forwarded-For is left as stored.
 */
export function addRouterRequestHeaders(
  out: Record<string, string | string[]>,
  info: { callId: string; startTime: string; remoteAddress: string | undefined; host: string | undefined; proto: string },
): void {
  out['x-call-id'] = info.callId;
  out['x-start-time'] = info.startTime;
  if (info.remoteAddress !== undefined) {
    const given = out['x-forwarded-for'];
    const list = (Array.isArray(given) ? given.join(', ') : given ?? '').trim();
    const peer = clientAddress(info.remoteAddress);
    out['x-forwarded-for'] = list === '' ? peer : `${list}, ${peer}`;
  }
  if (info.host !== undefined) out['x-forwarded-host'] ??= info.host;
  out['x-forwarded-proto'] ??= info.proto;
}
