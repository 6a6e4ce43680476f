// The table of queue backends: the one place a backend is chosen, from the `queue` setting. Both
// createQueue and the router's setting check (parseQueueUrl) read it, so the URL grammar is each
// backend's own and is written once. A new backend is one folder and one line here
// (docs/queue-backends.md).

import type { QueueBackend } from './backend.js';
import { QueueUrlError } from './errors.js';
import { jetstreamBackend } from './jetstream/backend.js';
import type { Queue, QueueOptions } from './queue.js';
import { sqliteBackend } from './sqlite/backend.js';

/** Every backend, in the order they are named in errors. */
export const BACKENDS = [sqliteBackend, jetstreamBackend] as const;

type Backend = (typeof BACKENDS)[number];
type OptionsOf<B> = B extends QueueBackend<string, unknown, infer Options> ? Options : never;

/** The shared settings, plus each backend's own under its name: `{ ackWaitMs, sqlite: { pollIntervalMs } }`. */
export type CreateQueueOptions = QueueOptions & { readonly [B in Backend as B['name']]?: OptionsOf<B> };

/** The backend whose scheme the URL starts with, or QueueUrlError listing the schemes there are. */
function backendFor(url: string): Backend {
  const backend = BACKENDS.find((candidate) => candidate.schemes.some((scheme) => url.startsWith(scheme)));
  if (backend !== undefined) return backend;
  const schemes = BACKENDS.flatMap((candidate) => candidate.schemes);
  throw new QueueUrlError(url, `expected a URL starting with ${schemes.join(', ')} (see docs/queues.md)`);
}

/** Check a queue URL by its backend's own rules; returns it trimmed, or throws QueueUrlError. */
export function parseQueueUrl(raw: string): string {
  const url = raw.trim();
  backendFor(url).parseUrl(url);
  return url;
}

/** Open the queue the URL names. Throws QueueUrlError for a URL no backend takes. */
export async function createQueue(url: string, options: CreateQueueOptions = {}): Promise<Queue> {
  const backend: QueueBackend<string, unknown, unknown> = backendFor(url);
  const location = backend.parseUrl(url);
  // The shared settings and this backend's own: no backend sees another's options.
  const byBackend = options as Readonly<Record<string, unknown>>;
  const shared = Object.fromEntries(Object.entries(byBackend).filter(([key]) => !BACKENDS.some((b) => b.name === key)));
  return backend.open(location, { ...shared, ...(byBackend[backend.name] as object | undefined) });
}
