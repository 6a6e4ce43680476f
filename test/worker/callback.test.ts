import t from 'tap';
import { createHmac } from 'node:crypto';
import { callbackHeaders, callbackState, postCallback, signBody } from '../../router/worker/callback.js';
import { withRequestApi } from '../../router/dispatcher-api.js';
import { createUpstreamDispatcher } from '../../router/upstream.js';
import { startUpstream, deadPort } from '../helpers/start-router.js';
import type { CallRecord } from '../../router/queue/index.js';

const attempt = (round: number, start: number, end: number, code: number) => ({ number: 0, round, startedAt: start, finishedAt: end, statusCode: code, error: null });
const record = {
  id: 'call-1', functionName: 'echo', status: 'succeeded', round: 1, callbackUrl: 'http://x/',
  attempts: [attempt(0, 0, 10, 503), attempt(1, 100, 200, 503), attempt(1, 1_000, 2_500, 200)],
  result: { statusCode: 200, bodySize: 2, body: null, headers: {
    'content-type': 'application/json', 'x-fn': 'own', connection: 'keep-alive', 'transfer-encoding': 'chunked',
    'content-length': '2', 'X-Call-Id': 'spoofed', date: 'yesterday',
  } },
} as unknown as CallRecord;

t.test('callback headers: the function\'s own, then the contract\'s', async (t) => {
  const body = Buffer.from('{}');
  const h = callbackHeaders(record, body, { maxRetryAttempts: 10, callbackSecret: 'k' });
  t.same(h, {
    'content-type': 'application/json', 'x-fn': 'own',
    'x-function-status': '200', 'x-call-status': 'succeeded', 'x-call-id': 'call-1', 'x-function-name': 'echo',
    'x-duration-seconds': '1.500000', 'x-retry': '1', 'x-retry-max': '9', 'user-agent': 'whippet-queue-worker',
    'x-callback-signature': `sha256=${createHmac('sha256', 'k').update(body).digest('hex')}`,
  }, 'hop-by-hop and framing headers dropped; X-Retry counts the current round only; a function cannot spoof X-Call-Id');
  const none = callbackHeaders({ ...record, status: 'expired', result: null, attempts: [] }, Buffer.alloc(0), { maxRetryAttempts: 1 });
  t.match(none, { 'x-function-status': '503', 'x-call-status': 'expired', 'x-retry': '0', 'x-retry-max': '0', 'x-duration-seconds': '0.000000', 'content-type': 'application/octet-stream' });
  t.notOk('x-callback-signature' in none, 'no signature without callback_secret');
  t.equal(signBody(Buffer.from('abc'), 'key'), `sha256=${createHmac('sha256', 'key').update('abc').digest('hex')}`);
});

t.test('callback outcome', async (t) => {
  const P = { retryHttpCodes: [429, 503], maxRetryAttempts: 3 };
  t.equal(callbackState({ statusCode: 204, error: null }, 1, P), 'delivered');
  t.equal(callbackState({ statusCode: null, error: 'ECONNREFUSED' }, 1, P), 'pending');
  t.equal(callbackState({ statusCode: 503, error: 'x' }, 2, P), 'pending');
  t.equal(callbackState({ statusCode: 503, error: 'x' }, 3, P), 'failed', 'attempts exhausted');
  t.equal(callbackState({ statusCode: 404, error: 'x' }, 1, P), 'failed', 'not a retryable status');
});

t.test('postCallback against real sockets', async (t) => {
  const dispatcher = withRequestApi(createUpstreamDispatcher({ upstreamTimeoutMs: 5_000 }));
  t.teardown(() => dispatcher.close());
  const up = await startUpstream(t, (req, res) => {
    if (req.url === '/slow') { setTimeout(() => res.end(), 2_000); return; }
    res.statusCode = req.url === '/teapot' ? 418 : 200;
    req.resume().on('end', () => res.end());
  });
  t.same(await postCallback(`${up.url}/ok?a=1`, { 'x-a': '1' }, Buffer.from('hi'), { dispatcher, timeoutMs: 1_000 }), { statusCode: 200, error: null });
  t.equal(up.requests[0]!.url, '/ok?a=1');
  t.equal(up.requests[0]!.method, 'POST');
  t.same(await postCallback(`${up.url}/teapot`, {}, Buffer.alloc(0), { dispatcher, timeoutMs: 1_000 }), { statusCode: 418, error: 'callback answered 418' });
  t.match(await postCallback(`${up.url}/slow`, {}, Buffer.alloc(0), { dispatcher, timeoutMs: 200 }), { statusCode: null, error: 'no answer within 200ms' });
  t.match(await postCallback(`http://127.0.0.1:${await deadPort()}/`, {}, Buffer.alloc(0), { dispatcher, timeoutMs: 1_000 }), { statusCode: null, error: 'ECONNREFUSED' });
});
