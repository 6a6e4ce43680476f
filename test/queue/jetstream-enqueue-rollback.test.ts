// An enqueue whose publish fails takes its record back, so that a retry with the same X-Call-Id is a
// new call. During a failover that rollback can land after the client's retry has been answered 202
// (the first attempt timed out for the client but went on inside the router): the rollback must then
// leave the record alone, or the call that got its 202 never runs. Seen in CI as 5 of 2,000 calls
// never called back after the stream leader of a 3-node cluster was killed.

import t, { type Test } from 'tap';
import { createQueue, type Queue } from '../../router/queue/index.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { call } from './jetstream-workers.js';

type Publish = (...args: unknown[]) => Promise<void>;
type Update = (key: string, value: Uint8Array, revision: number) => Promise<number>;
type Delete = (key: string, opts: { previousSeq: number }) => Promise<void>;

/** Make the queue's publishes go through `wrap` (fault injection on the private publish step); returns the undo. */
function interceptPublish(queue: Queue, wrap: (n: number, real: Publish, args: unknown[]) => Promise<void>): () => void {
  const q = (queue as unknown as { accept: { publish: Publish } }).accept;
  const real = q.publish.bind(q);
  let n = 0;
  q.publish = (...args) => wrap(++n, real, args);
  return () => { q.publish = real; };
}

/** Poll `check` every 50 ms for up to `ms`; true once it held. */
async function eventually(check: () => Promise<boolean>, ms = 3_000): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
    if (await check()) return true;
  }
  return false;
}

/**
 * Start an enqueue of `id` whose publish hangs (the failover) until release(), then fails; resolves once its
 * record exists and the publish is in the air. `first` settles with 'accepted' or the error message.
 */
async function firstAttemptHeld(queue: Queue, id: string): Promise<{ first: Promise<string>; release: () => void }> {
  let release = (): void => {};
  const gate = new Promise<void>((r) => { release = r; });
  let publishing = (): void => {};
  const firstPublishing = new Promise<void>((r) => { publishing = r; });
  interceptPublish(queue, async (n, real, args) => {
    if (n > 1) return real(...args);
    publishing();
    await gate;
    throw new Error('publish timed out (injected)');
  });
  const first = queue.enqueue(call(id)).then(() => 'accepted', (err: Error) => err.message);
  await firstPublishing;
  return { first, release };
}

async function runToEnd(t: Test, queue: Queue, id: string): Promise<void> {
  const lease = await queue.next({ timeoutMs: 5_000 });
  t.equal(lease?.request.id, id, `a worker gets ${id}`);
  await lease!.beginAttempt();
  await lease!.finish({ status: 'succeeded', result: null });
  await lease!.ack();
  t.match(await queue.get(id), { status: 'succeeded' }, `${id} ran to the end`);
  t.equal(await queue.next({ timeoutMs: 300 }), null, 'nothing else left');
}

t.test('enqueue rollback', { timeout: 60_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const open = async (name: string): Promise<Queue> => {
    const queue = await createQueue(node.url, { ackWaitMs: 5_000, jetstream: { name, enqueueTimeoutMs: 30_000 } });
    t.teardown(() => queue.close());
    return queue;
  };

  await t.test('a failed publish takes the record back: the retry is a new call', async (t) => {
    const queue = await open('rb-alone');
    interceptPublish(queue, (n, real, args) => (n === 1 ? Promise.reject(new Error('publish failed (injected)')) : real(...args)));
    await t.rejects(queue.enqueue(call('alone')), /injected/, 'the enqueue fails');
    t.ok(await eventually(async () => (await queue.get('alone')) === null), 'the record is taken back');
    t.match(await queue.enqueue(call('alone')), { duplicate: false }, 'the retry stores it anew');
    await runToEnd(t, queue, 'alone');
  });

  await t.test('a rollback that lands after a retry was accepted leaves the call alone', async (t) => {
    const queue = await open('rb-late');
    const { first, release } = await firstAttemptHeld(queue, 'late');
    t.match(await queue.enqueue(call('late')), { duplicate: true, record: { status: 'queued' } }, 'the client retry is accepted (202)');
    release();
    t.match(await first, /injected/, 'the first attempt fails after that');
    t.notOk(await eventually(async () => (await queue.get('late')) === null, 500), 'its rollback does not remove the accepted call');
    await runToEnd(t, queue, 'late');
  });

  await t.test('a rollback that lands between a retry\'s read and its claim: the retry stores the call anew', async (t) => {
    const queue = await open('rb-between');
    const { first, release } = await firstAttemptHeld(queue, 'between');
    // The claim is a compare-and-set (KV update); the creator's rollback lands just before it.
    const kv = (queue as unknown as { store: { link: { conn: { kv: { update: Update; delete: Delete } } } } }).store.link.conn.kv;
    const update = kv.update.bind(kv);
    let raced = false;
    kv.update = async (key, value, revision) => {
      if (!raced) { raced = true; await kv.delete(key, { previousSeq: revision }); }
      return update(key, value, revision);
    };
    t.match(await queue.enqueue(call('between')), { duplicate: false, record: { status: 'queued' } }, 'the retry is accepted as a new call (202)');
    t.ok(raced, 'the rollback landed between the read and the claim');
    release();
    t.match(await first, /injected/, 'the first attempt fails');
    await runToEnd(t, queue, 'between');
  });

  await t.test('a retry whose publish fails leaves an accepted call alone', async (t) => {
    const queue = await open('rb-claim');
    t.match(await queue.enqueue(call('claim')), { duplicate: false }, 'accepted (202)');
    const undo = interceptPublish(queue, () => Promise.reject(new Error('publish failed (injected)')));
    await t.rejects(queue.enqueue(call('claim')), /injected/, 'a second post of the same id fails to publish again');
    t.notOk(await eventually(async () => (await queue.get('claim')) === null, 500), 'the record stays');
    undo();
    await runToEnd(t, queue, 'claim');
  });
});
