// Addresses a callback must never reach unless the operator says so: link-local networks and the cloud
// metadata services (credentials live there). Shared by the accept path (IP-literal hosts, at once) and
// the worker (every address a callback host resolves to, at connect time). Pure.

import { BlockList, isIP } from 'node:net';

/**
 * The refused list. Link-local: 169.254.0.0/16 (AWS, GCP, Azure, OpenStack and DigitalOcean metadata at
 * 169.254.169.254, ECS task metadata at 169.254.170.2) and fe80::/10. Metadata outside link-local:
 * fd00:ec2::254 (AWS IMDS over IPv6), 100.100.100.200 (Alibaba Cloud), 192.0.0.192 (Oracle Cloud, legacy).
 * Each IPv4 network is also refused written inside IPv6: IPv4-mapped (`::ffff:`), IPv4-compatible (`::`) and the
 * NAT64 well-known prefix (64:ff9b::/96); not other NAT64 prefixes (the local-use 64:ff9b:1::/48, or an operator's).
 */
export const REFUSED_CALLBACK_NETWORKS: readonly string[] = Object.freeze([
  '169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32', '192.0.0.192/32',
]);

// Built at the first check, not when the router loads: Node's first isIP() compiles its IPv6 pattern (~9 ms
// of a start on a 2-core host), and most routers check no callback address before their first request.
let refusedList: BlockList | undefined;
function refused(): BlockList {
  if (refusedList !== undefined) return refusedList;
  refusedList = new BlockList();
  for (const net of REFUSED_CALLBACK_NETWORKS) {
    const [addr = '', bits = ''] = net.split('/');
    if (addr.includes(':')) {
      refusedList.addSubnet(addr, Number(bits), 'ipv6');
      continue;
    }
    refusedList.addSubnet(addr, Number(bits), 'ipv4');
    // The same IPv4 network written inside IPv6: IPv4-compatible (`::169.254.169.254`, deprecated but still
    // parsed) and the NAT64 well-known prefix (`64:ff9b::169.254.169.254`, which a NAT64 gateway forwards to
    // the IPv4 address). IPv4-mapped (`::ffff:`) is unmapped before the check.
    for (const prefix of ['::', '64:ff9b::']) refusedList.addSubnet(`${prefix}${addr}`, 96 + Number(bits), 'ipv6');
  }
  return refusedList;
}

/** An IPv4-mapped IPv6 address (`::ffff:a9fe:a9fe`, `::ffff:169.254.169.254`) as the IPv4 address it is. */
function unmapped(address: string): string {
  const m = /^(?:0{0,4}:){0,5}:?ffff:(.+)$/i.exec(address);
  if (m === null) return address;
  const rest = m[1]!;
  if (isIP(rest) === 4) return rest;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(rest);
  if (hex === null) return address;
  const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True for an IP address in REFUSED_CALLBACK_NETWORKS (brackets and IPv4-mapped forms included). */
export function isRefusedCallbackAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const ip = unmapped(bare.toLowerCase());
  const family = isIP(ip);
  return family !== 0 && refused().check(ip, family === 4 ? 'ipv4' : 'ipv6');
}
