// Cross-site request protection for the dashboard's actions (cancel, retry). The browser sends Basic
// credentials with any request to the router, also one a foreign page makes, so credentials prove
// nothing about where a request came from. A custom header does: a foreign page cannot set one without
// a CORS preflight, which the router never grants. Fetch metadata and Origin, when the browser sends
// them, must also name this very origin.

import type { IncomingMessage } from 'node:http';
import { CrossSiteError } from './errors.js';

/** The header the dashboard page sends with every action. */
export const ACTION_HEADER = 'x-whippet-ui';

/** Throw CrossSiteError unless `req` is a same-origin request of the dashboard page. */
export function checkSameOrigin(req: IncomingMessage): void {
  if (req.headers[ACTION_HEADER] !== '1') throw new CrossSiteError(`the ${ACTION_HEADER} header is missing`);
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') throw new CrossSiteError(`Sec-Fetch-Site is ${site}`);
  refuseForeignOrigin(req);
}

/**
 * Throw CrossSiteError for a state-changing /system request a browser made from another site: Fetch
 * metadata (`Sec-Fetch-Site` other than same-origin or none) or an `Origin` naming another host. A
 * cached Basic login would otherwise let a foreign page's form cancel or retry calls. Command-line
 * clients (curl, faas-cli, `whippet calls`) send neither header and are not affected.
 */
export function refuseCrossSiteWrite(req: IncomingMessage): void {
  if (req.method === 'GET' || req.method === 'HEAD') return;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new CrossSiteError(`Sec-Fetch-Site is ${site}`);
  refuseForeignOrigin(req);
}

/** An `Origin`, when sent, must name this router; `null` (a sandboxed frame, a file: page) never does. */
function refuseForeignOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  const host = URL.canParse(origin) ? new URL(origin).host : undefined;
  if (host === undefined || host !== req.headers.host) throw new CrossSiteError(`Origin ${origin} is not this router`);
}
