// What the router's processes say to each other over node:cluster's IPC channel. A worker asks the primary
// for a figure of the whole router (`gather`); the primary asks every worker for its part (`collect`),
// adds its own, and answers the asker (`gathered`). `drain` tells a worker to stop as a signal would. On a
// SQLite queue a worker hands its async accepts to the primary (`enqueue`) and answers 202 once the primary
// says they are committed (`enqueued`; router/cluster/accepts.ts). The channel uses node's `advanced`
// serialization (v8's serializer), so request bodies cross it as bytes (a Buffer as its view's bytes alone).

import type { AcceptReply, AcceptRequest } from './accepts.js';

/** The figures that span processes: Prometheus text, or per-function counts for /system/functions. */
export type Figure = 'metrics' | 'stats';

export type ToPrimary =
  | { readonly whippet: 'gather'; readonly id: number; readonly what: Figure }
  | { readonly whippet: 'collected'; readonly id: number; readonly data: unknown }
  | AcceptRequest;

export type ToWorker =
  | { readonly whippet: 'collect'; readonly id: number; readonly what: Figure }
  | { readonly whippet: 'gathered'; readonly id: number; readonly data: unknown }
  | { readonly whippet: 'drain'; readonly signal: 'SIGTERM' | 'SIGINT' }
  | AcceptReply;

/** Whether `msg` is one of ours (node:cluster and prom-client send their own messages on the same channel). */
export function isOurs<M extends { whippet: string }>(msg: unknown): msg is M {
  return typeof msg === 'object' && msg !== null && typeof (msg as { whippet?: unknown }).whippet === 'string';
}

/**
 * How long an answer may take before the asker goes on without it: a worker that is starting or dying
 * must not hold a scrape (Prometheus' default scrape timeout is 10 s).
 */
export const ANSWER_TIMEOUT_MS = 2_000;
