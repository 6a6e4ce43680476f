// JSON answers of the dashboard API, with its security headers and no caching.

import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './headers.js';

/** Write a JSON body (HEAD gets the headers only). */
export function sendUiJson(res: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, {
    ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store',
  });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}
