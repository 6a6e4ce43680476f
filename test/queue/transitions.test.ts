// The record rules as pure functions, with a fake clock.

import t from 'tap';
import { newRecord, type NewCall } from '../../router/queue/record.js';
import * as step from '../../router/queue/transitions.js';

const call: NewCall = {
  id: 'c1', functionName: 'fn', method: 'POST', path: '', query: '', headers: {}, body: Buffer.from('abc'),
  callbackUrl: 'http://cb/hook',
};
const HOUR = 3_600_000;

t.test('a fresh record', async (t) => {
  const r = newRecord(call, 1000);
  t.match(r, { status: 'queued', acceptedAt: 1000, queuedAt: 1000, bodySize: 3, round: 0, callback: { state: 'pending' } });
  t.equal(newRecord({ ...call, callbackUrl: null }, 0).callback.state, 'none');
});

t.test('expiry counts from queuedAt and only before the first attempt of the round', async (t) => {
  const r = newRecord(call, 0);
  t.equal(step.isExpired(r, 6 * HOUR - 1, 6 * HOUR), false);
  t.equal(step.isExpired(r, 6 * HOUR, 6 * HOUR), true);
  t.equal(step.isExpired(r, 100 * HOUR, 0), false, '0 = never');
  t.throws(() => step.beginAttempt(r, 6 * HOUR, 6 * HOUR), { code: 'QUEUE_ERR_CALL_EXPIRED' });
  const started = step.beginAttempt(r, 10, 6 * HOUR);
  const retrying = step.nak(step.endAttempt(started, { statusCode: 503 }, 20), 1000, 20);
  t.equal(step.isExpired(retrying, 7 * HOUR, 6 * HOUR), false, 'a started call is not expired');
  const failed = step.finish(retrying, { status: 'failed', result: null }, 30, 10);
  const redriven = step.redrive(failed, 8 * HOUR);
  t.equal(step.isExpired(redriven, 8 * HOUR + 1, 6 * HOUR), false, 'redrive restarts the clock');
  t.equal(step.isExpired(redriven, 14 * HOUR, 6 * HOUR), true, 'and the new round can expire');
});

t.test('attempts: numbering, closing, rounds', async (t) => {
  let r = step.beginAttempt(newRecord(call, 0), 5, 0);
  t.throws(() => step.endAttempt(newRecord(call, 0), {}, 1), { code: 'QUEUE_ERR_CALL_STATE' }, 'nothing to end');
  r = step.beginAttempt(r, 9, 0); // the first was abandoned by a dead worker
  t.match(r.attempts, [{ number: 1, finishedAt: 9, error: /lease expired/ }, { number: 2, startedAt: 9, finishedAt: null }]);
  t.equal(r.startedAt, 5, 'startedAt is the first attempt of the round');
  r = step.endAttempt(r, { error: 'ECONNREFUSED' }, 12);
  t.match(r, { lastStatusCode: null, error: 'ECONNREFUSED', status: 'running' });
  r = step.nak(r, 500, 12);
  t.match(r, { status: 'queued', nextAttemptAt: 512 });
  t.equal(step.nak(r, -5, 20).nextAttemptAt, 20, 'negative delays are 0');
});

t.test('finish keeps the body up to the limit and makes the callback due', async (t) => {
  const running = step.beginAttempt(newRecord(call, 0), 1, 0);
  const small = step.finish(running, { status: 'succeeded', result: { statusCode: 200, headers: {}, body: Buffer.from('12345') } }, 2, 5);
  t.match(small, { status: 'succeeded', finishedAt: 2, lastStatusCode: 200, result: { bodySize: 5 }, callback: { state: 'pending' } });
  t.equal(small.attempts[0]!.finishedAt, 2, 'an open attempt is closed');
  const big = step.finish(running, { status: 'succeeded', result: { statusCode: 200, headers: {}, body: Buffer.from('123456') } }, 2, 5);
  t.equal(big.result!.body, null);
  t.throws(() => step.finish(small, { status: 'failed', result: null }, 3, 5), { code: 'QUEUE_ERR_CALL_STATE' });
  t.equal(step.nak(small, 100, 3).status, 'succeeded', 'a callback retry keeps the final status');
  t.equal(step.ack(small).nextAttemptAt, null);
  t.throws(() => step.ack(running), { code: 'QUEUE_ERR_CALL_STATE' });
  const delivered = step.callbackAttempt(small, { state: 'delivered', statusCode: 200 }, 4);
  t.same(delivered.callback, { state: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null, lastAttemptAt: 4 });
  t.throws(() => step.callbackAttempt(running, { state: 'delivered' }, 4), { code: 'QUEUE_ERR_CALL_STATE' });
});

t.test('term, cancel and redrive', async (t) => {
  const queued = newRecord(call, 0);
  const termed = step.term(step.beginAttempt(queued, 1, 0), 'bad', 2);
  t.match(termed, { status: 'failed', error: 'bad', finishedAt: 2, callback: { state: 'failed', lastError: 'not sent: bad' } });
  t.equal(step.term(termed, 'again', 3).error, 'bad', 'term on a final call keeps the record');
  const cancelled = step.cancel(queued, 5);
  t.match(cancelled, { status: 'cancelled', finishedAt: 5 });
  t.equal(step.cancel(newRecord({ ...call, callbackUrl: null }, 0), 5).callback.state, 'none');
  t.throws(() => step.cancel(termed, 6), { code: 'QUEUE_ERR_CALL_STATE', status: 409 });
  t.throws(() => step.redrive(cancelled, 6), { code: 'QUEUE_ERR_CALL_STATE' }, 'cancelled calls are not dead letters');
  const again = step.redrive(termed, 10);
  t.match(again, { status: 'queued', round: 1, queuedAt: 10, startedAt: null, result: null, callback: { state: 'pending', attempts: 0 } });
  t.match(step.beginAttempt(again, 11, 0).attempts.at(-1), { number: 2, round: 1 });
});

t.test('conclude: the attempt\'s end, the finish and (when asked) the ack as one change', async (t) => {
  const running = step.beginAttempt(newRecord(call, 0), 5, 0);
  const final = { status: 'succeeded' as const, result: { statusCode: 200, headers: {}, body: Buffer.from('ok') } };
  const kept = step.conclude(running, { statusCode: 200 }, final, false, 9, 10);
  t.same(kept, step.finish(step.endAttempt(running, { statusCode: 200 }, 9), final, 9, 10), 'the same record as the steps one by one');
  t.same(step.conclude(running, { statusCode: 200 }, final, true, 9, 10), step.ack(kept), 'and acked');
  t.throws(() => step.conclude(newRecord(call, 0), { statusCode: 200 }, final, true, 9, 10), { code: 'QUEUE_ERR_CALL_STATE' }, 'no attempt running: nothing written');
});
