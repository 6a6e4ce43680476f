// Queue.watch() on both backends: every change (accept, attempt, result, cancel) is reported once it
// is stored, also when another queue instance (another process) made it, only from the subscription
// on, and never after the unsubscribe. sqlite on a real file; jetstream on a real nats-server.

import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createQueue, type CallChange, type NewCall, type Queue } from '../../router/queue/index.js';
import { encodeEnvelope } from '../../router/queue/jetstream/jetstream-envelope.js';
import { jetStreamNames, recordKey } from '../../router/queue/jetstream/jetstream-names.js';
import { newRecord } from '../../router/queue/record.js';
import * as step from '../../router/queue/transitions.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { makeCall } from '../helpers/calls.js';
import { mustLease, settle } from './contract-helpers.js';

type Open = (t: Test) => Promise<Queue>;

/** Collects changes; `waitFor` resolves with the first change matching, or fails after `ms`. */
interface Recorder {
  readonly changes: CallChange[];
  stop(): void;
  waitFor(match: (c: CallChange) => boolean, ms?: number): Promise<CallChange>;
}

async function recorder(queue: Queue): Promise<Recorder> {
  const changes: CallChange[] = [];
  const waiting = new Set<() => void>();
  const stop = await queue.watch((c) => { changes.push(c); for (const w of waiting) w(); });
  return {
    changes, stop,
    waitFor: (match, ms = 5_000) => new Promise((resolve, reject) => {
      const check = (): void => {
        const found = changes.find(match);
        if (found === undefined) return;
        waiting.delete(check); clearTimeout(timer); resolve(found);
      };
      const timer = setTimeout(() => { waiting.delete(check); reject(new Error(`no matching change within ${ms} ms; saw ${JSON.stringify(changes.map((c) => [c.id, c.previous, c.status]))}`)); }, ms);
      waiting.add(check);
      check();
    }),
  };
}

/** Enqueue a call on `queue`, work it there as the worker does, and wait until `rec` reports it succeeded. */
async function workOne(t: Test, queue: Queue, rec: Recorder): Promise<{ call: NewCall; done: CallChange }> {
  const call = makeCall();
  await queue.enqueue(call);
  await settle(await mustLease(t, queue));
  return { call, done: await rec.waitFor((c) => c.id === call.id && c.status === 'succeeded') };
}

/** Consecutive duplicates removed: jetstream may rewrite a record without a status change. */
const distinct = (statuses: readonly string[]): string[] => statuses.filter((s, i) => i === 0 || statuses[i - 1] !== s);

function watchContract(t: Test, open: Open): void {
  t.test('an accepted call is reported with its record and no previous status', async (t) => {
    const queue = await open(t);
    const rec = await recorder(queue);
    t.teardown(rec.stop);
    const call = makeCall();
    await queue.enqueue(call);
    const change = await rec.waitFor((c) => c.id === call.id);
    t.equal(change.previous, null, 'previous is null for a fresh call');
    t.equal(change.status, 'queued');
    t.equal(change.functionName, call.functionName);
    t.equal(change.record?.id, call.id, 'the record comes with the change');
    t.equal(change.record?.method, call.method);
  });

  t.test('a worked call reports queued, running, succeeded in order; a cancel reports cancelled', async (t) => {
    const queue = await open(t);
    const rec = await recorder(queue);
    t.teardown(rec.stop);
    const { call, done } = await workOne(t, queue, rec);
    t.equal(done.previous, 'running', 'succeeded follows running');
    t.equal(done.record?.result?.statusCode, 200, 'the record carries the result (without its body)');
    t.same(distinct(rec.changes.filter((c) => c.id === call.id).map((c) => c.status)), ['queued', 'running', 'succeeded']);

    const other = makeCall();
    await queue.enqueue(other);
    await queue.cancel(other.id);
    const cancelled = await rec.waitFor((c) => c.id === other.id && c.status === 'cancelled');
    t.equal(cancelled.previous, 'queued');
  });

  t.test('changes made by another instance on the same store are reported', async (t) => {
    const watching = await open(t);
    const writing = await open(t);
    const rec = await recorder(watching);
    t.teardown(rec.stop);
    const call = makeCall();
    await writing.enqueue(call);
    await settle(await mustLease(t, writing));
    const done = await rec.waitFor((c) => c.id === call.id && c.status === 'succeeded');
    t.equal(done.record?.id, call.id);
  });

  t.test('only changes after the subscription, none after the unsubscribe', async (t) => {
    const queue = await open(t);
    const before = makeCall();
    await queue.enqueue(before);
    const first = await recorder(queue);
    const second = await recorder(queue);
    t.teardown(second.stop);
    const during = makeCall();
    await queue.enqueue(during);
    await first.waitFor((c) => c.id === during.id);
    t.notOk(first.changes.some((c) => c.id === before.id), 'a change made before subscribing is not replayed');
    first.stop();
    const after = makeCall();
    await queue.enqueue(after);
    await second.waitFor((c) => c.id === after.id); // the change was reported to whoever still watches
    t.notOk(first.changes.some((c) => c.id === after.id), 'nothing reaches an unsubscribed watcher');
  });

  t.test('watching again after everyone left reports each change once', async (t) => {
    const queue = await open(t);
    (await recorder(queue)).stop(); // the last watcher leaves: the backend stops watching
    const again = await recorder(queue);
    t.teardown(again.stop);
    const call = makeCall();
    await queue.enqueue(call);
    await queue.cancel(call.id);
    await again.waitFor((c) => c.id === call.id && c.status === 'cancelled');
    t.same(again.changes.filter((c) => c.id === call.id).map((c) => c.status), ['queued', 'cancelled'], 'no change twice');
  });
}

