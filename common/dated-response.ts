// Every server here answers through this ServerResponse (createServer's `ServerResponse` option): it puts the
// Date header into a response head that has none, before Node would. Node makes its own with Date methods
// that load ICU's time zone data (common/utc-time.ts), ~0.6 MB of RSS from the first answer on.
//
// Node calls writeHead() for an implicit head too (a response ended without one), so every head passes here.
// The header goes into the object a caller hands writeHead() (the proxies' `out`, a literal elsewhere), which
// keeps Node on its fast path: a setHeader() before writeHead(obj) would make it copy every header through
// setHeader(). A caller's object is fresh per response; none is shared or frozen.

import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import { httpDate } from './utc-time.js';

type HeadArgs = [statusMessage?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]];

/** Whether a raw header list (`[name, value, name, value, …]`) names a Date header. */
function listsDate(list: readonly OutgoingHttpHeader[]): boolean {
  for (let i = 0; i < list.length; i += 2) if (String(list[i]).toLowerCase() === 'date') return true;
  return false;
}

export class DatedResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  override writeHead(statusCode: number, ...rest: HeadArgs): this {
    if (this.sendDate && !this.headersSent) {
      const last = rest[rest.length - 1];
      if (Array.isArray(last)) {
        if (!listsDate(last) && !this.hasHeader('date')) last.push('Date', httpDate());
      } else if (typeof last === 'object' && last !== null) {
        if (last.date === undefined && last.Date === undefined && !this.hasHeader('date')) last.Date = httpDate();
      } else if (!this.hasHeader('date')) {
        this.setHeader('Date', httpDate());
      }
    }
    return super.writeHead(statusCode, ...(rest as [string, OutgoingHttpHeaders]));
  }
}
