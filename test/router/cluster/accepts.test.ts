// A multi-process router on SQLite commits its async accepts in the primary (router/cluster/accepts.ts): a worker
// process sends the accepts of one event-loop turn as one message and settles each call with the primary's
// answer for it, the same error class included; the bodies cross the channel as their bytes; a channel that
// is gone fails the calls waiting on it. The primary's side commits a batch in one group commit against a
// real queue file.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { ForwardedAccepts, commitForwarded, type AcceptReply, type AcceptRequest } from '../../../router/cluster/accepts.js';
import { QueueBusyError, QueueClosedError, QueueUnavailableError, createQueue, newRecord, type NewCall, type Queue } from '../../../router/queue/index.js';

const call = (id: string, body: Uint8Array = Buffer.from('hello')): NewCall => ({
  id, functionName: 'fn', method: 'POST', path: '', query: '', headers: { 'content-type': 'text/plain' }, body, callbackUrl: null,
});

/** The local queue a ForwardedAccepts delegates everything but enqueue to: enqueue here is a bug. */
function localQueue(): Queue {
  return new Proxy({ backend: 'sqlite' } as Queue, {
    get: (target, key) => key === 'backend' ? target.backend : key === 'enqueue'
      ? () => { throw new Error('enqueue reached the worker process\'s own connection'); }
      : async () => `local ${String(key)}`,
  });
}

/** What node's `advanced` IPC serialization does to a message: v8's serializer, a Buffer as the bytes of its view. */
const overTheChannel = <T>(msg: T): T => deserialize(serialize(msg)) as T;

