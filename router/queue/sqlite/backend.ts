// The sqlite backend's descriptor: `sqlite:<path>[?synchronous=full|normal]`, e.g. sqlite:.whippet/queue.db
// (the default) or sqlite:///var/lib/whippet/queue.db.

import type { QueueBackend } from '../backend.js';
import { loadDriver } from '../backend.js';
import { QueueUrlError } from '../errors.js';

/** What a sqlite URL says. */
export interface SqliteLocation {
  readonly path: string;
  /** sync the file before an accept resolves (full, default) or rely on the OS page cache (normal). */
  readonly synchronous?: 'full' | 'normal';
}

/** sqlite-only settings. */
export interface SqliteOptions {
  /** How often waiting workers look for calls written by other processes. Default 100 ms. */
  readonly pollIntervalMs?: number;
  /** Batch concurrent accepts into one transaction. Default true (false only for benchmarks). */
  readonly groupCommit?: boolean;
  /** How the WAL file is made durable before accepts resolve (tests). Default: fdatasync on libuv's thread pool. */
  readonly syncFile?: (fd: number) => Promise<void>;
  /** A sync waiting this long for the disk makes health() report the queue down (tests). Default 10 s. */
  readonly syncStalledMs?: number;
}

/** `sqlite:<path>[?synchronous=full|normal]` → path and options. */
export function parseSqliteUrl(url: string): SqliteLocation {
  const rest = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''); // sqlite:///abs/path → /abs/path
  const [path = '', query] = rest.split('?', 2);
  if (path === '' || path === ':memory:') {
    throw new QueueUrlError(url, 'expected a file path after sqlite: (other processes must be able to open it)');
  }
  if (query === undefined) return { path };
  const params = new URLSearchParams(query);
  for (const key of params.keys()) if (key !== 'synchronous') throw new QueueUrlError(url, `unknown parameter ${key} (sqlite takes synchronous=full|normal)`);
  const synchronous = params.get('synchronous');
  if (synchronous !== 'full' && synchronous !== 'normal') throw new QueueUrlError(url, 'synchronous must be full or normal');
  return { path, synchronous };
}

/** One file shared by the router and workers on one machine. */
export const sqliteBackend: QueueBackend<'sqlite', SqliteLocation, SqliteOptions> = {
  name: 'sqlite',
  schemes: ['sqlite:'],
  parseUrl: parseSqliteUrl,
  async open(location, options) {
    const { createSqliteQueue } = await loadDriver('sqlite', () => import('./sqlite.js'));
    return createSqliteQueue({ ...options, ...location });
  },
};
