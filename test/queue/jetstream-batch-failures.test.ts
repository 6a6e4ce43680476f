// Batches on jetstream: several next() at once are served from one pull, and a failure inside the
// batch stays with the call it hit; a process killed between the steps of a batch loses nothing,
// every unsettled call comes back after ack_wait, and a call finished before the kill is not run again.

import t from 'tap';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { createQueue, type Lease, type Queue } from '../../router/queue/index.js';
import { escapeToken, jetStreamNames } from '../../router/queue/jetstream/jetstream-names.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { call } from './jetstream-workers.js';
import { fixtureArgv } from '../helpers/processes.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'jetstream-batch-then-die.ts');
const overlapFixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'jetstream-overlapping-pulls-then-die.ts');

/** Leases taken by `n` next() at once (nulls dropped), by id. Keep timeoutMs below ack_wait: a caller still waiting would get a redelivery of a lease not settled yet. */
async function batch(queue: Queue, n: number, timeoutMs: number): Promise<Lease[]> {
  const got = await Promise.all(Array.from({ length: n }, () => queue.next({ timeoutMs })));
  return got.filter((l): l is Lease => l !== null).sort((a, b) => a.request.id.localeCompare(b.request.id));
}

/** Lease, settle at once and note [id, deliveryCount] until `n` calls came back (or none for `timeoutMs`), by id. */
async function drain(queue: Queue, n: number, timeoutMs: number): Promise<Array<[string, number]>> {
  const seen: Array<[string, number]> = [];
  while (seen.length < n) {
    const lease = await queue.next({ timeoutMs });
    if (lease === null) break;
    seen.push([lease.request.id, lease.deliveryCount]);
    await settle(lease);
  }
  return seen.sort((a, b) => a[0].localeCompare(b[0]));
}

async function settle(lease: Lease): Promise<void> {
  if (lease.record.status === 'queued' || lease.record.status === 'running') {
    await lease.beginAttempt();
    await lease.finish({ status: 'succeeded', result: null });
  }
  await lease.ack();
}

