// The dashboard's own errors, answered by the router's sendError like every other.

import { RouterError } from '../errors.js';

/** A state-changing dashboard request that did not come from the dashboard's own page (403). */
export class CrossSiteError extends RouterError {
  constructor(reason: string) {
    super('ROUTER_ERR_CROSS_SITE', `refused: ${reason} (dashboard actions must come from the dashboard page)`, 403);
  }
}

/** The page was not built (`npm run build` writes dist/ui/) (503). */
export class UiNotBuiltError extends RouterError {
  constructor() { super('ROUTER_ERR_UI_NOT_BUILT', 'the dashboard is not built: run npm run build', 503); }
}
