// What a queue backend gives the rest of the queue: its name, the URL schemes it answers to, a parser
// for its URL, and open(). Each backend is one folder (sqlite/, jetstream/) exporting one of these,
// listed once in backends.ts; docs/queue-backends.md is the checklist for adding one.

import { QueueBackendMissingError } from './errors.js';
import type { Queue, QueueOptions } from './queue.js';

/** A backend: `Location` is what its URL says, `Options` its own settings beside the shared QueueOptions. */
export interface QueueBackend<Name extends string, Location, Options> {
  /** The name in `Queue.backend` and the key of its options in createQueue's options. */
  readonly name: Name;
  /** URL prefixes this backend answers to, such as `sqlite:` or `nats://`. */
  readonly schemes: readonly string[];
  /** The URL's location and parameters; throws QueueUrlError naming the rule the URL breaks. */
  parseUrl(url: string): Location;
  /** Open the queue; loads the backend's driver on first use. */
  open(location: Location, options: QueueOptions & Options): Promise<Queue>;
}

/**
 * Load a backend's driver module. A driver missing from this build (its npm package or native module
 * not installed) is QueueBackendMissingError, a configuration problem rather than a crash.
 */
export async function loadDriver<T>(backend: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isModuleNotFound(err)) throw new QueueBackendMissingError(backend, { cause: err });
    throw err;
  }
}

/** Node says ERR_MODULE_NOT_FOUND; the TypeScript loader the tests run under says only "Cannot find module". */
function isModuleNotFound(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ERR_MODULE_NOT_FOUND' || (code === undefined && /^Cannot find (module|package) /.test(String(message)));
}