function channel(): { sent: AcceptRequest[]; send(msg: AcceptRequest): void } {
  const sent: AcceptRequest[] = [];
  return { sent, send: (msg) => { sent.push(overTheChannel(msg)); } };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('the accepts of one turn go as one message; each settles with its own outcome, errors as their class', async (t) => {
  const ch = channel();
  const accepts = new ForwardedAccepts(localQueue(), ch);
  const settled = ['a', 'b', 'c', 'd', 'e'].map((id) => accepts.enqueue(call(id)).then((r) => r, (err: unknown) => err));
  await turn();
  t.equal(ch.sent.length, 1, 'one message for the turn');
  t.same(ch.sent[0]!.calls.map((c) => c.id), ['a', 'b', 'c', 'd', 'e']);
  const later = accepts.enqueue(call('f'));
  await turn();
  t.equal(ch.sent.length, 2, 'the next turn sends its own message');

  const reply: AcceptReply = {
    whippet: 'enqueued', id: ch.sent[0]!.id, outcomes: [
      { ok: true, duplicate: false, acceptedAt: 1_700_000_000_000 },
      { ok: false, code: 'QUEUE_ERR_BUSY', message: 'the queue is locked by another process', waitedMs: 1003 },
      { ok: false, code: 'QUEUE_ERR_CLOSED', message: 'the queue is closed' },
      { ok: false, code: 'QUEUE_ERR_UNAVAILABLE', message: 'the queue is unavailable: the file was removed', reason: 'the file was removed' },
      { ok: false, code: undefined, message: 'SQLITE_FULL: database or disk is full' },
    ],
  };
  accepts.received(reply);
  const [a, b, c, d, e] = await Promise.all(settled);
  t.same(a, { duplicate: false, record: newRecord(call('a'), 1_700_000_000_000) }, 'a new call: its record built here from the call and the time it was accepted');
  t.type(b, QueueBusyError);
  t.equal((b as QueueBusyError).waitedMs, 1003, 'the wait the primary reported');
  t.equal((b as QueueBusyError).status, 503);
  t.type(c, QueueClosedError);
  t.type(d, QueueUnavailableError);
  t.equal((d as Error).message, 'the queue is unavailable: the file was removed', 'the reason as the primary gave it, once');
  t.equal((e as Error).constructor, Error, 'an unknown failure is a plain error (a 500, as in one process)');
  t.equal((e as Error).message, 'SQLITE_FULL: database or disk is full');

  accepts.received({ whippet: 'enqueued', id: ch.sent[1]!.id, outcomes: [] });
  await t.rejects(later, QueueUnavailableError, 'a reply without the call fails it rather than leaving it waiting');
  accepts.received(reply); // answered already: ignored
});

t.test('a body crosses the channel as exactly its bytes, not the pool block it is a view of', async (t) => {
  const ch = channel();
  const accepts = new ForwardedAccepts(localQueue(), ch);
  const pooled = Buffer.from('tiny body');
  t.not(pooled.buffer.byteLength, pooled.byteLength, 'precondition: a small Buffer is a view of a larger block');
  void accepts.enqueue(call('x', pooled));
  void accepts.enqueue(call('y', new Uint8Array([1, 2, 3])));
  await turn();
  const [x, y] = ch.sent[0]!.calls;
  t.equal(Buffer.from(x!.body).toString(), 'tiny body');
  t.same([...y!.body], [1, 2, 3]);
  t.ok(serialize(ch.sent[0]).byteLength < 1000, 'the message is small (the pool block is 8 KiB)');
});

t.test('everything but enqueue uses the worker process\'s own connection', async (t) => {
  const accepts = new ForwardedAccepts(localQueue(), channel());
  t.equal(accepts.backend, 'sqlite');
  t.equal(await accepts.get('id'), 'local get');
  t.equal(await accepts.list(), 'local list');
  t.equal(await accepts.cancel('id'), 'local cancel');
  t.equal(await accepts.redrive('id'), 'local redrive');
  t.equal(await accepts.depth(), 'local depth');
  t.equal(await accepts.health(), 'local health');
  t.equal(await accepts.close(), 'local close');
});

t.test('a channel that is gone fails what waits and what comes after; a send that throws fails its batch', async (t) => {
  const ch = channel();
  const accepts = new ForwardedAccepts(localQueue(), ch);
  const sent = accepts.enqueue(call('sent'));
  await turn();
  const unsent = accepts.enqueue(call('unsent'));
  accepts.disconnected();
  await t.rejects(sent, QueueUnavailableError);
  await t.rejects(unsent, QueueUnavailableError);
  await t.rejects(accepts.enqueue(call('after')), { message: /primary process is gone/ });

  const broken = new ForwardedAccepts(localQueue(), { send: () => { throw new Error('channel closed'); } });
  await t.rejects(broken.enqueue(call('z')), { message: /cannot reach the router's primary process: channel closed/ });
});

t.test('the primary commits a batch against the queue: duplicates within it, and a closed queue, per call', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'whippet-accepts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const queue = await createQueue(`sqlite:${join(dir, 'queue.db')}`);
  // As the channel delivers it: through the structured clone of node's advanced serialization.
  const request = overTheChannel<AcceptRequest>({ whippet: 'enqueue', id: 7, calls: [call('one'), call('two', Buffer.from('second')), call('one')] });
  const reply = await commitForwarded(queue, request);
  t.equal(reply.id, 7);
  t.same(reply.outcomes.map((o) => o.ok && o.duplicate), [false, false, true]);
  t.same((await queue.list()).map((r) => r.id).sort(), ['one', 'two'], 'two calls stored');
  // What the worker process settles its accepts with is what the queue stored: built there for a new call (the
  // answer carries only the time), sent whole for a duplicate.
  const ch0 = channel();
  const forwarded = new ForwardedAccepts(localQueue(), ch0);
  const results = request.calls.map((c) => forwarded.enqueue(c));
  await turn();
  forwarded.received(overTheChannel({ ...reply, id: ch0.sent[0]!.id }));
  const [one, two, again] = await Promise.all(results);
  t.same(one, { duplicate: false, record: await queue.get('one') }, 'a new call\'s record, as stored');
  t.same(two, { duplicate: false, record: await queue.get('two') });
  t.same(again, { duplicate: true, record: await queue.get('one') }, 'the duplicate\'s record, as found');
  t.notOk('record' in reply.outcomes[0]!, 'a new call\'s answer does not carry its record');
  const leased = await queue.next({ timeoutMs: 1000 });
  t.equal(Buffer.from(leased!.request.body).toString(), 'hello', 'the first call\'s body was stored as sent');
  await leased!.nak();
  const cloned = overTheChannel(reply);
  t.same(cloned.outcomes[0], reply.outcomes[0], 'a reply survives the channel');

  await queue.close();
  const closed = await commitForwarded(queue, { whippet: 'enqueue', id: 8, calls: [call('three')] });
  t.match(closed.outcomes[0], { ok: false, code: 'QUEUE_ERR_CLOSED' });

  // An unavailable queue's reason crosses whole, and the worker process builds the same error from it.
  const gone = { backend: 'sqlite', enqueue: async () => { throw new QueueUnavailableError('the file was removed'); } } as unknown as Queue;
  const refused = overTheChannel(await commitForwarded(gone, { whippet: 'enqueue', id: 9, calls: [call('four')] }));
  t.match(refused.outcomes[0], { ok: false, code: 'QUEUE_ERR_UNAVAILABLE', reason: 'the file was removed' });
  const ch = channel();
  const accepts = new ForwardedAccepts(localQueue(), ch);
  const waiting = accepts.enqueue(call('four'));
  await turn();
  accepts.received({ ...refused, id: ch.sent[0]!.id });
  await t.rejects(waiting, { message: 'the queue is unavailable: the file was removed' });
});
