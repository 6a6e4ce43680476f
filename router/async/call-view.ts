// How a call record is shown by /system/calls: credentials redacted, the result body as text when it
// is UTF-8 and as base64 otherwise (with `encoding` saying which). Pure.

import type { CallHeaders, CallRecord } from '../queue/index.js';

/** Request headers never shown back: they are credentials of the original caller. */
const REDACTED = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Headers with credential values replaced by `[redacted]`. */
export function redactHeaders(headers: CallHeaders): CallHeaders {
  const out: CallHeaders = {};
  for (const [k, v] of Object.entries(headers)) out[k] = REDACTED.has(k.toLowerCase()) ? '[redacted]' : v;
  return out;
}

/** A body as JSON can carry it: `{ body, encoding: 'utf8' | 'base64' }`. */
export function encodeBody(body: Uint8Array): { body: string; encoding: 'utf8' | 'base64' } {
  try {
    return { body: utf8.decode(body), encoding: 'utf8' };
  } catch {
    return { body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'), encoding: 'base64' };
  }
}

/** The JSON view of one record; `withBody` false leaves the result body out (lists). */
export function viewCall(record: CallRecord, withBody: boolean): Record<string, unknown> {
  const result = record.result;
  let resultView: Record<string, unknown> | null = null;
  if (result !== null) {
    resultView = { statusCode: result.statusCode, headers: result.headers, bodySize: result.bodySize };
    if (withBody) {
      if (result.body === null) resultView['bodyKept'] = false;
      else Object.assign(resultView, encodeBody(result.body));
    }
  }
  return { ...record, headers: redactHeaders(record.headers), result: resultView };
}
