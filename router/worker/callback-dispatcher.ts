// The pool callbacks go out through: its own, apart from the functions' pool, because every connection it
// opens checks what the host resolved to. Checking the name when the call was accepted is not enough: a
// name can resolve elsewhere by the time the callback is sent (DNS rebinding), so the check sits in the
// connect's own lookup, on the addresses the socket is about to use.

import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { Dispatcher } from 'undici';
import { isRefusedCallbackAddress } from '../callback-guard.js';
import { withRequestApi } from '../dispatcher-api.js';
import { createUpstreamDispatcher } from '../upstream.js';
import { CallbackRefusedError } from './errors.js';

type AllLookup = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** A `lookup` for net.connect that fails with CallbackRefusedError when any address of the host is refused. */
export function guardedLookup(lookup: AllLookup = dnsLookup as AllLookup): LookupFunction {
  return ((hostname: string, options: { family?: number; hints?: number; all?: boolean }, callback: (...args: unknown[]) => void) => {
    lookup(hostname, { family: options.family, hints: options.hints, all: true } as LookupAllOptions, (err, addresses) => {
      if (err !== null) { callback(err); return; }
      const bad = addresses.find((a) => isRefusedCallbackAddress(a.address));
      if (bad !== undefined) { callback(new CallbackRefusedError(hostname, bad.address)); return; }
      if (options.all === true) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as LookupFunction;
}

/** The callbacks' pool: guarded unless `allowLinkLocal`. */
export function createCallbackDispatcher(options: { timeoutMs: number; allowLinkLocal: boolean; lookup?: AllLookup }): Dispatcher {
  return withRequestApi(createUpstreamDispatcher({
    upstreamTimeoutMs: options.timeoutMs,
    lookup: options.allowLinkLocal ? undefined : guardedLookup(options.lookup),
  }));
}
