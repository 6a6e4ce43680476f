// undici mixes request()/stream() into Dispatcher.prototype in its index module, which the router
// avoids loading (upstream.ts loads only the Agent: ~10 MB less RSS). The worker and the invoker call
// dispatcher.request(), so the small api module is mixed in here, once, the way undici's index does.

import { createRequire } from 'node:module';
import type { Dispatcher } from 'undici';

const require = createRequire(import.meta.url);
type DispatcherClass = new () => Dispatcher;

let base: DispatcherClass | undefined;

function dispatcherBase(): DispatcherClass {
  if (base !== undefined) return base;
  base = require('undici/lib/dispatcher/dispatcher.js') as DispatcherClass;
  if (typeof (base.prototype as { request?: unknown }).request !== 'function') {
    Object.assign(base.prototype, require('undici/lib/api/index.js') as object);
  }
  return base;
}

/** The same dispatcher, with request() available. */
export function withRequestApi<D extends Dispatcher>(dispatcher: D): D {
  dispatcherBase();
  return dispatcher;
}

/**
 * A view of `real` whose close()/destroy() do nothing: the sync router closes "its" pool when its
 * server stops, while the in-process worker may still be finishing calls and callbacks on it. The
 * owner closes `real` itself once both are done.
 */
export function sharedView(real: Dispatcher): Dispatcher {
  const Base = dispatcherBase();
  class SharedDispatcher extends Base {
    override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      return real.dispatch(options, handler);
    }
    override close(): Promise<void> { return Promise.resolve(); }
    override destroy(): Promise<void> { return Promise.resolve(); }
  }
  return new SharedDispatcher();
}
