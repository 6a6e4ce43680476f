// The NATS JetStream backend's descriptor:
//   nats://host:port[,nats://host2:port…][?replicas=3&name=whippet]   (tls://host:port for TLS)
// The NATS client is loaded only when such a queue is opened.

import type { QueueBackend } from '../backend.js';
import { loadDriver } from '../backend.js';
import { QueueUrlError } from '../errors.js';

/** What a NATS URL says. */
export interface JetStreamLocation {
  readonly servers: readonly string[];
  /** Stream and bucket replicas (1, 3 or 5); only used when they are created. */
  readonly replicas?: number;
  /** Prefix of the stream, consumer, buckets and subjects (default `whippet`). */
  readonly name?: string;
}

/** jetstream-only settings; the URL's `replicas` and `name` win over these. */
export interface JetStreamOptions {
  readonly replicas?: number;
  readonly name?: string;
  /** Timeout of one JetStream API request (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** An enqueue that NATS has not confirmed by then fails with 503 (default 1.5 s). */
  readonly enqueueTimeoutMs?: number;
}

const SERVER = /^(nats|tls):\/\/[^\s/,?]+\/?$/;

/** `nats://a:4222,nats://b:4222?replicas=3&name=whippet` → servers and options. */
export function parseNatsUrl(url: string): JetStreamLocation {
  const [list = '', query] = url.split('?', 2);
  const servers = list.split(',').map((server) => server.trim());
  if (servers.some((server) => !SERVER.test(server))) {
    throw new QueueUrlError(url, 'expected nats://host:port or tls://host:port, comma-separated, then ?replicas=1|3|5&name=[-_A-Za-z0-9]+');
  }
  if (query === undefined) return { servers };
  let location: JetStreamLocation = { servers };
  for (const [key, value] of new URLSearchParams(query)) {
    if (key === 'replicas' && /^[135]$/.test(value)) location = { ...location, replicas: Number(value) };
    else if (key === 'name' && /^[-_A-Za-z0-9]+$/.test(value)) location = { ...location, name: value };
    else throw new QueueUrlError(url, `bad parameter ${key}=${value} (replicas: 1, 3 or 5; name: [-_A-Za-z0-9]+)`);
  }
  return location;
}

/** A work-queue stream and KV buckets on a NATS server or cluster. */
export const jetstreamBackend: QueueBackend<'jetstream', JetStreamLocation, JetStreamOptions> = {
  name: 'jetstream',
  schemes: ['nats://', 'tls://'],
  parseUrl: parseNatsUrl,
  async open({ servers, ...fromUrl }, options) {
    const { createJetStreamQueue } = await loadDriver('jetstream', () => import('./jetstream.js'));
    return createJetStreamQueue(servers, { ...options, ...fromUrl });
  },
};
