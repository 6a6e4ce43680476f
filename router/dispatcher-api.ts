// undici mixes request()/stream() into Dispatcher.prototype in its index module, which the router
// avoids loading (upstream.ts loads only the Agent: ~10 MB less RSS). The worker's callbacks (worker/callback.ts)
// call dispatcher.request() (the invocation itself dispatches: router/invoker.ts), so the small api module is
// mixed in here, once, the way undici's index does.

import type { Dispatcher } from 'undici';
import { requireUndici } from '../watchdog/undici.js';

type DispatcherClass = new () => Dispatcher;

let mixedIn = false;

/** The same dispatcher, with request() available. */
export function withRequestApi<D extends Dispatcher>(dispatcher: D): D {
  if (!mixedIn) {
    const base = requireUndici<DispatcherClass>('lib/dispatcher/dispatcher.js');
    if (typeof (base.prototype as { request?: unknown }).request !== 'function') {
      Object.assign(base.prototype, requireUndici<object>('lib/api/index.js'));
    }
    mixedIn = true;
  }
  return dispatcher;
}