t.test('batches on jetstream', { timeout: 90_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const ackWaitMs = 1_000;

  await t.test('a bad message and a cancelled call inside a batch: the other calls are leased once each', async (t) => {
    const name = 'partial';
    const queue = await createQueue(node.url, { ackWaitMs, jetstream: { name } });
    t.teardown(() => queue.close());
    for (const id of ['p1', 'p2', 'p3']) await queue.enqueue(call(id));
    await queue.cancel('p2');
    const nc = await connect({ servers: node.url });
    t.teardown(() => nc.close());
    // Not a call message (no headers): on the function's subjects, inside the same batch.
    await jetstream(nc).publish(`${jetStreamNames(name).subjects.slice(0, -1)}${escapeToken('echo.openfaas-fn')}.junk`, Buffer.from('?'));
    const leases = await batch(queue, 3, ackWaitMs / 2);
    t.same(leases.map((l) => [l.request.id, l.deliveryCount]), [['p1', 1], ['p3', 1]], 'p1 and p3 leased, each on its first delivery');
    await settle(leases[0]!); // p1 done; p3 is abandoned: its lease lapses
    t.same(await drain(queue, 1, ackWaitMs * 5), [['p3', 2]], 'only the abandoned call comes back, after ack_wait');
    t.match(await queue.get('p1'), { status: 'succeeded', attempts: [{ number: 1 }] });
    t.match(await queue.get('p2'), { status: 'cancelled', attempts: [] }, 'the cancelled call never ran');
    t.match(await queue.get('p3'), { status: 'succeeded', attempts: [{ number: 1 }] });
    t.equal(await queue.next({ timeoutMs: 500 }), null, 'nothing else: the bad message was dropped');
  });

  await t.test('a process killed between the steps of a batch: nothing is lost, nothing finished runs again', async (t) => {
    const name = 'killed';
    const queue = await createQueue(node.url, { ackWaitMs, jetstream: { name } });
    t.teardown(() => queue.close());
    for (const id of ['k1', 'k2', 'k3', 'k4']) await queue.enqueue(call(id));
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const child = spawn(process.execPath, fixtureArgv(fixture, node.url, name, String(ackWaitMs)), { env, stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const signal = await new Promise((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    t.equal(signal, 'SIGKILL', 'the process died by SIGKILL');
    const steps = Object.fromEntries(out.trim().split('\n').filter((l) => l !== 'dying').map((l) => l.split(' ').reverse()));
    t.same(steps, { k1: 'finished', k2: 'begun', k3: 'ended', k4: 'leased' }, 'it stopped each call at another step');

    t.same(await drain(queue, 3, ackWaitMs * 5), [['k2', 2], ['k3', 2], ['k4', 2]],
      'the unsettled calls come back after ack_wait; the finished one is settled without being handed out');
    t.match(await queue.get('k1'), { status: 'succeeded', attempts: [{ number: 1, statusCode: 200 }] }, 'k1 kept its one attempt');
    for (const id of ['k2', 'k3']) {
      const record = await queue.get(id);
      t.equal(record?.attempts.length, 2, `${id}: the attempt cut off by the kill and the new one`);
      t.match(record?.attempts[0]?.error, /lease/, `${id}: the first closed as a lapsed lease`);
    }
    t.match(await queue.get('k4'), { status: 'succeeded', attempts: [{ number: 1 }] }, 'k4 ran once');
    t.equal(await queue.next({ timeoutMs: 500 }), null, 'nothing left');
  });
  await t.test('next() calls that arrive while a pull is out get pulls of their own: each call leased once, first delivery', async (t) => {
    const name = 'ahead';
    const queue = await createQueue(node.url, { ackWaitMs, jetstream: { name } });
    t.teardown(() => queue.close());
    const ids = Array.from({ length: 24 }, (_, i) => `a${String(i).padStart(2, '0')}`);
    for (const id of ids) await queue.enqueue(call(id));
    const seen: Array<[string, number]> = [];
    // Six loops, each asking again as soon as it settled: their next() calls keep overlapping pulls.
    await Promise.all(Array.from({ length: 6 }, async (_, loop) => {
      await new Promise((resolve) => setTimeout(resolve, loop)); // arrive one after another
      for (;;) {
        const lease = await queue.next({ timeoutMs: ackWaitMs / 2 });
        if (lease === null) return;
        seen.push([lease.request.id, lease.deliveryCount]);
        await settle(lease);
      }
    }));
    t.same(seen.sort((a, b) => a[0].localeCompare(b[0])), ids.map((id) => [id, 1]), 'every call once, none delivered twice');
    t.equal(await queue.next({ timeoutMs: ackWaitMs * 2 }), null, 'nothing comes back');
  });

  await t.test('a process killed holding leases from overlapping pulls: they come back after ack_wait, nothing more was taken', async (t) => {
    const name = 'aheadkilled';
    const queue = await createQueue(node.url, { ackWaitMs, jetstream: { name } });
    t.teardown(() => queue.close());
    const ids = ['b1', 'b2', 'b3', 'b4'];
    for (const id of ids) await queue.enqueue(call(id));
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const child = spawn(process.execPath, fixtureArgv(overlapFixture, node.url, name, String(ackWaitMs)), { env, stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const signal = await new Promise((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    t.equal(signal, 'SIGKILL', 'the process died by SIGKILL');
    t.same(out.trim().split('\n').sort(), ['dying', 'leased b1', 'leased b2', 'leased b3'], 'it held three leases, taken by overlapping pulls');
    t.same(await drain(queue, 4, ackWaitMs * 5), [['b1', 2], ['b2', 2], ['b3', 2], ['b4', 1]],
      'the leased calls come back after ack_wait; the one never asked for was never delivered');
    for (const id of ids) t.match(await queue.get(id), { status: 'succeeded', attempts: [{ number: 1 }] }, `${id} ran once, here`);
    t.equal(await queue.next({ timeoutMs: 500 }), null, 'nothing left');
  });
});