t.test('sqlite', async (t) => {
  const dirs = new WeakMap<Test, string>();
  watchContract(t, async (t) => {
    let dir = dirs.get(t);
    if (dir === undefined) { dir = t.testdir(); dirs.set(t, dir); }
    const queue = await createQueue(`sqlite:${join(dir, 'queue.db')}`, { sqlite: { pollIntervalMs: 50 } });
    t.teardown(() => queue.close());
    return queue;
  });
});

t.test('jetstream', async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const names = new WeakMap<Test, string>();
  watchContract(t, async (t) => {
    let name = names.get(t);
    if (name === undefined) { name = `w${randomUUID().slice(0, 8)}`; names.set(t, name); }
    const queue = await createQueue(node.url, { jetstream: { name } });
    t.teardown(() => queue.close());
    return queue;
  });

  t.test('a value the bucket replaced at once is still reported (each stored write, not what a consumer finds left)', async (t) => {
    const name = `w${randomUUID().slice(0, 8)}`;
    const queue = await createQueue(node.url, { jetstream: { name } });
    t.teardown(() => queue.close());
    const rec = await recorder(queue);
    t.teardown(rec.stop);
    const nc = await connect({ servers: node.url });
    t.teardown(() => nc.close());
    const kv = await new Kvm(jetstream(nc)).open(jetStreamNames(name).bucket);
    // Two writes of one key sent together: the bucket keeps one value per key, so the first is gone
    // from the stream as soon as the second is stored, often before a KV watch would have delivered it.
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const call = makeCall();
      ids.push(call.id);
      const running = step.beginAttempt(newRecord(call, Date.now()), Date.now(), 0);
      const done = step.conclude(running, { statusCode: 200 }, { status: 'succeeded', result: { statusCode: 200, headers: {}, body: Buffer.from('ok') } }, true, Date.now(), 1024);
      const lease = { seq: i + 1, delivery: 1 };
      await Promise.all([running, done].map((record) => kv.put(recordKey(call.id), encodeEnvelope({ record, lease }, 1 << 20))));
    }
    await rec.waitFor((c) => c.id === ids.at(-1) && c.status === 'succeeded');
    const missed = ids.filter((id) => !rec.changes.some((c) => c.id === id && c.status === 'running'));
    t.same(missed, [], 'every running value was reported');
    t.ok(ids.every((id) => rec.changes.find((c) => c.id === id && c.status === 'succeeded')?.previous === 'running'), 'each succeeded follows its running');
  });

  t.test('a records bucket made before it republished its writes is still watched', async (t) => {
    const name = `w${randomUUID().slice(0, 8)}`;
    const nc = await connect({ servers: node.url });
    t.teardown(() => nc.close());
    await new Kvm(jetstream(nc)).create(jetStreamNames(name).bucket, { history: 1 }); // as earlier versions made it
    const queue = await createQueue(node.url, { jetstream: { name } });
    t.teardown(() => queue.close());
    const rec = await recorder(queue);
    t.teardown(rec.stop);
    const { done } = await workOne(t, queue, rec);
    t.equal(done.record?.result?.statusCode, 200, 'a later change is reported (republished, or through a KV watch)');
  });
});
