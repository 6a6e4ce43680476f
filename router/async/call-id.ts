// X-Call-Id on async calls is an idempotency key and a path segment of /system/calls/{id}, so a
// client-chosen one is held to a small safe alphabet; UUIDs (ours) always fit.

import { randomUUID } from 'node:crypto';
import { BadCallIdError } from './errors.js';

/** 1-128 characters of letters, digits, `.`, `_`, `:` and `-`, not starting with a dot. */
export const CALL_ID_PATTERN = /^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$/;

/** The client's X-Call-Id (validated) or a fresh UUID; `chosen` says which. */
export function callIdFrom(header: string | string[] | undefined): { id: string; chosen: boolean } {
  if (header === undefined || header === '') return { id: randomUUID(), chosen: false };
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!CALL_ID_PATTERN.test(value)) throw new BadCallIdError(value);
  return { id: value, chosen: true };
}
