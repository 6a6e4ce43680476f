// Header rules of a proxy hop: what never crosses it (hop-by-hop), and what the router adds
// (X-Call-Id, X-Start-Time, X-Forwarded-*).

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 plus the legacy names Go's ReverseProxy also drops; `host` is the upstream's own. */
const HOP_BY_HOP = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
// Request-only: the Host is the upstream's, and undici refuses `expect` (Node already answered 100-continue).
const REQUEST_ONLY_DROP = new Set(['host', 'expect']);

/** Names listed in a Connection header are hop-by-hop for this message too. */
function connectionListed(headers: IncomingHttpHeaders): Set<string> | undefined {
  const value = headers['connection'];
  if (value === undefined) return undefined;
  // The usual value names no header (`keep-alive` from every keep-alive upstream, or `close`): no list to build.
  if (typeof value === 'string' && !value.includes(',')) {
    const name = value.trim().toLowerCase();
    return name === '' || name === 'close' || name === 'keep-alive' ? undefined : new Set([name]);
  }
  const names = (Array.isArray(value) ? value.join(',') : value).split(',').map((s) => s.trim().toLowerCase());
  return new Set(names.filter((n) => n !== '' && n !== 'close' && n !== 'keep-alive'));
}

/** Copy request headers for the upstream, without hop-by-hop ones. */
export function requestHeadersForUpstream(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const listed = connectionListed(headers);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || REQUEST_ONLY_DROP.has(name) || listed?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Copy response headers for the client, without hop-by-hop ones; keeps `trailer` when `keepTrailer`. */
export function responseHeadersForClient(headers: IncomingHttpHeaders, keepTrailer: boolean): OutgoingHttpHeaders {
  const listed = connectionListed(headers);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || listed?.has(name)) continue;
    if (HOP_BY_HOP.has(name) && !(keepTrailer && name === 'trailer')) continue;
    out[name] = value;
  }
  return out;
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
