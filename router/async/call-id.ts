// X-Call-Id on async calls is an idempotency key and a path segment of /system/calls/{id}, so a
// client-chosen one is held to a small safe alphabet; UUIDs (ours) always fit.
//
// Ours are UUIDv7 (RFC 9562): a millisecond timestamp first, then a counter within the millisecond, so the
// ids one router makes sort in the order it accepted the calls. The sqlite queue keeps a unique index on the
// id: a random (v4) id put each accept on a random page of that index, one more 4 KiB page written to the
// WAL per accept, and with a large queue a page read back from the file first; a time-ordered one goes at
// the end of the index, on the page the other accepts of the commit share (an accept-only router, 32
// connections, alternating builds: 8.6 KB written per accept against 11.9-13.9, 95-98 µs of CPU against
// 111-155; docs/performance.md).

import { v7 as uuidv7 } from 'uuid';
import { BadCallIdError } from './errors.js';

/** 1-128 characters of letters, digits, `.`, `_`, `:` and `-`, not starting with a dot. */
export const CALL_ID_PATTERN = /^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$/;

/** The client's X-Call-Id (validated) or a fresh UUIDv7; `chosen` says which. */
export function callIdFrom(header: string | string[] | undefined): { id: string; chosen: boolean } {
  if (header === undefined || header === '') return { id: uuidv7(), chosen: false };
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!CALL_ID_PATTERN.test(value)) throw new BadCallIdError(value);
  return { id: value, chosen: true };
}
