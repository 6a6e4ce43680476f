// The callback: POST the function's answer to X-Callback-Url with the contract's headers, and decide
// from the receiver's answer whether it was delivered, should be tried again, or is given up.

import { createHmac } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { CallAbort, onAbort, type AnySignal } from '../../common/call-abort.js';
import { isRefusedCallbackAddress } from '../callback-guard.js';
import type { CallHeaders, CallRecord } from '../queue/index.js';
import { CallbackRefusedError } from './errors.js';
import type { WorkerConfig } from './options.js';
import { attemptsThisRound, type RetryPolicy } from './policy.js';

/** Function response headers that describe the old hop or body framing, not the content. */
const NOT_FORWARDED = new Set([
  'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host', 'trailer', 'te', 'upgrade',
  'proxy-authenticate', 'proxy-connection', 'date',
]);

/** HMAC-SHA256 of the body with the secret, as `sha256=<hex>`. */
export function signBody(body: Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The callback's headers for a final record: the function's own, then the contract's on top. */
export function callbackHeaders(
  record: CallRecord, body: Uint8Array, config: Pick<WorkerConfig, 'maxRetryAttempts'> & Partial<Pick<WorkerConfig, 'callbackSecret'>>,
  /** The signature when the body is not in memory (a spooled result); computed from `body` otherwise. */
  signature?: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const own: CallHeaders = record.result?.headers ?? {};
  for (const [name, value] of Object.entries(own)) if (!NOT_FORWARDED.has(name.toLowerCase())) out[name.toLowerCase()] = value;
  const last = record.attempts.at(-1);
  const seconds = last?.finishedAt != null ? (last.finishedAt - last.startedAt) / 1000 : 0;
  // No answer from the function (connection errors, expiry): 503, as OpenFaaS' worker reports a failed call.
  out['x-function-status'] = String(record.result?.statusCode ?? 503);
  out['x-call-status'] = record.status;
  out['x-call-id'] = record.id;
  out['x-function-name'] = record.functionName;
  out['x-duration-seconds'] = seconds.toFixed(6);
  out['x-retry'] = String(Math.max(0, attemptsThisRound(record) - 1));
  out['x-retry-max'] = String(Math.max(0, config.maxRetryAttempts - 1));
  out['user-agent'] = 'whippet-queue-worker';
  out['content-type'] ??= 'application/octet-stream';
  if (config.callbackSecret !== undefined) out['x-callback-signature'] = signature ?? signBody(body, config.callbackSecret);
  return out;
}

/** What one delivery try gave: the receiver's status, or the transport error. */
export interface DeliveryResult {
  readonly statusCode: number | null;
  readonly error: string | null;
  /** The host is a refused address: never retried. */
  readonly refused?: boolean;
}

/**
 * POST once; never throws. `dispatcher` is the callbacks' own pool (callback-dispatcher.ts), which refuses
 * host names resolving to link-local or metadata addresses; IP-literal hosts are checked here, as no
 * lookup runs for them. `allowLinkLocal` turns both off.
 */
export async function postCallback(
  url: string, headers: Record<string, string | string[]>, body: Uint8Array | Readable,
  options: { dispatcher: Dispatcher; timeoutMs: number; signal?: AnySignal; allowLinkLocal?: boolean },
): Promise<DeliveryResult> {
  const target = new URL(url);
  if (options.allowLinkLocal !== true && isRefusedCallbackAddress(target.hostname)) {
    return { statusCode: null, error: new CallbackRefusedError(target.hostname, target.hostname).message, refused: true };
  }
  // One signal (common/call-abort.ts): the deadline aborts it, and so does the caller's.
  const signal = new CallAbort();
  let late = false;
  const timer = setTimeout(() => { late = true; signal.abort(); }, options.timeoutMs);
  const stopListening = onAbort(options.signal, () => signal.abort(options.signal?.reason));
  try {
    const res = await options.dispatcher.request({
      origin: target.origin, path: `${target.pathname}${target.search}`, method: 'POST', headers, body, signal,
    });
    await res.body.dump();
    return { statusCode: res.statusCode, error: res.statusCode < 300 ? null : `callback answered ${res.statusCode}` };
  } catch (err) {
    if (!(body instanceof Uint8Array)) body.destroy();
    const refused = err instanceof CallbackRefusedError ? err : (err as { cause?: unknown }).cause instanceof CallbackRefusedError ? (err as { cause: CallbackRefusedError }).cause : undefined;
    if (refused !== undefined) return { statusCode: null, error: refused.message, refused: true };
    const failure = err as { code?: string; message?: string };
    const reason = late ? `no answer within ${options.timeoutMs}ms` : failure.code ?? failure.message ?? 'connection failed';
    return { statusCode: null, error: reason };
  } finally {
    clearTimeout(timer);
    stopListening();
  }
}

/** 2xx: delivered. retry_http_codes or no answer: try again while attempts remain. Anything else: failed. */
export function callbackState(result: DeliveryResult, attemptsIncludingThis: number, policy: RetryPolicy): 'delivered' | 'pending' | 'failed' {
  const code = result.statusCode;
  if (code !== null && code >= 200 && code < 300) return 'delivered';
  if (result.refused === true) return 'failed';
  const retryable = code === null || policy.retryHttpCodes.includes(code);
  return retryable && attemptsIncludingThis < policy.maxRetryAttempts ? 'pending' : 'failed';
}
