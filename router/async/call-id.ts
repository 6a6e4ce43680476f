// X-Call-Id on async calls is an idempotency key and a path segment of /system/calls/{id}, so a
// client-chosen one is held to a small safe alphabet; UUIDs (ours) always fit.
//
// Ours are UUIDv7 (RFC 9562): a millisecond timestamp first, then a counter within the millisecond, so the
// ids one router makes sort in the order it accepted the calls. The sqlite queue keeps a unique index on the
// id: a random (v4) id put each accept on a random page of that index, one more 4 KiB page written to the
// WAL per accept, and with a large queue a page read back from the file first; a time-ordered one goes at
// the end of the index, on the page the other accepts of the commit share (an accept-only router, 32
// connections, alternating builds: 7.8-8.7 KB written per accept against 11.9-13.9; docs/performance.md).
// Made here rather than with the uuid package: its v7 draws its random bytes through
// crypto.getRandomValues, 16 bytes per id, which was 6-8 % of an accepting router's CPU profile; these
// come from a pooled randomFillSync, as node's own randomUUID() does.

import { randomFillSync } from 'node:crypto';
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

/** Random bytes for the ids, drawn 1,024 ids at a time (shared by every generator). */
const POOL_BYTES = 10 * 1024;
let pool = Buffer.alloc(0);
let taken = 0;
const COUNTER_LIMIT = 2 ** 30;

/**
 * A UUIDv7 generator whose ids follow the order they are made in (RFC 9562 §6.2, method 1): 48 bits of
 * milliseconds, then a 30-bit counter (in rand_a and the top of rand_b) that starts at a random value below 2^29
 * in each new millisecond and counts up within it (past its end, the timestamp moves on by one), then 44 random
 * bits. A clock that steps back keeps counting on the last timestamp, so the order holds. Each generator keeps its
 * own last timestamp and counter (tests make their own; the router uses `uuidv7`).
 */
export function createUuidv7(): (now?: number) => string {
  let lastMs = -1;
  let counter = 0;
  const id = Buffer.alloc(16);
  return (now = Date.now()) => {
    if (taken + 10 > pool.length) {
      pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
      taken = 0;
    }
    if (now > lastMs) {
      lastMs = now;
      counter = pool.readUInt32BE(taken) >>> 3; // 29 bits: room to count up
    } else if (++counter === COUNTER_LIMIT) {
      lastMs++;
      counter = 0;
    }
    id.writeUIntBE(lastMs, 0, 6);
    id[6] = 0x70 | (counter >>> 26); // version 7, counter bits 29-26
    id[7] = (counter >>> 18) & 0xff;
    id[8] = 0x80 | ((counter >>> 12) & 0x3f); // variant 10, counter bits 17-12
    id[9] = (counter >>> 4) & 0xff;
    id[10] = ((counter & 0x0f) << 4) | (pool[taken + 4]! & 0x0f);
    pool.copy(id, 11, taken + 5, taken + 10);
    taken += 10;
    const hex = id.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}

/** The router's generator. */
export const uuidv7 = createUuidv7();
