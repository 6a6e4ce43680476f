// What never crosses a proxy hop: the hop-by-hop headers of RFC 9110 §7.6.1 (plus the legacy names Go's
// ReverseProxy also drops) and whatever a message's Connection header names. One rule for both proxies
// in the project: the watchdog's http mode (watchdog/runners/http.ts) and the router (router/headers.ts).

import type { IncomingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

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

/**
 * A copy of `headers` without the hop-by-hop ones, nor those in `drop` (the caller's own, e.g. `host`);
 * `keepTrailer` keeps `trailer`, which a response that really sends trailers must announce.
 */
export function endToEndHeaders(headers: IncomingHttpHeaders, drop?: ReadonlySet<string>, keepTrailer = false): Record<string, string | string[]> {
  const listed = connectionListed(headers);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || drop?.has(name) || listed?.has(name)) continue;
    if (HOP_BY_HOP.has(name) && !(keepTrailer && name === 'trailer')) continue;
    out[name] = value;
  }
  return out;
}
