// undici mixes request()/stream() into Dispatcher.prototype in its index module, which the router
// avoids loading (upstream.ts loads only the Agent: ~10 MB less RSS). The invoker (the worker's path)
// calls dispatcher.request(), so the small api module is mixed in here, once, the way undici's index does.

import { createRequire } from 'node:module';
import type { Dispatcher } from 'undici';

const require = createRequire(import.meta.url);
type DispatcherClass = new () => Dispatcher;

let mixedIn = false;

/** The same dispatcher, with request() available. */
export function withRequestApi<D extends Dispatcher>(dispatcher: D): D {
  if (!mixedIn) {
    const base = require('undici/lib/dispatcher/dispatcher.js') as DispatcherClass;
    if (typeof (base.prototype as { request?: unknown }).request !== 'function') {
      Object.assign(base.prototype, require('undici/lib/api/index.js') as object);
    }
    mixedIn = true;
  }
  return dispatcher;
}
