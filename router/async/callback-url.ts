// X-Callback-Url checks: an absolute http(s) URL, not a link-local or metadata IP, and when callback_allow
// is set, a host on the list.
// Pure. Host names are compared as written (no DNS lookup): an allowlist of names means "these names",
// a CIDR matches IP-literal hosts only, so a name cannot sneak into a network by resolving into it.

import { BlockList, isIP } from 'node:net';
import { isRefusedCallbackAddress } from '../callback-guard.js';
import { BadCallbackUrlError, CallbackNotAllowedError } from './errors.js';

/** A compiled callback_allow list. */
export interface HostAllowList {
  allows(host: string): boolean;
}

/** Compile `example.com,*.example.org,10.0.0.0/8,::1` (already validated by the config parser). */
export function compileAllowList(entries: readonly string[]): HostAllowList {
  const names = new Set<string>();
  const suffixes: string[] = [];
  const nets = new BlockList();
  for (const raw of entries) {
    const e = raw.trim().toLowerCase();
    const [addr = '', bits] = e.split('/');
    const family = isIP(addr);
    if (family !== 0) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) nets.addAddress(addr, type);
      else nets.addSubnet(addr, Number(bits), type);
    } else if (e.startsWith('*.')) suffixes.push(e.slice(1));
    else names.add(e);
  }
  return {
    allows(host) {
      const h = stripBrackets(host.toLowerCase()).replace(/\.$/, '');
      const family = isIP(h);
      if (family !== 0) return nets.check(h, family === 4 ? 'ipv4' : 'ipv6');
      return names.has(h) || suffixes.some((s) => h.endsWith(s) && h.length > s.length);
    },
  };
}

/**
 * Validate X-Callback-Url; returns the normalised URL text. Throws BadCallbackUrlError / CallbackNotAllowedError.
 * A link-local or metadata IP is refused whatever `allow` says unless `allowLinkLocal`; host names that
 * resolve there are refused by the worker when it connects (router/worker/callback-dispatcher.ts).
 */
export function checkCallbackUrl(value: string, allow: HostAllowList | undefined, allowLinkLocal = false): string {
  if (value.length > 2048) throw new BadCallbackUrlError(value, 'longer than 2048 characters');
  if (!/^https?:\/\//i.test(value)) throw new BadCallbackUrlError(value, 'expected an absolute http:// or https:// URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BadCallbackUrlError(value, 'not a valid URL');
  }
  if (url.hostname === '') throw new BadCallbackUrlError(value, 'no host');
  if (url.username !== '' || url.password !== '') throw new BadCallbackUrlError(value, 'credentials in the URL are not allowed');
  if (!allowLinkLocal && isRefusedCallbackAddress(url.hostname)) throw new CallbackNotAllowedError(url.hostname, 'a link-local or cloud metadata address (callback_allow_link_local=false)');
  if (allow !== undefined && !allow.allows(url.hostname)) throw new CallbackNotAllowedError(url.hostname);
  return url.href;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
