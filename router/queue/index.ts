// The one place a backend is chosen, from the `queue` setting:
//   sqlite:<path>[?synchronous=full|normal]      e.g. sqlite:.whippet/queue.db (the default)
//   nats://host:port[,nats://host2:port…][?replicas=3&name=whippet]   NATS JetStream (./jetstream.js, loaded on demand)

import { QueueBackendMissingError, QueueUrlError } from './errors.js';
import type { Queue, QueueOptions } from './queue.js';
import { createSqliteQueue } from './sqlite.js';

export * from './errors.js';
export * from './queue.js';
export { CALL_STATUSES, FINAL_STATUSES, REDRIVABLE_STATUSES, isFinal, requestDifferences, type RequestPart } from './record.js';

/** Backend-specific extras createQueue passes through. */
export interface CreateQueueOptions extends QueueOptions {
  /** sqlite: how often idle workers look for calls written by other processes (ms). */
  readonly pollIntervalMs?: number;
  /** jetstream: stream and bucket replicas (1, 3 or 5); only used when they are created. */
  readonly replicas?: number;
  /** jetstream: prefix of the stream, consumer, buckets and subjects (default `whippet`). */
  readonly name?: string;
  /** jetstream: return at once and keep connecting in the background (calls fail with 503 until then). */
  readonly connectInBackground?: boolean;
  /** jetstream: timeout of one JetStream API request (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** jetstream: an enqueue that NATS has not confirmed by then fails with 503 (default 1.5 s). */
  readonly enqueueTimeoutMs?: number;
}

/** What ./jetstream.js must export. */
export interface JetStreamModule {
  createJetStreamQueue(servers: readonly string[], options: CreateQueueOptions): Promise<Queue>;
}

/** Open the queue the URL names. Throws QueueUrlError for anything else. */
export async function createQueue(url: string, options: CreateQueueOptions = {}): Promise<Queue> {
  if (url.startsWith('sqlite:')) return createSqliteQueue({ ...options, ...parseSqliteUrl(url) });
  if (url.startsWith('nats://') || url.startsWith('tls://')) {
    const { servers, ...fromUrl } = parseNatsUrl(url);
    return (await loadJetStream()).createJetStreamQueue(servers, { ...options, ...fromUrl });
  }
  throw new QueueUrlError(url, 'expected sqlite:<path> or nats://host:port[,nats://...]');
}

/** `sqlite:<path>[?synchronous=full|normal]` → path and options. */
export function parseSqliteUrl(url: string): { path: string; synchronous?: 'full' | 'normal' } {
  const rest = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''); // sqlite:///abs/path → /abs/path
  const [path = '', query] = rest.split('?', 2);
  if (path === '' || path === ':memory:') {
    throw new QueueUrlError(url, 'expected a file path after sqlite: (other processes must be able to open it)');
  }
  if (query === undefined) return { path };
  const params = new URLSearchParams(query);
  const sync = params.get('synchronous');
  for (const key of params.keys()) if (key !== 'synchronous') throw new QueueUrlError(url, `unknown parameter ${key}`);
  if (sync !== 'full' && sync !== 'normal') throw new QueueUrlError(url, 'synchronous must be full or normal');
  return { path, synchronous: sync };
}

/** `nats://a:4222,nats://b:4222?replicas=3&name=whippet` → servers and options. */
export function parseNatsUrl(url: string): { servers: string[]; replicas?: number; name?: string } {
  const [list = '', query] = url.split('?', 2);
  const servers = list.split(',').map((s) => s.trim());
  if (servers.some((s) => !/^(nats|tls):\/\/[^\s/,?]+\/?$/.test(s))) {
    throw new QueueUrlError(url, 'expected nats://host:port[,nats://host2:port...][?replicas=3&name=whippet]');
  }
  if (query === undefined) return { servers };
  const out: { servers: string[]; replicas?: number; name?: string } = { servers };
  for (const [key, value] of new URLSearchParams(query)) {
    if (key === 'replicas' && /^[135]$/.test(value)) out.replicas = Number(value);
    else if (key === 'name' && /^[-_A-Za-z0-9]+$/.test(value)) out.name = value;
    else throw new QueueUrlError(url, `bad parameter ${key}=${value} (replicas: 1, 3 or 5; name: [-_A-Za-z0-9]+)`);
  }
  return out;
}

async function loadJetStream(): Promise<JetStreamModule> {
  // A variable specifier keeps tsc from requiring the module before the backend exists.
  const specifier = './jetstream.js';
  try {
    return (await import(specifier)) as JetStreamModule;
  } catch (err) {
    // Node says ERR_MODULE_NOT_FOUND; the ts-node loader of the tests says only "Cannot find module".
    const missing = /Cannot find (module|package) '[^']*queue[\\/]jetstream\.js'/.test(String((err as Error).message));
    if (missing) throw new QueueBackendMissingError('jetstream', { cause: err });
    throw err;
  }
}

/** The largest request body the queue can store (jetstream: NATS max_payload minus headers); undefined = no own limit. */
export function queueMaxBodyBytes(queue: Queue): number | undefined {
  const limit = (queue as { maxBodyBytes?: unknown }).maxBodyBytes;
  return typeof limit === 'number' ? limit : undefined;
}
